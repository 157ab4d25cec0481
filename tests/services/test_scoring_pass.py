"""The nightly scoring pass on SQLite and PostgreSQL: same numbers as the per-person model,
atomic, one at a time, history appended, band changes queued once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import networkx as nx
import pytest
from sqlalchemy import func, select

from scoring.graph import features_networkx
from scoring.model import (
    CitizenInputs,
    GraphFeatures,
    Outcome,
    PaymentEvent,
    score,
)
from services.clock import ManualClock, as_aware_utc
from services.scoring_pass import PassAlreadyRunning, ScoringPass
from storage.db import Database
from storage.locks import job_lock
from storage.models import Citizen, Friendship, OutboxMessage, Score, ScoreHistory
from storage.models import PaymentEvent as PaymentRow
from tests.support.narrowing import present

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
# (citizen index, days before the pass, outcome)
EVENTS = [
    (0, 10, "on_time"),
    (0, 40, "on_time"),
    (0, 400, "late"),
    (1, 5, "missed"),
    (2, 90, "on_time"),
]
FRIENDS = [(0, 1), (1, 2), (0, 2), (2, 3)]


async def populate(db: Database, n: int = 5) -> list[int]:
    ids: list[int] = []
    async with db.transaction() as session:
        for i in range(n):
            citizen = Citizen(
                telegram_id=1000 + i,
                chat_id=1000 + i,
                display_name=f"P{i}",
                ni_hash=f"{i:064d}",
                ni_masked="AB •• •• •• C",
                date_of_birth=date(1990, 1, 1),
                registered_at=START - timedelta(days=100 * (i + 1)),
            )
            session.add(citizen)
            await session.flush()
            ids.append(citizen.id)
        for who, days, outcome in (e for e in EVENTS if e[0] < n):
            session.add(
                PaymentRow(
                    citizen_id=ids[who],
                    source="partner:test",
                    external_id=f"e{who}-{days}",
                    kind="bill",
                    outcome=outcome,
                    occurred_on=(START - timedelta(days=days)).date(),
                    recorded_at=START,
                )
            )
        for a, b in (pair for pair in FRIENDS if max(pair) < n):
            session.add(
                Friendship(
                    low_id=ids[a], high_id=ids[b], requester_id=ids[a], status="accepted",
                    created_at=START,
                )
            )  # fmt: skip
        # A pending request is not a friendship and must not count.
        if n < 5:
            return ids
        session.add(
            Friendship(
                low_id=ids[3], high_id=ids[4], requester_id=ids[3], status="pending",
                created_at=START,
            )
        )  # fmt: skip
    return ids


async def stored_scores(db: Database) -> dict[int, int]:
    async with db.transaction() as session:
        result = await session.execute(select(Score.citizen_id, Score.score))
        return {int(citizen_id): int(value) for citizen_id, value in result.all()}


async def test_pass_matches_the_per_person_model_and_networkx(db: Database) -> None:
    ids = await populate(db)
    summary = await ScoringPass(db, ManualClock(START), LONDON).run()
    assert summary.users == 5
    assert summary.friendships == len(FRIENDS)

    graph = nx.Graph()
    graph.add_nodes_from(range(5))
    graph.add_edges_from(FRIENDS)
    oracle = features_networkx(graph)
    as_of = START.astimezone(LONDON).date()
    scores = await stored_scores(db)
    async with db.transaction() as session:
        rows = {row.citizen_id: row for row in (await session.scalars(select(Score))).all()}
    for i, citizen_id in enumerate(ids):
        friends = [b if a == i else a for a, b in FRIENDS if i in (a, b)]
        expected = score(
            CitizenInputs(
                verified=True,
                registered_on=(START - timedelta(days=100 * (i + 1))).date(),
                payments=tuple(
                    PaymentEvent(due_on=(START - timedelta(days=d)).date(), outcome=Outcome(o))
                    for who, d, o in EVENTS
                    if who == i
                ),
                graph=GraphFeatures(
                    friend_count=len(friends),
                    # No previous scores on a first pass: friends' mean is unknown.
                    friends_mean_score=None,
                    pagerank=oracle[i][0],
                    effective_size=oracle[i][1],
                ),
            ),
            as_of=as_of,
        )
        assert scores[citizen_id] == expected.score, f"citizen {i}"
        row = rows[citizen_id]
        assert row.payment_history == expected.dimension("payment_history").points
        assert row.connections == expected.dimension("connections").points
        assert row.pagerank == pytest.approx(oracle[i][0], abs=1e-6)
        assert row.effective_size == pytest.approx(oracle[i][1], abs=1e-6)
        assert row.friend_count == len(friends)


async def test_history_is_kept_on_change_and_weekly_and_previous_scores_recorded(
    db: Database,
) -> None:
    """services.score_history's rule: a row when the score or a dimension changed, else one a
    week; every unchanged row is left alone by the pass (not rewritten)."""
    await populate(db)
    clock = ManualClock(START)
    scoring = ScoringPass(db, clock, LONDON)
    first = await scoring.run()
    assert first.rewritten == 5  # starting scores: every row gets its first breakdown

    async def snapshot() -> dict[int, tuple[object, ...]]:
        async with db.transaction() as session:
            rows = (await session.scalars(select(Score))).all()
            # As people see them: dimensions' points, friends' mean to the point, reach and
            # effective size to one decimal, role; then previous score and time written.
            return {
                r.citizen_id: (r.score, r.payment_history, r.commitments, r.account_standing,
                               r.community, r.connections, r.friend_count,
                               round(r.friends_mean_score or -1),
                               round((r.pagerank or 0) * 10), round((r.effective_size or 0) * 10),
                               r.network_role, r.previous_score, r.computed_at)
                for r in rows
            }  # fmt: skip

    async def history_counts() -> dict[int, int]:
        async with db.transaction() as session:
            result = await session.execute(
                select(ScoreHistory.citizen_id, func.count()).group_by(ScoreHistory.citizen_id)
            )
            return {int(c): int(n) for c, n in result.all()}

    # The registration's starting row is not in this fixture: each person has the first pass's.
    assert await history_counts() == {citizen_id: 1 for citizen_id in await stored_scores(db)}
    confirmed = 0
    for _ in range(3):
        before, counts_before = await snapshot(), await history_counts()
        clock.advance(days=1)
        summary = await scoring.run()
        after, counts = await snapshot(), await history_counts()
        measured = {c for c in after if after[c][:6] != before[c][:6]}
        shown = {c for c in after if after[c][:11] != before[c][:11]}
        for citizen_id in after:
            assert counts[citizen_id] == counts_before[citizen_id] + (citizen_id in measured)
            settled = before[citizen_id][11] == before[citizen_id][0]
            if citizen_id not in shown and settled:  # confirmed: the row was not rewritten
                assert after[citizen_id][12] == before[citizen_id][12]
                confirmed += 1
        assert summary.rewritten == sum(after[c][12] != before[c][12] for c in after)
    assert confirmed > 0
    async with db.transaction() as session:
        previous = (await session.scalars(select(Score.previous_score))).all()
    assert all(p is not None for p in previous)

    # A week on, even an unchanged score has a newer history row than a week old.
    for _ in range(5):
        clock.advance(days=1)
        await scoring.run()
    async with db.transaction() as session:
        newest = await session.execute(
            select(ScoreHistory.citizen_id, func.max(ScoreHistory.computed_at)).group_by(
                ScoreHistory.citizen_id
            )
        )
        for _citizen_id, moment in newest.all():
            assert clock() - as_aware_utc(moment) <= timedelta(days=7)


async def test_an_interrupted_pass_leaves_the_previous_scores(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await populate(db)
    clock = ManualClock(START)
    await ScoringPass(db, clock, LONDON).run()
    before = await stored_scores(db)
    async with db.transaction() as session:
        history_before = await session.scalar(select(func.count()).select_from(ScoreHistory))
        # A year of missed bills would move everyone's score if the pass completed.
        for citizen_id in before:
            for k in range(6):
                session.add(
                    PaymentRow(
                        citizen_id=citizen_id, source="partner:test",
                        external_id=f"m{citizen_id}-{k}", kind="bill", outcome="missed",
                        occurred_on=(START - timedelta(days=k)).date(), recorded_at=START,
                    )
                )  # fmt: skip

    import services.scoring_pass as module

    real_write = module.write_via_staging

    async def write_then_die(db: Database, **kwargs: object) -> None:
        statements = list(kwargs.pop("statements"))  # type: ignore[call-overload]
        statements.append("INSERT INTO no_such_table VALUES (1)")  # dies after the upsert ran
        await real_write(db, statements=statements, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(module, "write_via_staging", write_then_die)
    clock.advance(days=1)
    with pytest.raises(Exception, match="no_such_table"):
        await ScoringPass(db, clock, LONDON).run()
    assert await stored_scores(db) == before
    async with db.transaction() as session:
        assert (
            await session.scalar(select(func.count()).select_from(ScoreHistory)) == history_before
        )

    monkeypatch.undo()
    await ScoringPass(db, clock, LONDON).run()  # the rerun completes
    assert await stored_scores(db) != before


async def test_only_one_pass_runs_at_a_time(db: Database) -> None:
    await populate(db, n=2)
    scoring = ScoringPass(db, ManualClock(START), LONDON)
    async with job_lock(db, "scoring") as held:
        assert held
        with pytest.raises(PassAlreadyRunning):
            await scoring.run()
    assert (await scoring.run()).users == 2


async def test_a_band_change_queues_exactly_one_message(db: Database) -> None:
    ids = await populate(db, n=2)
    clock = ManualClock(START)
    scoring = ScoringPass(db, clock, LONDON)
    await scoring.run()  # first pass: from the placeholder-free state, nobody is "changed"
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        for k in range(8):
            session.add(
                PaymentRow(
                    citizen_id=ids[1], source="partner:test", external_id=f"x{k}", kind="bill",
                    outcome="missed", occurred_on=(START - timedelta(days=k)).date(),
                    recorded_at=START,
                )
            )  # fmt: skip
    clock.advance(days=1)
    summary = await scoring.run()
    clock.advance(days=1)
    await scoring.run()  # same band again: no second message
    async with db.transaction() as session:
        messages = (await session.scalars(select(OutboxMessage))).all()
    assert summary.band_changes == 1
    assert len(messages) == 1
    assert messages[0].citizen_id == ids[1]
    assert messages[0].kind == "score_alert"
    assert "→" in present(messages[0].text) and "/why" in present(messages[0].text)
