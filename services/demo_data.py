"""A synthetic population for demos and benchmarks: citizens, a heavy-tailed friendship graph
and a few payment events each. Nobody in it is real: NI hashes are of "demo:<n>" (never a valid
NI number), Telegram ids start at DEMO_TELEGRAM_ID_BASE, far above real ones, and the dispatcher
never reaches them because they are marked unreachable."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import text

from scoring.synthetic import synthetic_friendships
from services.clock import Clock
from services.secrets import keyed_hash
from storage.bulk import fetch_ints, write_via_staging
from storage.db import Database

logger = logging.getLogger(__name__)

DEMO_TELEGRAM_ID_BASE = 9_000_000_000_000
EVENTS_PER_CITIZEN = 3
# Shares of on-time, late and missed payments in the synthetic history.
OUTCOME_SHARES = (0.85, 0.11, 0.04)
OUTCOMES = ("on_time", "late", "missed")
CHUNK = 200_000


@dataclass(frozen=True)
class DemoSummary:
    citizens: int
    friendships: int
    payment_events: int
    seconds: float


def _sql_time(moment: datetime, sqlite: bool) -> object:
    return (
        moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        if sqlite
        else moment
    )


async def generate_demo_population(
    db: Database,
    secret_key: bytes,
    clock: Clock,
    *,
    users: int,
    avg_friends: float,
    seed: int,
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    say = progress or (lambda line: logger.info("%s", line))
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    now = clock().astimezone(UTC)
    sqlite = db.is_sqlite
    first_id = (
        int((await fetch_ints(db, "SELECT COALESCE(MAX(id), 0) FROM citizens", columns=1))[0, 0])
        + 1
    )
    ids = np.arange(first_id, first_id + users, dtype=np.int64)
    age_days = rng.integers(0, 3 * 365, size=users)

    for start in range(0, users, CHUNK):
        stop = min(users, start + CHUNK)
        rows = (
            (
                int(ids[i]),
                DEMO_TELEGRAM_ID_BASE + int(ids[i]),
                f"Demo {int(ids[i])}",
                keyed_hash(secret_key, "demo", str(int(ids[i]))),
                _sql_time(now - timedelta(days=int(age_days[i])), sqlite),
            )
            for i in range(start, stop)
        )
        await write_via_staging(
            db,
            staging_columns=[
                ("id", "BIGINT"),
                ("telegram_id", "BIGINT"),
                ("display_name", "TEXT"),
                ("ni_hash", "TEXT"),
                ("registered_at", "TIMESTAMP" if sqlite else "TIMESTAMPTZ"),
            ],
            rows=rows,
            statements=[
                """INSERT INTO citizens (id, telegram_id, chat_id, display_name, ni_hash,
                        ni_masked, date_of_birth, postcode_district, registered_at, unreachable_at)
                    SELECT id, telegram_id, telegram_id, display_name, ni_hash, 'DEMO',
                        :born, NULL, registered_at, :now
                    FROM staging"""
            ],
            params={
                "born": "1990-01-01" if sqlite else datetime(1990, 1, 1).date(),
                "now": _sql_time(now, sqlite),
            },
        )
        say(f"demo-data: {stop:,}/{users:,} citizens")
    if not sqlite:
        # Explicit ids bypassed the sequence; move it past them so registrations keep working.
        async with db.transaction() as session:
            await session.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('citizens', 'id'), "
                    "(SELECT MAX(id) FROM citizens))"
                )
            )

    src, dst = synthetic_friendships(users, avg_friends, seed)
    pairs = len(src)
    for start in range(0, pairs, CHUNK * 5):
        stop = min(pairs, start + CHUNK * 5)
        low = (src[start:stop].astype(np.int64) + first_id).tolist()
        high = (dst[start:stop].astype(np.int64) + first_id).tolist()
        await write_via_staging(
            db,
            staging_columns=[("low_id", "BIGINT"), ("high_id", "BIGINT")],
            rows=zip(low, high, strict=True),
            statements=[
                """INSERT INTO friendships (low_id, high_id, requester_id, status, created_at)
                    SELECT low_id, high_id, low_id, 'accepted', :now FROM staging"""
            ],
            params={"now": _sql_time(now, sqlite)},
        )
        say(f"demo-data: {stop:,}/{pairs:,} friendships")

    n_events = users * EVENTS_PER_CITIZEN
    person = rng.integers(0, users, size=n_events)
    days_ago = rng.integers(0, 2 * 365, size=n_events)
    outcome = rng.choice(3, size=n_events, p=OUTCOME_SHARES)
    base_day = now.date()
    for start in range(0, n_events, CHUNK * 5):
        stop = min(n_events, start + CHUNK * 5)
        rows_events = (
            (
                int(ids[person[i]]),
                f"demo-{first_id}-{i}",
                OUTCOMES[int(outcome[i])],
                (base_day - timedelta(days=int(days_ago[i]))).isoformat()
                if sqlite
                else base_day - timedelta(days=int(days_ago[i])),
            )
            for i in range(start, stop)
        )
        await write_via_staging(
            db,
            staging_columns=[
                ("citizen_id", "BIGINT"),
                ("external_id", "TEXT"),
                ("outcome", "TEXT"),
                ("occurred_on", "DATE"),
            ],
            rows=rows_events,
            statements=[
                """INSERT INTO payment_events (citizen_id, source, external_id, kind, outcome,
                        occurred_on, disputed, recorded_at)
                    SELECT citizen_id, 'demo', external_id, 'bill', outcome, occurred_on,
                        :no, :now FROM staging"""
            ],
            params={"no": False, "now": _sql_time(now, sqlite)},
        )
        say(f"demo-data: {stop:,}/{n_events:,} payment events")
    seconds = round(time.perf_counter() - started, 1)
    return DemoSummary(users, pairs, n_events, seconds)
