"""Which Boost payments count, on SQLite and PostgreSQL: the nightly pass's bulk read and the
per-person explanation (/why) agree for every state of a review, around the 30-day mark."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services.clock import ManualClock
from services.scores import ScoreService
from services.scoring_pass import ScoringPass
from storage.db import Database
from storage.models import BoostReview, Citizen, PaymentEvent, Score
from tests.support.narrowing import present

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
# One person per review state (None: an on-time payment, which has no review).
STATES: list[tuple[str, str | None, int]] = [
    ("on_time", None, 0),
    ("late", "pending", 5),  # counts from 5 days on
    ("late", "pending", 40),
    ("missed", "confirmed", 40),
    ("missed", "disputed", -10),  # past its date, but disputed: never
]


async def populate(db: Database) -> list[int]:
    ids: list[int] = []
    async with db.transaction() as session:
        for i, (outcome, status, days) in enumerate(STATES):
            citizen = Citizen(
                telegram_id=2000 + i,
                chat_id=2000 + i,
                display_name=f"B{i}",
                ni_hash=f"b{i:063d}",
                ni_masked="AB •• •• •• C",
                date_of_birth=date(1990, 1, 1),
                registered_at=START - timedelta(days=200),
            )
            session.add(citizen)
            await session.flush()
            ids.append(citizen.id)
            event = PaymentEvent(
                citizen_id=citizen.id,
                source="partner:1",
                external_id=f"rent-{i}",
                kind="rent",
                outcome=outcome,
                occurred_on=(START - timedelta(days=20)).date(),
                recorded_at=START,
            )
            session.add(event)
            await session.flush()
            if status is not None:
                session.add(
                    BoostReview(
                        payment_event_id=event.id,
                        citizen_id=citizen.id,
                        status=status,
                        counts_from=START.date() + timedelta(days=days),
                        created_at=START,
                    )
                )
    return ids


async def payment_points(db: Database) -> dict[int, int]:
    async with db.transaction() as session:
        rows = await session.execute(select(Score.citizen_id, Score.payment_history))
        return {int(citizen_id): int(present(points)) for citizen_id, points in rows.all()}


async def test_the_pass_and_why_agree_on_which_boost_payments_count(db: Database) -> None:
    ids = await populate(db)
    clock = ManualClock(START)
    scoring, scores = ScoringPass(db, clock, LONDON, roles=False), ScoreService(db, LONDON)

    async def check(expected_negative: list[bool]) -> None:
        await scoring.run()
        points = await payment_points(db)
        for i, citizen_id in enumerate(ids):
            why = await scores.explain(2000 + i)
            assert not why.pending_change, i
            assert why.result.dimension("payment_history").points == points[citizen_id], i
        assert [points[c] < 0 for c in ids] == expected_negative
        assert points[ids[0]] > 0

    # Day 0: only the confirmed missed payment takes anything away.
    await check([False, False, False, True, False])
    clock.advance(days=5)  # the first pending one is due: it counts now
    await check([False, True, False, True, False])
    clock.advance(days=60)  # every pending one counts; the disputed one still never
    await check([False, True, True, True, False])
