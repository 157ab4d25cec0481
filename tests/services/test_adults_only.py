"""Credit is for adults (issue 16): a 15-17-year-old can't borrow, by any path, until the day
they turn 18; they are told exactly when it unlocks."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import update

from services.ages import birthday, credit_from
from services.clock import ManualClock
from services.loans import LoanService, NotEligible, Refusal
from services.scores import ScoreService
from storage.db import Database
from storage.models import Citizen
from tests.services.test_loans import LONDON, NOW, citizen_with_score


async def born_on(db: Database, citizen_id: int, born: date) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(Citizen).where(Citizen.id == citizen_id).values(date_of_birth=born)
        )


def test_the_18th_birthday_and_a_leap_day() -> None:
    assert birthday(date(2010, 3, 14), 18) == date(2028, 3, 14)
    assert birthday(date(2008, 2, 29), 18) == date(2026, 3, 1)  # 2026 has no 29 February
    assert birthday(date(2008, 2, 29), 16) == date(2024, 2, 29)
    assert credit_from(date(2010, 3, 14), date(2028, 3, 13)) == date(2028, 3, 14)
    assert credit_from(date(2010, 3, 14), date(2028, 3, 14)) is None  # adult on the day


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)), st.dates())
def test_credit_unlocks_exactly_on_the_18th_birthday(born: date, today: date) -> None:
    unlocks = credit_from(born, today)
    adult_on = birthday(born, 18)
    assert (unlocks is None) == (today >= adult_on)
    assert unlocks is None or unlocks == adult_on


async def test_a_16_year_old_cannot_borrow_by_any_path_until_their_birthday(
    db: Database,
) -> None:
    clock = ManualClock(NOW)  # 21 Nov 2026
    loans = LoanService(db, clock, LONDON)
    citizen_id = await citizen_with_score(db, 1, 700, "Very good")
    await born_on(db, citizen_id, date(2010, 3, 14))
    eligibility = await loans.eligibility(1)
    assert not eligibility.can_borrow
    assert eligibility.refusal is Refusal.UNDER_18
    assert eligibility.credit_from == date(2028, 3, 14)
    assert eligibility.amount_choices == ()
    # Straight to the service, past the conversation: refused all the same.
    with pytest.raises(NotEligible, match="14 Mar 2028"):
        await loans.confirm(1, 5_000, 3, "a-key")
    assert await loans.loans(1) == []
    benefits = await ScoreService(db, LONDON, clock=clock).benefits(1)
    assert benefits.credit_from == date(2028, 3, 14)
    # On the morning of the 18th birthday (UK time), it unlocks.
    clock.now = NOW.replace(year=2028, month=3, day=14, hour=0, minute=30)
    assert (await loans.eligibility(1)).can_borrow
    assert (await loans.confirm(1, 5_000, 3, "a-key")).principal_pence == 5_000
