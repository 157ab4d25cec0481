"""The population-wide scoring pass: read everyone in bulk, compute graph features, score, write.

Reads and writes go through storage.bulk (numpy arrays in, one transaction out), so a pass over
a million citizens and ten million friendships takes seconds, not hours. Everything the pass
writes — new scores, one history row per citizen, and a band-change message per citizen whose
band moved — commits in one transaction: a pass interrupted half-way leaves the previous scores
(and no messages) in place, and rerunning it is safe.

Payment events count unless disputed or in a batch held for review (storage.repositories.
event_batches). Band alerts respect quiet hours (services.quiet_hours): the nightly pass runs at
02:00, and its alerts are queued for 08:00.
"""

from __future__ import annotations

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

from scoring.betweenness import estimate_betweenness, network_roles
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
from services.clock import Clock
from services.commitments import (
    DEFAULTS_SQL,
    OWED_SQL,
    REPAID_SQL,
    default_cutoff,
    limits_for,
)
from services.languages import citizens_languages
from services.quiet_hours import first_moment_to_send
from services.scores import VOUCHERS_REDEEMED_SQL
from storage.bulk import fetch_columns, fetch_ints, write_via_staging
from storage.db import Database
from storage.locks import job_lock
from storage.repositories import outbox
from storage.repositories.event_batches import COUNTED_EVENTS_SQL
from storage.statuses import FriendshipStatus
from texts.i18n import worded_in
from texts.scoring import band_change

logger = logging.getLogger(__name__)

