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
