"""Borrowing feeds the commitments part of the score, the same way in the pass and in /why."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select

from services.clock import ManualClock
from services.commitments import limits_for
from services.loans import LoanService
from services.scores import ScoreService
from services.scoring_pass import ScoringPass
from storage.db import Database
from storage.models import Citizen, Instalment, Score

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


async def test_owing_and_defaulting_lower_commitments_and_why_agrees(db: Database) -> None:
    async with db.transaction() as session:
        citizen = Citizen(
            telegram_id=1, chat_id=1, display_name="B", ni_hash="1" * 64, ni_masked="x",
            date_of_birth=date(1990, 1, 1), registered_at=START,
        )  # fmt: skip
        session.add(citizen)
        await session.flush()
        session.add(Score(citizen_id=citizen.id, score=620, band="Good", computed_at=START))
    clock = ManualClock(START)
    await LoanService(db, clock, LONDON).confirm(1, 12_000, 3, "k")
    scoring = ScoringPass(db, clock, LONDON)
    await scoring.run()
    async with db.transaction() as session:
        owing = await session.scalar(select(Score.commitments))
    assert owing is not None and owing < 0  # owing most of a £150 limit
    explanation = await ScoreService(db, LONDON).explain(1)
    assert not explanation.pending_change
    assert explanation.result.dimension("commitments").points == owing

    # Two months later, the first instalment is more than 30 days overdue: in default.
    clock.now = datetime(2027, 2, 1, 12, 0, tzinfo=UTC)
    await scoring.run()
    async with db.transaction() as session:
        defaulted = await session.scalar(select(Score.commitments))
        assert await session.scalar(select(Instalment.paid_at)) is None
    assert defaulted is not None and defaulted < owing
    explanation = await ScoreService(db, LONDON).explain(1)
    assert explanation.result.dimension("commitments").points == defaulted


def test_limits_follow_the_previous_band() -> None:
    limits = limits_for(np.array([np.nan, 400.0, 620.0, 720.0]))
    assert limits.tolist() == [15_000, 0, 15_000, 50_000]


async def _pay_on(loans: LoanService, clock: ManualClock, day: date, charge: str) -> None:
    """Pay the next instalment through the invoice path on `day` (midday in London)."""
    clock.now = datetime(day.year, day.month, day.day, 12, 0, tzinfo=LONDON).astimezone(UTC)
    [loan] = await loans.loans(1)
    due = loan.next_due
    assert due is not None
    offer = await loans.offer_invoice(1, due.id)
    amount = offer.instalment.payable_pence
    await loans.check_checkout(1, offer.payload, amount)
    result = await loans.record_payment(1, offer.payload, amount, charge)
    assert result is not None and due.id in result.completed


async def _score_after_pass(db: Database, scoring: ScoringPass, clock: ManualClock) -> int:
    clock.advance(days=1)
    await scoring.run()
    async with db.transaction() as session:
        value = await session.scalar(select(Score.score))
    assert value is not None
    return value


async def test_repaying_in_full_on_time_raises_the_score(db: Database) -> None:
    """Issue 16: paying off in full lost the points for owing 34% of the limit (613 -> 610).
    Owing nothing after repaying scores at least as well as owing a little, and the on-time
    payments add to it: the score after repaying is higher than before."""
    async with db.transaction() as session:
        citizen = Citizen(
            telegram_id=1, chat_id=1, display_name="B", ni_hash="1" * 64, ni_masked="x",
            date_of_birth=date(1990, 1, 1), registered_at=START,
        )  # fmt: skip
        session.add(citizen)
        await session.flush()
        session.add(Score(citizen_id=citizen.id, score=620, band="Good", computed_at=START))
    clock = ManualClock(START)
    loans = LoanService(db, clock, LONDON)
    loan = await loans.confirm(1, 5_000, 3, "k")
    scoring = ScoringPass(db, clock, LONDON)
    borrowed = await _score_after_pass(db, scoring, clock)
    first, second, last = (i.due_on for i in loan.instalments)
    await _pay_on(loans, clock, first, "c1")
    await _pay_on(loans, clock, second, "c2")
    before = await _score_after_pass(db, scoring, clock)
    async with db.transaction() as session:
        owing = await session.scalar(select(Score.commitments))
    assert owing is not None and owing > 0  # owing a little of the limit scores points
    await _pay_on(loans, clock, last, "c3")
    [repaid] = await loans.loans(1)
    assert repaid.repaid
    after = await _score_after_pass(db, scoring, clock)
    async with db.transaction() as session:
        nothing_owed = await session.scalar(select(Score.commitments))
    assert nothing_owed is not None and nothing_owed >= owing
    assert borrowed < before < after
    explanation = await ScoreService(db, LONDON).explain(1)
    assert explanation.result.dimension("commitments").points == nothing_owed
    assert any(
        "repaid in full" in reason for reason in explanation.result.dimension("commitments").reasons
    )
