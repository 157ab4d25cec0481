"""What makes a partner's payment event plausible. Pure functions; services.events applies them.

Two rules (README, "Partners: payment events"):

- **Dates.** An event must have happened within the last six years (the period a UK credit file
  keeps a payment record) and not in the future; a day's grace allows for partners in other
  time zones. Anything else is refused with a 422 naming the field.
- **Volume.** A real account produces one bill or instalment a month. A partner may hold a few
  accounts for one person (electricity and gas, a second property), so per partner, person,
  kind and calendar month (of ``occurred_on``) at most :data:`MONTHLY_LIMIT` events count,
  those already received from that partner included. A request that would take any month
  beyond that for a person is a burst: *all* of that request's events about that person are
  held for review, out of scoring until an admin releases them (``britizen events release``).

The volume rule is worked out on the NI number's hash, the same for people registered or not,
so a held answer says nothing about whether the person has an account.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta

YEARS_KEPT = 6
FUTURE_GRACE = timedelta(days=1)
MONTHLY_LIMIT = 3

MonthKey = tuple[str, int, int]
"""(kind, year, month) of an event's occurred_on."""


def earliest_date(today: date) -> date:
    """The oldest date accepted: the same day six years ago (28 February for a 29th)."""
    try:
        return today.replace(year=today.year - YEARS_KEPT)
    except ValueError:
        return today.replace(year=today.year - YEARS_KEPT, day=28)


def latest_date(today: date) -> date:
    return today + FUTURE_GRACE


def month_key(kind: str, occurred_on: date) -> MonthKey:
    return (kind, occurred_on.year, occurred_on.month)


def is_burst(existing: Counter[MonthKey], new: Iterable[tuple[str, date]]) -> bool:
    """Whether these new events about one person from one partner, on top of what that partner
    already sent about them (``existing``, counted by month_key), take any kind's month over
    :data:`MONTHLY_LIMIT`."""
    total = Counter(existing)
    total.update(month_key(kind, occurred_on) for kind, occurred_on in new)
    return any(count > MONTHLY_LIMIT for count in total.values())
