"""ScoreService on SQLite and PostgreSQL: /why's explanation agrees with what the nightly pass
stored and says when newer activity is waiting; history is capped and ordered; benefits come
from the tiers data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from services.clock import ManualClock
from services.scores import (
    HISTORY_LIMIT,
    NotRegistered,
    ScoreService,
    account_age_days,
    record_starting_score,
)
from services.scoring_pass import ScoringPass
from storage.db import Database
from storage.models import Citizen, Friendship, Score, ScoreHistory
from storage.models import PaymentEvent as PaymentRow

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def add_citizen(db: Database, telegram_id: int, registered_at: datetime = START) -> int:
    async with db.transaction() as session:
        citizen = Citizen(
            telegram_id=telegram_id,
            chat_id=telegram_id,
            display_name=f"P{telegram_id}",
            ni_hash=f"{telegram_id:064d}",
            ni_masked="AB •• •• •• C",
            date_of_birth=date(1990, 1, 1),
            registered_at=registered_at,
        )
        session.add(citizen)
        await session.flush()
        await record_starting_score(session, citizen.id, registered_at)
        return citizen.id


async def add_payment(
    db: Database, citizen_id: int, due_on: date, outcome: str, *, disputed: bool = False
) -> None:
    async with db.transaction() as session:
        count = len((await session.scalars(select(PaymentRow.id))).all())
        session.add(
            PaymentRow(
                citizen_id=citizen_id,
                source="partner:test",
                external_id=f"e{count}",
                kind="bill",
                outcome=outcome,
                occurred_on=due_on,
                disputed=disputed,
                recorded_at=START,
            )
        )


async def test_a_starting_score_is_explained_as_of_its_local_day(db: Database) -> None:
    # 23:30 UTC on 30 June is already 1 July in London (BST).
    late_evening = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    await add_citizen(db, 1, registered_at=late_evening)
    explanation = await ScoreService(db, LONDON).explain(1)
    assert explanation.starting
    assert explanation.result.as_of == date(2026, 7, 1)
    assert explanation.score == explanation.result.score == 600
    assert not explanation.pending_change
    assert explanation.result.dimension("account_standing").points == 20
    assert 1 <= len(explanation.result.tips) <= 3
    assert explanation.friend_influence_cap == 30


async def test_after_a_pass_the_explanation_matches_the_stored_score(db: Database) -> None:
    alice = await add_citizen(db, 1)
    await add_payment(db, alice, START.date() - timedelta(days=10), "on_time")
    await add_payment(db, alice, START.date() - timedelta(days=40), "late")
    # Disputed events wait for review and count for nothing, here as in the pass.
    await add_payment(db, alice, START.date() - timedelta(days=5), "missed", disputed=True)
    await ScoringPass(db, ManualClock(START + timedelta(days=1)), LONDON).run()

    explanation = await ScoreService(db, LONDON).explain(1)
    async with db.transaction() as session:
        row = await session.get(Score, alice)
    assert row is not None
    assert not explanation.starting
    assert not explanation.pending_change
    assert explanation.score == row.score == explanation.result.score
    assert explanation.result.as_of == row.as_of
    for dimension in explanation.result.dimensions:
        assert getattr(row, dimension.key) == dimension.points
    reasons = " ".join(explanation.result.dimension("payment_history").reasons)
    assert "paid on time" in reasons and "paid late" in reasons
    assert "missed" not in reasons


async def test_activity_since_the_pass_is_flagged_and_the_stored_score_kept(
    db: Database,
) -> None:
    alice = await add_citizen(db, 1)
    await add_payment(db, alice, START.date() - timedelta(days=10), "on_time")
    await ScoringPass(db, ManualClock(START + timedelta(days=1)), LONDON).run()
    service = ScoreService(db, LONDON)
    before = await service.explain(1)
    assert not before.pending_change

    await add_payment(db, alice, START.date(), "missed")
    after = await service.explain(1)
    assert after.pending_change
    assert after.score == before.score, "the stored score is what counts until the next pass"
    assert after.result.score == before.score - 45
    assert any("missed" in reason for reason in after.result.reasons_down)


async def test_friends_are_explained_from_the_features_the_pass_stored(db: Database) -> None:
    ids = [await add_citizen(db, telegram_id) for telegram_id in (1, 2, 3)]
    await add_payment(db, ids[1], START.date() - timedelta(days=3), "on_time")
    async with db.transaction() as session:
        for low, high in ((ids[0], ids[1]), (ids[0], ids[2])):
            session.add(
                Friendship(
                    low_id=low, high_id=high, requester_id=low, status="accepted",
                    created_at=START,
                )
            )  # fmt: skip
    clock = ManualClock(START + timedelta(days=1))
    scoring = ScoringPass(db, clock, LONDON)
    await scoring.run()
    clock.advance(days=1)
    await scoring.run()  # now friends have previous scores, so their mean counts

    explanation = await ScoreService(db, LONDON).explain(1)
    assert not explanation.pending_change
    connections = explanation.result.dimension("connections")
    assert any("Your 2 friends average" in reason for reason in connections.reasons)
    assert connections.max_points == explanation.friend_influence_cap


async def test_membership_is_counted_like_the_pass_so_day_boundaries_agree(db: Database) -> None:
    # Both count calendar days from the registration date (28 here, the first day membership
    # earns a point); if they counted differently /why would show a false "new activity" note.
    alice = await add_citizen(db, 1)
    await ScoringPass(db, ManualClock(START + timedelta(days=28)), LONDON).run()
    assert account_age_days(START, START.date() + timedelta(days=28)) == 28
    explanation = await ScoreService(db, LONDON).explain(1)
    assert not explanation.pending_change
    async with db.transaction() as session:
        row = await session.get(Score, alice)
    assert row is not None
    assert row.account_standing == explanation.result.dimension("account_standing").points


async def test_history_keeps_the_newest_points_oldest_first(db: Database) -> None:
    alice = await add_citizen(db, 1)
    service = ScoreService(db, LONDON)
    single = await service.history(1)
    assert [p.score for p in single.points] == [600]
    assert not single.chartable and not single.truncated

    async with db.transaction() as session:
        for day in range(1, HISTORY_LIMIT + 10):
            session.add(
                ScoreHistory(
                    citizen_id=alice,
                    score=600 + day % 40,
                    band="Good",
                    computed_at=START + timedelta(days=day),
                )
            )
    history = await service.history(1)
    assert len(history.points) == HISTORY_LIMIT
    assert history.truncated and history.chartable
    moments = [p.computed_at for p in history.points]
    assert moments == sorted(moments)
    assert history.latest is not None
    assert history.latest.computed_at == START + timedelta(days=HISTORY_LIMIT + 9)
    assert (await service.history_chart(history)).startswith(PNG_SIGNATURE)


async def test_benefits_come_from_the_tiers(db: Database) -> None:
    await add_citizen(db, 1)
    service = ScoreService(db, LONDON)
    good = await service.benefits(1)
    assert (good.tier.title, good.points_to_next) == ("Silver", 50)
    assert good.next_tier is not None and good.next_tier.title == "Gold"
    assert "Britizen loans up to £300." in good.next_adds
    assert not set(good.next_adds) & set(good.tier.benefits)

    async with db.transaction() as session:
        await session.execute(update(Score).values(score=950, band="Excellent"))
    top = await service.benefits(1)
    assert top.tier.title == "Platinum"
    assert top.next_tier is None and top.points_to_next is None and top.next_adds == ()


@pytest.mark.parametrize("method", ["explain", "history", "benefits"])
async def test_someone_without_an_account_is_not_registered(db: Database, method: str) -> None:
    with pytest.raises(NotRegistered):
        await getattr(ScoreService(db, LONDON), method)(404)


def test_the_compare_chart_draws_negative_parts() -> None:
    from services.charts import comparison_png

    png = comparison_png(
        "You", "Sam", [("Payment history", -40, 120, 210), ("Community", 0, 5, 30)]
    )
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
