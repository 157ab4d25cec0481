"""The population-wide scoring pass: read everyone in bulk, compute graph features, score, write.

Reads and writes go through storage.bulk (numpy arrays in, COPY/bulk rows out), so a pass over a
million citizens and ten million friendships takes seconds, not hours.

Only what changed is written. The pass reads each person's stored values, compares them with the
new ones as people see them (score, band, each dimension's points, friend count, the rounded
network figures /why shows, role), and rewrites only the rows that differ, plus those whose
newest history row is a week old (services.score_history: history is kept on change and weekly).
A row left alone was confirmed by the pass: services.score_history.effective_stamp gives it the
pass's as-of day and time.

The write is chunked and resumable: rows go in citizen-id order, CHUNK_ROWS per transaction, and
each chunk's transaction also records how far the pass got (scoring_runs.written_through) and
queues that chunk's band-change messages. A pass interrupted half-way is picked up by the next
one on the same day, which skips what committed; so every score, history row and band alert is
written exactly once. Rerunning a finished pass is safe (nothing differs, nothing is written).

Payment events count unless disputed or in a batch held for review (storage.repositories.
event_batches). Band alerts respect quiet hours (services.quiet_hours): the nightly pass runs at
02:00, and its alerts are queued for 08:00.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from sqlalchemy import select, update

from scoring.betweenness import BetweennessEstimate, estimate_betweenness, network_roles
from scoring.graph import compute_graph_features
from scoring.model import (
    BANDS,
    DIMENSIONS,
    MODEL_VERSION,
    OUTCOME_CODES,
    Outcome,
    PopulationInputs,
    aggregate_payment_events,
    score_population,
)
from services.clock import Clock, as_aware_utc
from services.commitments import (
    DEFAULTS_SQL,
    OWED_SQL,
    REPAID_SQL,
    default_cutoff,
    limits_for,
)
from services.id_index import IdIndex
from services.languages import citizens_languages
from services.quiet_hours import first_moment_to_send
from services.score_changes import ROLE_CODES, ShownValues
from services.score_history import HISTORY_AT_LEAST_EVERY_DAYS
from services.scores import VOUCHERS_REDEEMED_SQL
from storage.bulk import fetch_columns, fetch_ints, write_via_staging
from storage.db import Database
from storage.locks import job_lock
from storage.models import ScoringRun
from storage.repositories import outbox
from storage.repositories.boost import WAITING_SQL as BOOST_WAITING_SQL
from storage.repositories.event_batches import COUNTED_EVENTS_SQL
from storage.statuses import FriendshipStatus
from texts.i18n import worded_in
from texts.scoring import band_change

logger = logging.getLogger(__name__)

DIMENSION_COLUMNS = tuple(d.key for d in DIMENSIONS)
SCORE_ALERT_KIND = "score_alert"
SCORE_ALERT_PRIORITY = 10  # ahead of promotions (100), behind loan reminders (0)
CHUNK_ROWS = 250_000
"""Changed rows written per transaction: small enough that a crash loses little work and a
transaction never holds millions of row locks, large enough that per-chunk overhead is noise."""
ROLE_PIVOTS = 16
"""Fresh pivots a night for the betweenness estimate (scoring.betweenness): its cost is k
breadth-first searches, about 0.8 s of CPU each at 1M people and 10M friendships. Each night's
estimate is blended into the stored one (ROLE_CARRY), so the estimate rests on every night's
pivots, not just tonight's. The pivots are drawn from a seed fixed by the pass's date."""
ROLE_CARRY = 0.75
"""Stored betweenness = ROLE_CARRY x last night's + (1 - ROLE_CARRY) x tonight's 16-pivot
estimate. On a network that changes slowly this is a weighted mean of all past nights' pivots,
each unbiased; Hoeffding's bound for a weighted mean uses 1 / sum(weight^2) as its sample size:
16 on the first night, 16 x (2 - c) / (1 - c) = 112 pivots after a fortnight (c = ROLE_CARRY),
more than the 64 a single pass could afford (51 s of CPU at 1M) for 13 s. The price: a change
in someone's place in the network shows fully after about a week (half-life 2.4 nights)."""
BETWEENNESS_SCALE = 10**12
"""Stored betweenness is read in bulk as an integer of this many parts (normalised betweenness
is at most 1; a person on one shortest path in a trillion still reads as non-zero)."""
ROLE_EXACT_UP_TO = 64
"""Populations this small are computed exactly every night (every node a pivot), not blended."""
ROLE_OVERLAP_UP_TO = 20_000_000
"""Friendships up to which the betweenness searches run beside the graph step. Beside it they
save about 5 s at 1M people (10M friendships); but the two steps' working memory adds up (about
90 bytes a friendship together, against 60 for the graph step alone and 37 for the searches,
measured with tracemalloc), which at 10M people and 100M friendships is the difference between
a pass inside 12 GB and one that is not. Above this the searches still overlap the other reads,
and the graph step waits for them."""


