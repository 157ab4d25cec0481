"""Score history that lasts, on SQLite and PostgreSQL: the chunked pass resumes exactly once,
unchanged rows carry the newest pass's date, the retention rule deletes (PostgreSQL: drops
whole months) and partitions are kept ready ahead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

import services.scoring_pass as scoring_module
from scoring.bands import band_for
from services.clock import ManualClock, as_aware_utc
from services.score_history import (
    HISTORY_KEEP_MONTHS,
    ScoreHistoryService,
    effective_stamp,
    retention_cutoff,
)
from services.scores import ScoreService
from services.scoring_pass import ScoringPass
from storage.db import Database
from storage.models import OutboxMessage, PaymentEvent, Score, ScoreHistory, ScoringRun
from storage.repositories.score_history import PassStamp, partition_months
from tests.services.test_scoring_pass import LONDON, START, populate, stored_scores


def band_of(score: int) -> str:
    return band_for(score).name


async def _counts(db: Database) -> tuple[int, int, dict[int, int | None]]:
    async with db.transaction() as session:
        history = await session.scalar(select(func.count()).select_from(ScoreHistory))
        alerts = await session.scalar(select(func.count()).select_from(OutboxMessage))
        previous = dict(
            (await session.execute(select(Score.citizen_id, Score.previous_score))).all()
        )
    return int(history or 0), int(alerts or 0), previous


async def _sink_everyone(db: Database, ids: list[int]) -> None:
    """A year of missed bills for everyone: every score and band moves at the next pass."""
    async with db.transaction() as session:
        for citizen_id in ids:
            for k in range(8):
                session.add(
                    PaymentEvent(
                        citizen_id=citizen_id, source="partner:test",
                        external_id=f"m{citizen_id}-{k}", kind="bill", outcome="missed",
                        occurred_on=(START - timedelta(days=k)).date(), recorded_at=START,
                    )
                )  # fmt: skip


async def test_a_pass_that_dies_between_chunks_resumes_and_writes_everything_once(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await populate(db)
    clock = ManualClock(START)
    await ScoringPass(db, clock, LONDON).run()
    before = await stored_scores(db)
    history_before, alerts_before, _ = await _counts(db)
    await _sink_everyone(db, ids)

    # Two rows a chunk; the third chunk's write dies (a crash, a restart, a lost connection).
    monkeypatch.setattr(scoring_module, "CHUNK_ROWS", 2)
    real_write = scoring_module.write_via_staging
    writes = 0

    async def die_on_third(db: Database, **kwargs: object) -> None:
        nonlocal writes
        writes += 1
        if writes == 3:
            raise ConnectionError("the database went away")
        await real_write(db, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(scoring_module, "write_via_staging", die_on_third)
    clock.advance(days=1)
    progress: list[str] = []
    with pytest.raises(ConnectionError):
        await ScoringPass(db, clock, LONDON).run(progress=progress.append)
    assert any("wrote 2 of 5" in line for line in progress)
    half = await stored_scores(db)
    done = sorted(ids)[:4]
    assert all(half[c] != before[c] for c in done)
    assert half[sorted(ids)[4]] == before[sorted(ids)[4]]
    async with db.transaction() as session:
        run = await session.scalar(select(ScoringRun).order_by(ScoringRun.id.desc()))
        assert run is not None and run.finished_at is None
        assert run.written_through == done[-1]

    monkeypatch.setattr(scoring_module, "write_via_staging", real_write)
    clock.advance(minutes=10)  # the restart, the same night
    resumed = await ScoringPass(db, clock, LONDON).run(progress=progress.append)
    assert any("resuming after citizen" in line for line in progress)
    assert resumed.rewritten == 1
    after = await stored_scores(db)
    assert all(after[c] != before[c] for c in ids)
    history, alerts, previous = await _counts(db)
    # Exactly one history row, one band alert per band change, the right "before" score.
    assert history == history_before + 5
    moved_band = sum(band_of(before[c]) != band_of(after[c]) for c in ids)
    assert moved_band > 0
    assert alerts - alerts_before == moved_band
    assert previous == before
    async with db.transaction() as session:
        runs = (await session.scalars(select(ScoringRun))).all()
        # The resumed pass is the interrupted one, finished; every row it wrote has its time.
        assert [r.finished_at is not None for r in runs] == [True, True]
        times = set((await session.scalars(select(Score.computed_at))).all())
    assert {as_aware_utc(t) for t in times} == {as_aware_utc(runs[1].computed_at)}


async def test_an_unchanged_score_shows_the_newest_pass_as_when_it_was_checked(
    db: Database,
) -> None:
    await populate(db, n=2)
    clock = ManualClock(START)
    scoring = ScoringPass(db, clock, LONDON)
    await scoring.run()
    for _ in range(3):
        clock.advance(days=1)
        last = await scoring.run()
    scores = ScoreService(db, LONDON, clock=clock)
    for telegram_id in (1000, 1001):
        view = await scores.current_for_telegram_user(telegram_id)
        assert view.computed_at == last.computed_at
        assert view.as_of == last.computed_at.astimezone(LONDON).date()
        explanation = await scores.explain(telegram_id)
        assert explanation.computed_at == last.computed_at
        assert not explanation.pending_change


def test_effective_stamp_moves_only_scored_rows_forward() -> None:
    day = START.date()
    stamp = PassStamp(day + timedelta(days=3), START + timedelta(days=3))
    assert effective_stamp(day, START, stamp) == (stamp.as_of, stamp.computed_at)
    assert effective_stamp(None, START, stamp) == (None, START)  # a starting score
    later = day + timedelta(days=5)
    assert effective_stamp(later, START + timedelta(days=5), stamp)[0] == later
    assert effective_stamp(day, START, None) == (day, START)


def test_the_retention_cutoff_is_whole_months() -> None:
    now = datetime(2026, 12, 5, 21, 0, tzinfo=UTC)
    assert retention_cutoff(now) == datetime(2024, 12, 1, tzinfo=UTC)
    assert HISTORY_KEEP_MONTHS == 24


async def test_history_past_the_rule_goes_and_partitions_are_kept_ahead(db: Database) -> None:
    ids = await populate(db, n=2)
    now = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
    moments = [
        datetime(2024, 6, 15, tzinfo=UTC),  # past the rule (before December 2024)
        datetime(2024, 11, 30, 23, 59, tzinfo=UTC),  # past, by a minute
        datetime(2024, 12, 1, tzinfo=UTC),  # kept
        datetime(2026, 12, 1, tzinfo=UTC),  # kept
    ]
    if not db.is_sqlite:
        # A month with no partition yet lands in the default partition, then moves out.
        async with db.transaction() as session:
            for month in await partition_months(session):
                if month >= datetime(2027, 1, 1).date():
                    await session.execute(
                        text(f"DROP TABLE score_history_y{month.year}m{month.month:02d}")
                    )
        moments.append(datetime(2027, 1, 20, tzinfo=UTC))
    async with db.transaction() as session:
        for moment in moments:
            session.add(ScoreHistory(citizen_id=ids[0], score=600, band="Fair", computed_at=moment))
    upkeep = await ScoreHistoryService(db, ManualClock(now)).upkeep()
    assert upkeep.rows_deleted == 2
    async with db.transaction() as session:
        kept = sorted(
            as_aware_utc(m) for m in (await session.scalars(select(ScoreHistory.computed_at))).all()
        )
    assert kept == sorted(moments[2:])
    if db.is_sqlite:
        return
    async with db.transaction() as session:
        months = await partition_months(session)
        in_default = await session.scalar(
            text(
                "SELECT COUNT(*) FROM score_history_default "
                "WHERE computed_at >= '2027-01-01 00:00:00+00'"
            )
        )
        partitioned = await session.scalar(
            text(
                "SELECT COUNT(*) FROM pg_partitioned_table p "
                "JOIN pg_class c ON c.oid = p.partrelid WHERE c.relname = 'score_history'"
            )
        )
    assert partitioned == 1
    assert in_default == 0  # January 2027's row moved into its own partition
    assert {datetime(2027, m, 1).date() for m in (1, 2)} <= set(months)
    assert datetime(2024, 6, 1).date() not in months  # dropped whole, if it existed
    assert min(months) >= datetime(2024, 12, 1).date()
    # Running it again changes nothing.
    again = await ScoreHistoryService(db, ManualClock(now)).upkeep()
    assert (again.partitions_added, again.rows_deleted) == (0, 0)