DIMENSION_COLUMNS = tuple(d.key for d in DIMENSIONS)
SCORE_ALERT_KIND = "score_alert"
SCORE_ALERT_PRIORITY = 10  # ahead of promotions (100), behind loan reminders (0)
ROLE_PIVOTS = 64
"""Pivots for the betweenness estimate (scoring.betweenness): its cost is k breadth-first
searches; the stated error bound shrinks as 1/sqrt(k). Populations of at most this size are
computed exactly. The pivots are drawn from a seed fixed by the pass's date."""


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
    ) -> None:
        self._db = db
        self._clock = clock
        self._tz = timezone
        self._roles = roles
        self._role_pivots = role_pivots

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
            timings[name] = round(now - mark, 3)
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
        previous = await fetch_ints(self._db, "SELECT citizen_id, score FROM scores", columns=2)
        events = await self._read_payments()
        # A referral row exists only once the newcomer completed registration (verification),
        # and goes with either person's account, so every row is a verified referral.
        referrals = await fetch_ints(
            self._db, "SELECT inviter_id, COUNT(*) FROM referrals GROUP BY inviter_id", columns=2
        )
        vouchers = await fetch_ints(self._db, VOUCHERS_REDEEMED_SQL, columns=2)
        index = _IdIndex(ids)
        inputs = PopulationInputs.blank(n)
        as_of_day = (as_of - date(1970, 1, 1)).days
        # Calendar days between the UTC registration date and as_of, as the model defines it.
        inputs.account_age_days[:] = as_of_day - registered_day
        # Finishing registration is identity verification (NI number checked, age confirmed).
        inputs.verified[:] = True
        self._add_payments(inputs, index, as_of_day, events)
        known, positions = index.positions(referrals[:, 0])
        inputs.verified_referrals[positions] = referrals[known, 1]
        known, positions = index.positions(vouchers[:, 0])
        inputs.vouchers_redeemed[positions] = vouchers[known, 1]
        await self._add_commitments(inputs, index, as_of)
        lap("read")
        say(f"scoring pass: read {n:,} citizens and {len(packed):,} friendships")

        src, dst = index.pairs(packed >> 32, packed & 0xFFFFFFFF)
        previous_scores = np.full(n, np.nan)
        known, positions = index.positions(previous[:, 0])
        previous_scores[positions] = previous[known, 1]
        # Debt is measured against the limit of the tier the person was in before this pass.
        inputs.limit_pence[:] = limits_for(previous_scores)
        graph = compute_graph_features(n, src, dst, previous_scores)
        lap("graph")
        say(f"scoring pass: graph features for {graph.n_edges:,} friendships")

        result = score_population(inputs.with_graph(graph))
        lap("score")

        # Network roles come after the score and feed nothing into it.
        betweenness: list[float | None] = [None] * n
        roles: list[str | None] = [None] * n
        if self._roles and n:
            estimate = estimate_betweenness(
                n, src, dst, k=self._role_pivots, seed=as_of.toordinal()
            )
            betweenness = estimate.estimate.tolist()
            roles = network_roles(graph.degree, estimate.estimate, graph.effective_size)
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

        rows = _score_rows(
            ids, result.score, new_bands, result.points, graph, betweenness, roles, alerts
        )
        await self._write(rows, computed_at, as_of)
        lap("write")
        seconds = round(time.perf_counter() - started, 3)
        summary = PassSummary(
            users=n,
            friendships=graph.n_edges,
            band_changes=len(alerts),
            seconds=seconds,
            computed_at=computed_at,
            timings=timings,
        )
        say(
            f"scoring pass done: {n:,} users, {graph.n_edges:,} friendships, "
            f"{len(alerts):,} band changes in {seconds:.1f} s ({timings})"
        )
        return summary

    async def _add_commitments(
        self, inputs: PopulationInputs, index: _IdIndex, as_of: date
    ) -> None:
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

    async def _read_payments(self) -> list[npt.NDArray[np.int64]]:
        cases = " ".join(
            f"WHEN '{outcome.value}' THEN {code}" for outcome, code in OUTCOME_CODES.items()
        )
        return await fetch_columns(
            self._db,
            f"SELECT e.citizen_id, e.occurred_on, CASE e.outcome {cases} "
            f"ELSE {OUTCOME_CODES[Outcome.MISSED]} END "
            f"FROM {COUNTED_EVENTS_SQL}",
            {"no": False},
            kinds=("int", "day", "int"),
        )

    @staticmethod
    def _add_payments(
        inputs: PopulationInputs,
        index: _IdIndex,
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

    async def _write(
        self, rows: Iterator[tuple[Any, ...]], computed_at: datetime, as_of: date
    ) -> None:
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
            **alert_params,
        }
        # SQLite stores JSON as text (a CAST would turn '{}' into the number 0).
        empty_json = "'{}'" if sqlite else "CAST('{}' AS JSON)"
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
                    effective_size, betweenness, network_role)
                SELECT s.citizen_id, s.score, s.band, NULL, {empty_json}, :computed_at,
                    :as_of, :model_version, {staged_dims}, s.friend_count, s.friends_mean_score,
                    s.pagerank, s.effective_size, s.betweenness, s.network_role
                FROM staging s JOIN citizens c ON c.id = s.citizen_id
                WHERE 1 = 1
                ON CONFLICT (citizen_id) DO UPDATE SET previous_score = scores.score, {updates}""",
            """INSERT INTO score_history (citizen_id, score, band, computed_at)
                SELECT s.citizen_id, s.score, s.band, :computed_at
                FROM staging s JOIN citizens c ON c.id = s.citizen_id""",
            queue_alerts,
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
            ],
            rows=rows,
            statements=statements,
            params=params,
        )


class _IdIndex:
    """Citizen id -> row position through a dense lookup table. A binary search per friendship
    end (np.searchsorted, 20 million random probes) measured 10 s at a million citizens; a table
    gather takes a fraction of a second. Ids are database keys, dense enough for a table."""

    def __init__(self, ids: npt.NDArray[np.int64]) -> None:
        size = int(ids.max()) + 1 if len(ids) else 0
        self._lookup = np.full(size, -1, dtype=np.int64)
        self._lookup[ids] = np.arange(len(ids), dtype=np.int64)

    def positions(
        self, wanted: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
        """(which of `wanted` are current citizens, their positions); unknown ids (deleted since,
        or never scored) are skipped."""
        found = np.full(len(wanted), -1, dtype=np.int64)
        in_range = (wanted >= 0) & (wanted < len(self._lookup))
        found[in_range] = self._lookup[wanted[in_range]]
        known = found >= 0
        return known, found[known]

    def pairs(
        self, a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        known_a, _ = self.positions(a)
        known_b, _ = self.positions(b)
        both = known_a & known_b
        return self.positions(a[both])[1], self.positions(b[both])[1]


def _score_rows(
    ids: npt.NDArray[np.int64],
    scores: npt.NDArray[np.int64],
    bands: list[str],
    points: npt.NDArray[np.int64],
    graph: Any,
    betweenness: list[float | None],
    roles: list[str | None],
    alerts: dict[int, str],
) -> Iterator[tuple[Any, ...]]:
    """Rows for the staging table, from columns converted to Python lists once (fast)."""
    mean = graph.friends_mean_score
    columns: list[list[Any]] = [
        ids.tolist(),
        scores.tolist(),
        bands,
        *[points[:, j].tolist() for j in range(points.shape[1])],
        graph.degree.tolist(),
        [None if math.isnan(m) else m for m in mean.tolist()],
        graph.pagerank.tolist(),
        graph.effective_size.tolist(),
        betweenness,
        roles,
        [alerts.get(i) for i in range(len(ids))] if alerts else [None] * len(ids),
    ]
    return zip(*columns, strict=True)