class PassAlreadyRunning(Exception):
    """Another scoring pass holds the lock; only one runs at a time."""


@dataclass(frozen=True)
class PassSummary:
    users: int
    friendships: int
    band_changes: int
    seconds: float
    computed_at: datetime
    timings: dict[str, float] = field(default_factory=dict)
    rewritten: int = 0
    """Score rows this pass wrote (changed, due a weekly history row, or new); the rest were
    confirmed unchanged."""


def _band_names(indices: npt.NDArray[np.int8]) -> list[str]:
    names = [band.name for band in BANDS]
    return [names[i] for i in indices.tolist()]


class ScoringPass:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        timezone: ZoneInfo,
        *,
        roles: bool = True,
        role_pivots: int = ROLE_PIVOTS,
        role_carry: float = ROLE_CARRY,
    ) -> None:
        self._db = db
        self._clock = clock
        self._tz = timezone
        self._roles = roles
        self._role_pivots = role_pivots
        self._role_carry = role_carry

    async def run(self, progress: Callable[[str], None] | None = None) -> PassSummary:
        say = progress or (lambda line: logger.info("%s", line))
        async with job_lock(self._db, "scoring") as acquired:
            if not acquired:
                raise PassAlreadyRunning()
            return await self._run(say)

    async def _run(self, say: Callable[[str], None]) -> PassSummary:
        started = time.perf_counter()
        timings: dict[str, float] = {}
        mark = started

        def lap(name: str) -> None:
            nonlocal mark
            now = time.perf_counter()
            # A step may be timed in two parts (the searches awaited before the graph step).
            timings[name] = round(timings.get(name, 0.0) + now - mark, 3)
            mark = now

        computed_at = self._clock().astimezone(UTC)
        as_of = computed_at.astimezone(self._tz).date()

        citizen_ids, registered_day = await fetch_columns(
            self._db,
            f"SELECT id, {self._registered_date} FROM citizens",
            kinds=("int", "day"),
        )
        order = np.argsort(citizen_ids, kind="stable")
        ids, registered_day = citizen_ids[order], registered_day[order]
        n = len(ids)
        say(f"scoring pass: {n:,} citizens to score as of {as_of.isoformat()}")
        # One packed number per friendship halves the text SQLite builds for the bulk read.
        # Reads run one after another: SQLite's allocator serialises concurrent bulk reads, which
        # measured slower in parallel than in sequence.
        packed = (
            await fetch_ints(
                self._db,
                "SELECT low_id * 4294967296 + high_id FROM friendships "
                f"WHERE status = '{FriendshipStatus.ACCEPTED.value}'",
                columns=1,
            )
        )[:, 0]
        index = IdIndex(ids)
        # Row positions as int32 (4 bytes a friendship end) and the packed read dropped at once:
        # at 100M friendships each int64 copy of the list is 800 MB held through the graph step.
        src, dst = index.pairs(packed)
        read_friendships = len(packed)
        del packed
        # The betweenness searches need only the friendships: they run on a worker thread
        # (numpy releases the GIL in their gathers) while the other reads wait on the database
        # and the graph step runs (at 1M on PostgreSQL the nightly pass went 31.8 s -> 26 s).
        searches: asyncio.Future[BetweennessEstimate] | None = None
        if self._roles and n:
            pivots = n if n <= ROLE_EXACT_UP_TO else self._role_pivots
            searches = asyncio.ensure_future(
                asyncio.to_thread(
                    estimate_betweenness, n, src, dst, k=pivots, seed=as_of.toordinal()
                )
            )
        stored = await self._read_stored()
        events = await self._read_payments(as_of)
        # A referral row exists only once the newcomer completed registration (verification),
        # and goes with either person's account, so every row is a verified referral.
        referrals = await fetch_ints(
            self._db, "SELECT inviter_id, COUNT(*) FROM referrals GROUP BY inviter_id", columns=2
        )
        vouchers = await fetch_ints(self._db, VOUCHERS_REDEEMED_SQL, columns=2)
        inputs = PopulationInputs.blank(n)
        as_of_day = (as_of - date(1970, 1, 1)).days
        # Calendar days between the UTC registration date and as_of, as the model defines it.
        inputs.account_age_days[:] = as_of_day - registered_day
        # Finishing registration is identity verification (NI number checked, age confirmed).
        inputs.verified[:] = True
        self._add_payments(inputs, index, as_of_day, events)
        del events
        known, positions = index.positions(referrals[:, 0])
        inputs.verified_referrals[positions] = referrals[known, 1]
        known, positions = index.positions(vouchers[:, 0])
        inputs.vouchers_redeemed[positions] = vouchers[known, 1]
        await self._add_commitments(inputs, index, as_of)
        lap("read")
        say(f"scoring pass: read {n:,} citizens and {read_friendships:,} friendships")

        previous_scores = np.full(n, np.nan)
        known, positions = index.positions(stored[0])
        previous_scores[positions] = stored[1][known]
        # Debt is measured against the limit of the tier the person was in before this pass.
        inputs.limit_pence[:] = limits_for(previous_scores)
        estimate: BetweennessEstimate | None = None
        if searches is not None and read_friendships > ROLE_OVERLAP_UP_TO:
            estimate = await searches
            lap("roles")
            say("scoring pass: betweenness searches done before the graph step (memory)")
        graph = compute_graph_features(n, src, dst, previous_scores)
        del src, dst  # 8 bytes a friendship, not needed past the graph step (the searches
        # hold their own reference while they run)
        lap("graph")
        say(f"scoring pass: graph features for {graph.n_edges:,} friendships")

        result = score_population(inputs.with_graph(graph))
        lap("score")

        # Network roles come after the score and feed nothing into it.
        betweenness: list[float | None] = [None] * n
        roles: list[str | None] = [None] * n
        if searches is not None:
            if estimate is None:
                estimate = await searches
            blended = estimate.estimate
            if not estimate.exact:
                last_night = np.full(n, -1.0)
                last_night[positions] = stored[-1][known] / BETWEENNESS_SCALE
                carry = np.where(last_night >= 0, self._role_carry, 0.0)
                blended = carry * np.maximum(last_night, 0.0) + (1.0 - carry) * estimate.estimate
            betweenness = blended.tolist()
            roles = network_roles(graph.degree, blended, graph.effective_size)
            lap("roles")

        new_bands = _band_names(result.band_index)
        had_score = ~np.isnan(previous_scores)
        old_scores = np.where(had_score, previous_scores, 0).astype(np.int64)
        old_band_index = (
            np.searchsorted(np.array([band.lower for band in BANDS]), old_scores, side="right") - 1
        )
        changed = had_score & (old_band_index != result.band_index)
        alerts: dict[int, str] = {}
        band_names = [band.name for band in BANDS]
        alerted = np.flatnonzero(changed).tolist()
        # Each alert in its citizen's language (one lookup for all of tonight's).
        async with self._db.autocommit() as session:
            languages = await citizens_languages(session, (int(ids[i]) for i in alerted))
        for i in alerted:
            alerts[i] = worded_in(
                languages.get(int(ids[i])),
                band_change,
                band_names[int(old_band_index[i])],
                new_bands[i],
                int(old_scores[i]),
                int(result.score[i]),
            )

        new_values = ShownValues.of_pass(result.score, result.points, graph, roles)
        old_values = ShownValues.stored(n, index, stored)
        differs = old_values.differs_from(new_values)
        record_history = ~old_values.present | old_values.measures_differ(new_values)
        record_history |= as_of_day - old_values.history_day >= HISTORY_AT_LEAST_EVERY_DAYS
        run = await self._start_run(as_of, computed_at, n)
        computed_at = run.computed_at
        to_write = np.flatnonzero((differs | record_history) & (ids > run.written_through))
        if run.written_through:
            say(f"scoring pass: resuming after citizen {run.written_through:,}")
        band_changes = 0
        for start in range(0, len(to_write), CHUNK_ROWS):
            chunk = to_write[start : start + CHUNK_ROWS]
            chunk_alerts = {int(i): alerts[int(i)] for i in chunk.tolist() if int(i) in alerts}
            rows = _score_rows(
                chunk, ids, result.score, new_bands, result.points, graph, betweenness, roles,
                chunk_alerts, record_history,
            )  # fmt: skip
            await self._write(rows, computed_at, as_of, run.id, int(ids[chunk[-1]]), len(chunk))
            band_changes += len(chunk_alerts)
            say(f"scoring pass: wrote {start + len(chunk):,} of {len(to_write):,} changed rows")
        await self._finish_run(run.id)
        lap("write")
        seconds = round(time.perf_counter() - started, 3)
        summary = PassSummary(
            users=n,
            friendships=graph.n_edges,
            band_changes=band_changes,
            rewritten=len(to_write),
            seconds=seconds,
            computed_at=computed_at,
            timings=timings,
        )
        say(
            f"scoring pass done: {n:,} users, {graph.n_edges:,} friendships, "
            f"{len(to_write):,} rows rewritten, {band_changes:,} band changes "
            f"in {seconds:.1f} s ({timings})"
        )
        return summary

    async def _add_commitments(self, inputs: PopulationInputs, index: IdIndex, as_of: date) -> None:
        cutoff = default_cutoff(as_of)
        owed = await fetch_ints(self._db, OWED_SQL, columns=2)
        defaults = await fetch_ints(
            self._db,
            DEFAULTS_SQL,
            {"cutoff": cutoff.isoformat() if self._db.is_sqlite else cutoff},
            columns=2,
        )
        known, positions = index.positions(owed[:, 0])
        inputs.outstanding_pence[positions] = owed[known, 1]
        known, positions = index.positions(defaults[:, 0])
        inputs.defaults[positions] = defaults[known, 1]
        repaid = await fetch_ints(self._db, REPAID_SQL, columns=2)
        known, positions = index.positions(repaid[:, 0])
        inputs.repaid_loans[positions] = repaid[known, 1]

    @property
    def _registered_date(self) -> str:
        # SQLite keeps timestamps as UTC text, whose first ten characters are the date.
        if self._db.is_sqlite:
            return "registered_at"
        return "CAST(registered_at AT TIME ZONE 'UTC' AS DATE)"

    async def _read_payments(self, as_of: date) -> list[npt.NDArray[np.int64]]:
        cases = " ".join(
            f"WHEN '{outcome.value}' THEN {code}" for outcome, code in OUTCOME_CODES.items()
        )
        # A Boost partner's late or missed payment counts only once confirmed or 30 days
        # undisputed (storage.repositories.boost): one anti-join on a small table's key.
        return await fetch_columns(
            self._db,
            f"SELECT e.citizen_id, e.occurred_on, CASE e.outcome {cases} "
            f"ELSE {OUTCOME_CODES[Outcome.MISSED]} END "
            f"FROM {COUNTED_EVENTS_SQL} AND {BOOST_WAITING_SQL}",
            {"no": False, "boost_as_of": as_of.isoformat() if self._db.is_sqlite else as_of},
            kinds=("int", "day", "int"),
        )

    @staticmethod
    def _add_payments(
        inputs: PopulationInputs,
        index: IdIndex,
        as_of_day: int,
        events: list[npt.NDArray[np.int64]],
    ) -> None:
        citizen_ids, due_day, outcome = events
        known, positions = index.positions(citizen_ids)
        weights = aggregate_payment_events(
            len(inputs), positions, as_of_day - due_day[known], outcome[known]
        )
        inputs.on_time_weight[:] = weights.on_time
        inputs.late_weight[:] = weights.late
        inputs.missed_weight[:] = weights.missed

    async def _read_stored(self) -> list[npt.NDArray[np.int64]]:
        """What each scores row shows now, as integers (see ShownValues): one bulk read; last,
        the stored betweenness (x BETWEENNESS_SCALE) that tonight's estimate is blended into."""
        dims = ", ".join(f"COALESCE({c}, -1)" for c in DIMENSION_COLUMNS)
        roles = " ".join(
            f"WHEN '{name}' THEN {code}" for name, code in ROLE_CODES.items() if name is not None
        )
        epoch = "'1970-01-01'" if self._db.is_sqlite else "DATE '1970-01-01'"
        return await fetch_columns(
            self._db,
            f"""SELECT citizen_id, score, COALESCE(previous_score, -1),
                    COALESCE(model_version, -1), {dims}, COALESCE(friend_count, -1),
                    CAST(ROUND(COALESCE(friends_mean_score, -1)) AS INTEGER),
                    CAST(ROUND(COALESCE(pagerank, -0.1) * 10) AS INTEGER),
                    CAST(ROUND(COALESCE(effective_size, -0.1) * 10) AS INTEGER),
                    CASE network_role {roles} ELSE 0 END,
                    COALESCE(history_on, {epoch}),
                    CAST(ROUND(COALESCE(betweenness, -1) * {BETWEENNESS_SCALE}) AS BIGINT)
                FROM scores""",
            kinds=("int",) * (9 + len(DIMENSION_COLUMNS)) + ("day", "int"),
        )

    async def _start_run(self, as_of: date, computed_at: datetime, users: int) -> ScoringRun:
        """This pass's record: the unfinished one of the same day if a pass was interrupted
        (it resumes where that one's last chunk committed), else a new one."""
        async with self._db.transaction() as session:
            unfinished = await session.scalar(
                select(ScoringRun)
                .where(ScoringRun.as_of == as_of, ScoringRun.finished_at.is_(None))
                .order_by(ScoringRun.id.desc())
                .limit(1)
            )
            if unfinished is not None:
                unfinished.computed_at = as_aware_utc(unfinished.computed_at)
                return unfinished
            run = ScoringRun(as_of=as_of, computed_at=computed_at, users=users, changed=0)
            session.add(run)
            await session.flush()
            return run

    async def _finish_run(self, run_id: int) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                update(ScoringRun)
                .where(ScoringRun.id == run_id)
                .values(finished_at=self._clock().astimezone(UTC))
            )

    async def _write(
        self,
        rows: Iterator[tuple[Any, ...]],
        computed_at: datetime,
        as_of: date,
        run_id: int,
        through_id: int,
        count: int,
    ) -> None:
        """One chunk in one transaction: scores, history rows, band alerts and the run's
        progress mark commit together or not at all."""
        sqlite = self._db.is_sqlite

        # SQLAlchemy stores SQLite datetimes as naive UTC text in this format; match it so the
        # ORM reads the pass's rows like any other.
        def bound(moment: datetime) -> Any:
            if sqlite:
                return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
            return moment

        stamp = bound(computed_at)
        # A pass in quiet hours (the nightly one at 02:00) queues its band alerts for 08:00.
        queue_alerts, alert_params = outbox.staged_insert_sql(
            kind=SCORE_ALERT_KIND,
            priority=SCORE_ALERT_PRIORITY,
            now=stamp,
            text_column="alert",
            due=bound(first_moment_to_send(computed_at, self._tz)),
        )
        params: dict[str, Any] = {
            "computed_at": stamp,
            "as_of": as_of.isoformat() if sqlite else as_of,
            "model_version": MODEL_VERSION,
            "run_id": run_id,
            "through_id": through_id,
            "chunk_rows": count,
            **alert_params,
        }
        # SQLite stores JSON as text (a CAST would turn '{}' into the number 0).
        empty_json = "'{}'" if sqlite else "CAST('{}' AS JSON)"
        # (SQLite's CAST to DATE would make a number of it; PostgreSQL needs the type here.)
        history_day = ":as_of" if sqlite else "CAST(:as_of AS DATE)"
        dims = ", ".join(DIMENSION_COLUMNS)
        staged_dims = ", ".join(f"s.{c}" for c in DIMENSION_COLUMNS)
        updates = ", ".join(
            f"{c} = excluded.{c}"
            for c in (
                "score",
                "band",
                "breakdown",
                "computed_at",
                "as_of",
                "model_version",
                *DIMENSION_COLUMNS,
                "friend_count",
                "friends_mean_score",
                "pagerank",
                "effective_size",
                "betweenness",
                "network_role",
            )
        )
        statements = [
            f"""INSERT INTO scores (citizen_id, score, band, previous_score, breakdown, computed_at,
                    as_of, model_version, {dims}, friend_count, friends_mean_score, pagerank,
                    effective_size, betweenness, network_role, history_on)
                SELECT s.citizen_id, s.score, s.band, NULL, {empty_json}, :computed_at,
                    :as_of, :model_version, {staged_dims}, s.friend_count, s.friends_mean_score,
                    s.pagerank, s.effective_size, s.betweenness, s.network_role,
                    CASE WHEN s.record_history = 1 THEN {history_day} END
                FROM staging s JOIN citizens c ON c.id = s.citizen_id
                WHERE 1 = 1
                ON CONFLICT (citizen_id) DO UPDATE SET previous_score = scores.score, {updates},
                    history_on = CASE WHEN excluded.history_on IS NULL THEN scores.history_on
                        ELSE excluded.history_on END""",
            """INSERT INTO score_history (citizen_id, score, band, computed_at)
                SELECT s.citizen_id, s.score, s.band, :computed_at
                FROM staging s JOIN citizens c ON c.id = s.citizen_id
                WHERE s.record_history = 1""",
            queue_alerts,
            """UPDATE scoring_runs SET written_through = :through_id,
                    changed = changed + :chunk_rows
                WHERE id = :run_id""",
        ]
        await write_via_staging(
            self._db,
            staging_columns=[
                ("citizen_id", "BIGINT"),
                ("score", "INTEGER"),
                ("band", "TEXT"),
                *[(c, "INTEGER") for c in DIMENSION_COLUMNS],
                ("friend_count", "INTEGER"),
                ("friends_mean_score", "DOUBLE PRECISION"),
                ("pagerank", "DOUBLE PRECISION"),
                ("effective_size", "DOUBLE PRECISION"),
                ("betweenness", "DOUBLE PRECISION"),
                ("network_role", "TEXT"),
                ("alert", "TEXT"),
                ("record_history", "INTEGER"),
            ],
            rows=rows,
            statements=statements,
            params=params,
        )


def _score_rows(
    take: npt.NDArray[np.int64],
    ids: npt.NDArray[np.int64],
    scores: npt.NDArray[np.int64],
    bands: list[str],
    points: npt.NDArray[np.int64],
    graph: Any,
    betweenness: list[float | None],
    roles: list[str | None],
    alerts: dict[int, str],
    record_history: npt.NDArray[np.bool_],
) -> Iterator[tuple[Any, ...]]:
    """Staging rows for the positions in `take`, from columns converted to Python lists once
    per chunk (fast)."""
    positions = take.tolist()
    mean = graph.friends_mean_score[take]
    columns: list[list[Any]] = [
        ids[take].tolist(),
        scores[take].tolist(),
        [bands[i] for i in positions],
        *[points[take, j].tolist() for j in range(points.shape[1])],
        graph.degree[take].tolist(),
        [None if math.isnan(m) else m for m in mean.tolist()],
        graph.pagerank[take].tolist(),
        graph.effective_size[take].tolist(),
        [betweenness[i] for i in positions],
        [roles[i] for i in positions],
        [alerts.get(i) for i in positions],
        record_history[take].astype(np.int64).tolist(),
    ]
    return zip(*columns, strict=True)
