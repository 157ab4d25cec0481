"""What Boost's counting rule costs the nightly pass's bulk read of payment events.

    python -m bench boost [--citizens 1000000] [--events 3000000] [--reviews 30000]
                          [--backends sqlite,postgresql]

Builds a throwaway database per backend (citizens, payment events, and Boost reviews on some of
the late or missed ones, a third pending, a third confirmed, a third disputed), then times the
pass's read (services.scoring_pass, with the Boost condition) against the same read without it,
best of three each, and prints both with the rows read.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
AS_OF = date(2026, 12, 5)


def _fill_sql(sqlite: bool, citizens: int, events: int, reviews: int) -> list[str]:
    if sqlite:
        series = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) "
        pad = "printf('%064d', i)"
        day = "date('2020-01-01', '+' || (i % 2000) || ' days')"
        stamp = "'2026-01-01 00:00:00.000000'"
        counts_from = "date('2026-11-20', '+' || (i % 30) || ' days')"
        rows = "SELECT i FROM n"
    else:
        series = ""
        pad = "lpad(i::text, 64, '0')"
        day = "DATE '2020-01-01' + (i % 2000)"
        stamp = "TIMESTAMPTZ '2026-01-01 00:00:00+00'"
        counts_from = "DATE '2026-11-20' + (i % 30)"
        rows = "SELECT generate_series(1, {n}) AS i"
    return [
        f"{series.format(n=citizens)}INSERT INTO citizens (id, telegram_id, chat_id, display_name, "
        f"ni_hash, ni_masked, date_of_birth, registered_at) SELECT i, i, i, 'c', {pad}, 'QQ', "
        f"'1990-01-01', {stamp} FROM ({rows.format(n=citizens)}) s",
        f"{series.format(n=events)}INSERT INTO payment_events (id, citizen_id, source, "
        "external_id, kind, outcome, occurred_on, disputed, recorded_at) "
        f"SELECT i, 1 + (i % {citizens}), "
        "'partner:1', 'e' || i, 'rent', CASE WHEN i % 10 = 0 THEN 'late' ELSE 'on_time' END, "
        f"{day}, false, {stamp} FROM ({rows.format(n=events)}) s",
        # Reviews on every tenth event (the late ones), up to `reviews` of them.
        f"{series.format(n=reviews)}INSERT INTO boost_reviews (payment_event_id, citizen_id, "
        "status, counts_from, created_at) SELECT i * 10, 1 + ((i * 10) % "
        f"{citizens}), CASE i % 3 WHEN 0 THEN 'pending' WHEN 1 THEN 'confirmed' ELSE 'disputed' "
        f"END, {counts_from}, {stamp} FROM ({rows.format(n=reviews)}) s",
    ]


async def _run(url: str, citizens: int, events: int, reviews: int) -> None:
    import numpy as np
    from sqlalchemy import text

    from services.clock import system_clock
    from services.scoring_pass import ScoringPass
    from storage.bulk import fetch_columns
    from storage.db import Database
    from storage.migrate import upgrade
    from storage.repositories.event_batches import COUNTED_EVENTS_SQL

    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    try:
        started = time.perf_counter()
        async with db.transaction() as session:
            for statement in _fill_sql(db.is_sqlite, citizens, events, reviews):
                await session.execute(text(statement))
        if not db.is_sqlite:
            async with db.transaction() as session:
                await session.execute(text("ANALYZE"))
        print(f"  built in {time.perf_counter() - started:.1f} s")
        scoring = ScoringPass(db, system_clock, ZoneInfo("Europe/London"), roles=False)

        async def without() -> list[np.ndarray]:
            return await fetch_columns(
                db,
                f"SELECT e.citizen_id, e.occurred_on, 0 FROM {COUNTED_EVENTS_SQL}",
                {"no": False},
                kinds=("int", "day", "int"),
            )

        async def best(read: object) -> tuple[float, int]:
            times, rows = [], 0
            for _ in range(3):
                t = time.perf_counter()
                columns = await read()  # type: ignore[operator]
                times.append(time.perf_counter() - t)
                rows = len(columns[0])
            return min(times), rows

        base, base_rows = await best(without)
        boost, boost_rows = await best(lambda: scoring._read_payments(AS_OF))
        print(f"  read without the Boost condition: {base:.2f} s, {base_rows:,} events")
        print(
            f"  read with it (the pass's):        {boost:.2f} s, {boost_rows:,} events "
            f"({base_rows - boost_rows:,} left out), {(boost - base) / base * 100:+.0f}%"
        )
    finally:
        await db.close()


async def _backend(name: str, citizens: int, events: int, reviews: int) -> None:
    print(f"{name}: {citizens:,} citizens, {events:,} events, {reviews:,} Boost reviews")
    if name == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            await _run(f"sqlite+aiosqlite:///{Path(tmp) / 'boost.db'}", citizens, events, reviews)
        return
    from bench.pg import pg_execute

    database = f"bench_boost_{uuid.uuid4().hex[:8]}"
    await pg_execute(PG_ADMIN, f'CREATE DATABASE "{database}"')
    try:
        await _run(PG_ADMIN.rsplit("/", 1)[0] + f"/{database}", citizens, events, reviews)
    finally:
        await pg_execute(PG_ADMIN, f'DROP DATABASE "{database}"')


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench boost")
    parser.add_argument("--citizens", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=3_000_000)
    parser.add_argument("--reviews", type=int, default=30_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    for name in args.backends.split(","):
        asyncio.run(_backend(name.strip(), args.citizens, args.events, args.reviews))
    return 0
