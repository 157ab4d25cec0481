"""Yes/no entitlement checks: the fixed list of questions a partner may ask about a citizen
instead of reading the score, and how each is answered (issue 20).

How Zhima's deposit waivers work: the partner asks "does this person qualify?" and learns one
bit. The questions:

================================  ==========================  =====================================
check                             value                       true when
================================  ==========================  =====================================
``band_at_least``                 a band name (Poor ...       the latest score's band is that band
                                  Excellent)                  or a higher one
``no_missed_payments_months``     1 ... 72                    no payment recorded as missed fell
                                                              due in the last that many months
``verified_identity``             none                        registration checked the NI number
                                                              and date of birth, and the account
                                                              is not locked after wrong NI numbers
``age_at_least``                  16 ... 120                  they are at least that old today
================================  ==========================  =====================================

``score_at_least`` is deliberately not offered: a threshold anywhere in 350-950 lets a partner
find the exact score by bisection in about ten questions, each answer a precise bit of a
number the citizen chose not to share; ``band_at_least`` covers what thresholds are used for
(the benefit tiers go by band).

Bisection of the rest is bounded by how consent works (services.sharing): one code or one
allowed request buys exactly one answer, the citizen sees every question and its answer, and
:data:`THRESHOLD_LOCK`: a partner that got an answer about a person may, for 90 days, ask that
person a check of the same kind only with the same value. So a partner learns which side of one
threshold a person's band (or age, or last missed payment) lies, never where it is.

Payment records count here as they count for the score: a disputed record, or one in a batch
held for review, is left out until it is reviewed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from scoring.bands import BAND_NAMES
from services.ages import birthday
from services.clock import as_aware_utc
from services.errors import ServiceError
from storage.models import Citizen, Score
from storage.repositories.access_requests import other_threshold_asked
from storage.repositories.checks import last_missed_payment
from storage.statuses import CheckName
from texts import checks as texts

CHECK_NAMES: Final = tuple(member.value for member in CheckName)
MIN_AGE, MAX_AGE = 16, 120
"""age_at_least's range: registration is open from 15, so 16 is the first useful question."""
MIN_MONTHS, MAX_MONTHS = 1, 72
"""no_missed_payments_months's range: six years, as long as payment records are kept."""
THRESHOLD_LOCK = timedelta(days=90)
"""After an answer, the same partner may ask the same person a check of that kind only with the
same value for this long (it may repeat the question, not move the threshold)."""


@dataclass(frozen=True)
class Check:
    """One question: ``value`` is a band name, a whole number, or None (verified_identity)."""

    name: CheckName
    value: str | int | None = None

    @property
    def stored_value(self) -> str | None:
        return None if self.value is None else str(self.value)

    @classmethod
    def from_stored(cls, name: str, value: str | None) -> Check:
        kind = CheckName(name)
        if value is None or kind is CheckName.BAND_AT_LEAST:
            return cls(kind, value)
        return cls(kind, int(value))


@dataclass(frozen=True)
class CheckAnswer:
    check: Check
    result: bool
    computed_at: datetime


class ThresholdMoved(ServiceError):
    """A check whose value differs from one the partner was answered about this person within
    THRESHOLD_LOCK (HTTP 409); the message names ``check.value`` and the date."""


@dataclass(frozen=True)
class Facts:
    """What the checks are answered from, read in the transaction that answers them."""

    band: str
    born: date
    today: date
    last_missed_on: date | None
    borrowing_locked: bool
    """Three wrong NI numbers in a row at a loan's confirmation: someone else may hold the
    phone, so the identity is not vouched for while the lock lasts."""


def months_before(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier (the month's last day if it is short)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, candidate)
        except ValueError:
            continue
    raise AssertionError("every month has a 28th")


def evaluate(check: Check, facts: Facts) -> bool:
    """The answer; pure, so every rule is tested without a database."""
    if check.name is CheckName.BAND_AT_LEAST:
        return BAND_NAMES.index(facts.band) >= BAND_NAMES.index(str(check.value))
    if check.name is CheckName.NO_MISSED_PAYMENTS_MONTHS:
        assert isinstance(check.value, int)
        since = months_before(facts.today, check.value)
        return facts.last_missed_on is None or facts.last_missed_on < since
    if check.name is CheckName.VERIFIED_IDENTITY:
        # Finishing registration is the verification (NI number checked, date of birth given,
        # age confirmed), as the score's account-standing part counts it.
        return not facts.borrowing_locked
    assert isinstance(check.value, int)
    return birthday(facts.born, check.value) <= facts.today


async def facts_for(
    session: AsyncSession, citizen_id: int, now: datetime, timezone: ZoneInfo
) -> Facts:
    citizen = await session.get(Citizen, citizen_id)
    score = await session.get(Score, citizen_id)
    assert citizen is not None and score is not None
    locked = citizen.borrowing_locked_until
    return Facts(
        band=score.band,
        born=citizen.date_of_birth,
        # Birthdays and months turn over at UK midnight, not UTC's.
        today=now.astimezone(timezone).date(),
        last_missed_on=await last_missed_payment(session, citizen_id),
        borrowing_locked=locked is not None and as_aware_utc(locked) > now,
    )


async def check_threshold(
    session: AsyncSession, partner_id: int, citizen_id: int, check: Check, now: datetime
) -> None:
    """Refuse (ThresholdMoved) a check whose value differs from one this partner was answered
    about this person in the last THRESHOLD_LOCK: moving the threshold is how bisection works."""
    earlier = await other_threshold_asked(
        session, partner_id, citizen_id, check.name, check.stored_value, now - THRESHOLD_LOCK
    )
    if earlier is not None:
        value, at = earlier
        until = (as_aware_utc(at) + THRESHOLD_LOCK).strftime("%Y-%m-%dT%H:%M:%SZ")
        raise ThresholdMoved(texts.threshold_locked(check.name, value, until))
