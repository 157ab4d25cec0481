"""The operators' growth report on a national-scale population (never part of the test run).

    python -m bench growth [--users 1000000] [--backends sqlite,postgresql] [--runs 3]
    python -m bench growth --chart docs/growth-demo.png   # the README's chart, demo data

Builds, in bulk (storage.bulk.write_via_staging: executemany into a staging table on SQLite,
binary COPY on PostgreSQL), ``--users`` citizens over 120 postcode areas with registrations
spread over two years (growing), a friend request for one in five in the last 12 weeks, invite
links for one in ten (with open and registration counters) and referrals for one in twenty;
then times GrowthReportService.report() (12 weeks, a population file for every area) in this
process, best of ``--runs``, and prints one JSON line per backend. The SQLite file is kept in
bench/results/ and reused; the PostgreSQL database is a throwaway one, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import string
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.engine import make_url

from bench.pg import pg_execute
from services.clock import ManualClock
from services.growth_report import GrowthReportService
from storage.bulk import write_via_staging
from storage.db import Database
from storage.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
CHUNK = 250_000
AREAS = [a + b for a in string.ascii_uppercase[:12] for b in string.ascii_uppercase[:10]]


def _t(moment: datetime, sqlite: bool) -> Any:
    return (
        moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        if sqlite
        else moment
    )


async def populate(db: Database, users: int, seed: int = 1) -> float:
    rng = np.random.default_rng(seed)
    sqlite = db.is_sqlite
    ts = "TIMESTAMP" if sqlite else "TIMESTAMPTZ"
    started = time.perf_counter()
    # Growing adoption: registrations denser in recent months (a square-root spread).
    days_ago = (730 * np.sqrt(rng.random(users))).astype(np.int64)[::-1]
    area = rng.integers(0, len(AREAS), size=users)
    district = rng.integers(1, 30, size=users)
    for start in range(0, users, CHUNK):
        stop = min(users, start + CHUNK)
        rows = (
            (
                i + 1,
                f"{i + 1:064d}",
                f"{AREAS[area[i]]}{district[i]}",
                _t(NOW - timedelta(days=int(days_ago[i]), seconds=i % 86_400), sqlite),
            )
            for i in range(start, stop)
        )
        await write_via_staging(
            db,
            staging_columns=[("id", "BIGINT"), ("ni_hash", "TEXT"), ("district", "TEXT"),
                             ("registered_at", ts)],
            rows=rows,
            statements=[
                """INSERT INTO citizens (id, telegram_id, chat_id, display_name, ni_hash,
                       ni_masked, date_of_birth, postcode_district, registered_at, unreachable_at)
                   SELECT id, id + 9000000000000, id + 9000000000000, 'Bench', ni_hash, 'BENCH',
                       :born, district, registered_at, :now FROM staging"""
            ],
            params={"born": "1990-01-01" if sqlite else NOW.date().replace(year=1990),
                    "now": _t(NOW, sqlite)},
        )  # fmt: skip
    requests = users // 5
    who = rng.integers(1, users + 1, size=(requests, 2))
    when = rng.integers(0, 84 * 86_400, size=requests)
    await write_via_staging(
        db,
        staging_columns=[("a", "BIGINT"), ("b", "BIGINT"), ("at", ts)],
        rows=(
            (int(who[i, 0]), int(who[i, 1]), _t(NOW - timedelta(seconds=int(when[i])), sqlite))
            for i in range(requests)
        ),
        statements=[
            "INSERT INTO friend_requests (requester_id, recipient_id, via, created_at) "
            "SELECT a, b, 'link', at FROM staging"
        ],
    )
    links = users // 10
    opened = rng.integers(0, 6, size=links)
    await write_via_staging(
        db,
        staging_columns=[("id", "BIGINT"), ("opened", "INTEGER"), ("registered", "INTEGER")],
        rows=((i + 1, int(opened[i]), int(opened[i]) // 3) for i in range(links)),
        statements=[
            "INSERT INTO invite_codes (citizen_id, nonce, code_hash, created_at, opened_count, "
            "registered_count) SELECT id, 'bench', 'h' || CAST(id AS TEXT), :now, opened, "
            "registered FROM staging"
        ],
        params={"now": _t(NOW, sqlite)},
    )
    referrals = users // 20
    await write_via_staging(
        db,
        staging_columns=[("inviter", "BIGINT"), ("invitee", "BIGINT")],
        rows=((i % links + 1, links + i + 1) for i in range(referrals)),
        statements=[
            "INSERT INTO referrals (inviter_id, invitee_id, created_at) "
            "SELECT inviter, invitee, :now FROM staging"
        ],
        params={"now": _t(NOW, sqlite)},
    )
    return time.perf_counter() - started


def population_file(users: int) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"growth-population-{users}.csv"
    # Each area's eligible people: enough that shares land in different Rogers stages.
    lines = ["area,population"]
    for i, area in enumerate(AREAS):
        per_area = users // len(AREAS)
        lines.append(f"{area},{int(per_area / (0.01 + 0.9 * (i % 17) / 17))}")
    path.write_text("\n".join(lines) + "\n")
    return path


async def time_report(db: Database, users: int, runs: int) -> dict[str, Any]:
    service = GrowthReportService(db, ManualClock(NOW), population_file(users))
    times = []
    report = None
    for _ in range(runs):
        started = time.perf_counter()
        report = await service.report(weeks=12)
        times.append(time.perf_counter() - started)
    assert report is not None
    return {
        "report_seconds_best": round(min(times), 2),
        "report_seconds_all": [round(t, 2) for t in times],
        "registered": report.registered,
        "areas": len(report.areas),
        "active_last_week": report.weeks[-1].active,
        "funnel": [report.funnel.links_made, report.funnel.opened, report.funnel.registered,
                   report.funnel.verified],
        "below_median": len(report.below_median),
    }  # fmt: skip


def on_sqlite(users: int, runs: int) -> dict[str, Any]:
    path = RESULTS / f"growth-{users}.db"
    built = None
    if not path.exists():
        RESULTS.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.db")
        partial.unlink(missing_ok=True)
        upgrade(f"sqlite+aiosqlite:///{partial}")  # runs its own event loop: before ours
        built = asyncio.run(_build(f"sqlite+aiosqlite:///{partial}", users))
        partial.rename(path)
    figures = asyncio.run(_measure(f"sqlite+aiosqlite:///{path}", users, runs))
    return {"backend": "sqlite", "users": users,
            "build_seconds": None if built is None else round(built, 1), **figures}  # fmt: skip


def on_postgresql(users: int, runs: int) -> dict[str, Any]:
    name = f"britizen_growth_{uuid.uuid4().hex[:8]}"
    asyncio.run(pg_execute(PG_ADMIN, f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        built = asyncio.run(_build(url, users))
        asyncio.run(pg_execute(url, "ANALYZE"))
        figures = asyncio.run(_measure(url, users, runs))
        return {"backend": "postgresql", "users": users, "build_seconds": round(built, 1),
                **figures}  # fmt: skip
    finally:
        asyncio.run(pg_execute(PG_ADMIN, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _build(url: str, users: int) -> float:
    db = Database(url)
    try:
        return await populate(db, users)
    finally:
        await db.close()


async def _measure(url: str, users: int, runs: int) -> dict[str, Any]:
    db = Database(url)
    try:
        return await time_report(db, users, runs)
    finally:
        await db.close()


# Invented adoption per demo area (share of data/population_demo.csv's figure), so the chart
# shows every stage; the population file itself says the figures are invented.
DEMO_SHARES = {"SO": 0.62, "PO": 0.31, "BH": 0.88, "SP": 0.012, "GU": 0.19, "RG": 0.08,
               "OX": 0.41, "BN": 0.22, "CT": 0.02, "TN": 0.05, "ME": 0.14, "E": 0.35}  # fmt: skip
DEMO_FILE = ROOT / "data" / "population_demo.csv"


async def _demo(url: str) -> bytes:
    from services.growth_charts import growth_png
    from services.growth_report import load_population
    from texts import growth as words

    population = load_population(DEMO_FILE)
    rng = np.random.default_rng(7)
    db = Database(url)
    try:
        sqlite = db.is_sqlite
        rows = []
        n = 0
        for area, share in DEMO_SHARES.items():
            for _ in range(int(population[area] * share)):
                n += 1
                # Adoption accelerating over 16 weeks (most people recently).
                days = int(112 * (1 - np.sqrt(rng.random())))
                rows.append((n, f"{n:064d}", f"{area}{rng.integers(1, 20)}",
                             _t(NOW - timedelta(days=days, hours=n % 24), sqlite)))  # fmt: skip
        await write_via_staging(
            db,
            staging_columns=[("id", "BIGINT"), ("ni_hash", "TEXT"), ("district", "TEXT"),
                             ("registered_at", "TIMESTAMP")],
            rows=rows,
            statements=[
                """INSERT INTO citizens (id, telegram_id, chat_id, display_name, ni_hash,
                       ni_masked, date_of_birth, postcode_district, registered_at)
                   SELECT id, id, id, 'Demo', ni_hash, 'DEMO', '1990-01-01', district,
                       registered_at FROM staging"""
            ],
        )  # fmt: skip
        acts = n // 2
        who = rng.integers(1, n + 1, size=(acts, 2))
        when = rng.integers(0, 112 * 86_400, size=acts)
        await write_via_staging(
            db,
            staging_columns=[("a", "BIGINT"), ("b", "BIGINT"), ("at", "TIMESTAMP")],
            rows=((int(who[i, 0]), int(who[i, 1]),
                   _t(NOW - timedelta(seconds=int(when[i])), sqlite)) for i in range(acts)),
            statements=["INSERT INTO friend_requests (requester_id, recipient_id, via, "
                        "created_at) SELECT a, b, 'link', at FROM staging"],
        )  # fmt: skip
        report = await GrowthReportService(db, ManualClock(NOW), DEMO_FILE).report(weeks=16)
    finally:
        await db.close()
    return growth_png(report, words.CHART_DEMO_TITLE)


def chart(path: Path) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'demo.db'}"
        upgrade(url)
        path.write_bytes(asyncio.run(_demo(url)))
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench growth")
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chart", type=Path, help="write the README's demo chart here instead")
    args = parser.parse_args(argv)
    if args.chart is not None:
        chart(args.chart)
        return 0
    for backend in args.backends.split(","):
        print(f"growth report: {backend}, {args.users:,} citizens (building if needed)...")
        run = on_sqlite if backend == "sqlite" else on_postgresql
        print(json.dumps(run(args.users, args.runs)))
    return 0
