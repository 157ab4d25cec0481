"""Early repayment: what an instalment, or the whole loan, costs when it is paid before it is due.
Pure functions, integer pence.

The rule (documented for borrowers in /loans, the quote and the receipt). The Consumer Credit
(Early Settlement) Regulations 2004, reg. 4, value every repayment that is paid before its date
at the settlement date, discounted at the APR for the time it is paid early:

    A / (1 + APR) ** t        t = the time from the settlement date to the repayment's due
                              date, in years

and the rebate is the difference from the repayments as scheduled. We apply exactly that formula,
with two choices that are never worse for the borrower than the Regulations allow:

* the settlement date is the day the money is paid: no 28-day (or one-month) deferral;
* t counts days as 365ths of a year, even in a leap year (more discount, not less), and each
  instalment's price is rounded *down* to the penny.

It applies to every instalment paid early, one at a time ("in part") or all together ("in
full"): settling in full is paying every remaining instalment today at its early price, so the
two always agree to the penny. An instalment paid on or after its due date costs its amount (and
any late fee: a late fee is never discounted).

Worked example (tests/services/test_settlement.py checks it): £100 over 6 months at 19.9% a
year (APR 21.82%), taken 21 Nov 2026; instalments £17.65 x 5 and £17.63 on the 21st of each month
from Dec 2026, £105.88 in all. Settled on 21 Dec 2026 with the first instalment paid that day
(£17.65), the other five are 31, 62, 90, 121 and 151 days early and cost
17.65 / 1.218192**(31/365) = £17.35 (17.3566 rounded down), £17.06, £16.81, £16.53 and
17.63 / 1.218192**(151/365) = £16.24: £83.99, so £101.64 in all instead of £105.88, £4.24 of
interest saved. (Keeping £100 for a month at 19.9% a year costs £1.66: £101.66.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal

from services.loan_terms import LoanQuote, apr_for

DAYS_A_YEAR = 365


def loan_apr(annual_rate_bp: int) -> Decimal:
    """The exact APR of a loan from its stored nominal rate (the stored APR is rounded)."""
    return apr_for(Decimal(annual_rate_bp) / 10_000)


def early_price(amount_pence: int, due_on: date, paid_on: date, apr: Decimal) -> int:
    """What an instalment of `amount_pence` due on `due_on` costs if paid on `paid_on`: its
    amount discounted at the APR for the days it is early, rounded down; in full if not early."""
    if amount_pence < 0:
        raise ValueError("an instalment can't be negative")
    if apr < 0:
        raise ValueError("the APR can't be negative")
    days = (due_on - paid_on).days
    if days <= 0 or amount_pence == 0:
        return amount_pence
    factor = (1 + apr) ** (Decimal(-days) / DAYS_A_YEAR)
    price = int((Decimal(amount_pence) * factor).to_integral_value(ROUND_FLOOR))
    return min(amount_pence, max(0, price))


def early_rebate(amount_pence: int, due_on: date, paid_on: date, apr: Decimal) -> int:
    """The interest saved by paying that instalment on `paid_on` (0 unless it is early)."""
    return amount_pence - early_price(amount_pence, due_on, paid_on, apr)


@dataclass(frozen=True)
class Due:
    """An unpaid instalment: its scheduled amount and date."""

    amount_pence: int
    due_on: date


@dataclass(frozen=True)
class Settlement:
    """Paying every remaining instalment on one day."""

    scheduled_pence: int
    """What the remaining instalments cost as scheduled."""
    settle_pence: int
    """What they cost paid that day."""

    @property
    def rebate_pence(self) -> int:
        return self.scheduled_pence - self.settle_pence


def settlement(remaining: Sequence[Due], paid_on: date, apr: Decimal) -> Settlement:
    """Settle in full on `paid_on`: each remaining instalment at its early price."""
    return Settlement(
        sum(d.amount_pence for d in remaining),
        sum(early_price(d.amount_pence, d.due_on, paid_on, apr) for d in remaining),
    )


@dataclass(frozen=True)
class SettleExample:
    """For the quote: pay the first `months` instalments on their dates, then settle the rest on
    the last of those dates."""

    months: int
    on: date
    total_pence: int
    """Everything paid, instalments and settlement."""
    saving_pence: int
    """Less than the total repayable, all of it interest."""


def settle_after(q: LoanQuote, months: int) -> SettleExample:
    """What the loan costs in all if it is settled on the date of instalment `months`."""
    if not 1 <= months <= q.term_months:
        raise ValueError("months must be within the term")
    on = q.instalments[months - 1].due_on
    paid = sum(i.amount_pence for i in q.instalments[:months])
    rest = settlement([Due(i.amount_pence, i.due_on) for i in q.instalments[months:]], on, q.apr)
    total = paid + rest.settle_pence
    return SettleExample(months, on, total, q.total_repayable_pence - total)
