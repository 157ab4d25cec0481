"""Promotion fan-out of 100,000 recipients on SQLite and PostgreSQL: seconds and peak RSS.

    python -m bench.fanout --users 100000 --backends sqlite,postgresql

An audience of ``--users`` opted-in citizens with scores is built once per backend (SQLite in
bench/results/fanout-<n>.db, PostgreSQL in the database ``britizen_bench_fanout`` beside
BRITIZEN_TEST_POSTGRES_URL's server) and reused. Each measurement runs in a fresh child process,
so its RSS is its own: creating the promotion (with 100,000 unique voucher codes) and then one
fan-out, which queues one outbox row per recipient with a single INSERT ... SELECT. "RSS before"
is the child's resident memory after start-up and the creation; "peak" the maximum over the
run, so peak minus before is what the fan-out itself cost. Target (issue 6): a few seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PG_DATABASE = "britizen_bench_fanout"
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
LONDON = ZoneInfo("Europe/London")


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load avg {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} cores"


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _populate(url: str, users: int) -> None:
    from sqlalchemy import text

    from storage.bulk import write_via_staging
    from storage.db import Database

    db = Database(url)
    try:
        async with db.transaction() as session:
            have = int(await session.scalar(text("SELECT COUNT(*) FROM citizens")) or 0)
        if have == users:
            return
        async with db.transaction() as session:
            for table in (
                "outbox",
                "vouchers",
                "redemptions",
                "promotions",
                "sponsors",
                "scores",
                "citizens",
            ):
                await session.execute(text(f"DELETE FROM {table}"))
        sqlite = db.is_sqlite
        now: Any = datetime.now(UTC)
        born: Any = date(1990, 1, 1)
        if sqlite:
            now, born = now.replace(tzinfo=None).isoformat(sep=" "), born.isoformat()
        await write_via_staging(
            db,
            staging_columns=[("id", "BIGINT"), ("score", "INTEGER")],
            rows=((n, 350 + n % 601) for n in range(1, users + 1)),
            statements=[
                """INSERT INTO citizens (id, telegram_id, chat_id, display_name, ni_hash,
                        ni_masked, date_of_birth, postcode_district, marketing_opt_in)
                    SELECT id, 9000000000000 + id, 9000000000000 + id, 'Bench ' || id,
                        'bench-' || id, 'DEMO', :born, 'SO17', :opt_in FROM staging""",
                """INSERT INTO scores (citizen_id, score, band, breakdown, computed_at)
                    SELECT id, score, 'Poor', '{}', :now FROM staging""",
            ],
            params={"born": born, "now": now, "opt_in": True},
        )
    finally:
        await db.close()


def prepare(backend: str, users: int) -> str:
    from storage.migrate import upgrade

    if backend == "sqlite":
        RESULTS.mkdir(parents=True, exist_ok=True)
        url = f"sqlite+aiosqlite:///{RESULTS / f'fanout-{users}.db'}"
    else:
        admin = make_url(os.environ.get("BRITIZEN_TEST_POSTGRES_URL", DEFAULT_PG))
        asyncio.run(_ensure_pg_database(admin.render_as_string(hide_password=False)))
        url = admin.set(database=PG_DATABASE).render_as_string(hide_password=False)
    upgrade(url)
    started = time.perf_counter()
    asyncio.run(_populate(url, users))
    print(f"  {backend}: audience of {users:,} ready ({time.perf_counter() - started:.1f} s)")
    return url


async def _ensure_pg_database(admin_url: str) -> None:
    import asyncpg

    parsed = make_url(admin_url)
    conn = await asyncpg.connect(
        host=parsed.host, port=parsed.port or 5432, user=parsed.username, database="postgres"
    )
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", PG_DATABASE)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    finally:
        await conn.close()


async def _measure(url: str) -> dict[str, Any]:
    from sqlalchemy import text

    from notifications.promotions import PromotionFanout
    from services.clock import system_clock
    from services.promotions import PromotionDraft, PromotionService
    from services.sponsors import SponsorService
    from storage.db import Database

    db = Database(url)
    try:
        async with db.transaction() as session:
            # TRUNCATE on PostgreSQL: a DELETE would leave the last run's dead rows and index
            # entries in the way of this one.
            if db.is_sqlite:
                for table in ("outbox", "vouchers", "redemptions", "promotions", "sponsors"):
                    await session.execute(text(f"DELETE FROM {table}"))
            else:
                await session.execute(
                    text("TRUNCATE outbox, vouchers, redemptions, promotions, sponsors")
                )
        sponsor, _key = await SponsorService(db, b"bench-key-" * 4).create_sponsor("Bench Ltd")
        promotions = PromotionService(db, system_clock, LONDON)
        draft = PromotionDraft.model_validate(
            {
                "title": "10% off",
                "text": "Benchmark offer " * 20,
                "expires_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
                "button": {"label": "Shop", "url": "https://acme.example/offer"},
                "vouchers": {"kind": "unique", "count": 100_000},
            }
        )
        started = time.perf_counter()
        view = await promotions.create(sponsor.id, draft)
        create_seconds = time.perf_counter() - started
        rss_before = _rss_mb()
        peak_before = _peak_mb()
        size_before = await _outbox_bytes(db)
        started = time.perf_counter()
        summary = await PromotionFanout(db, system_clock, LONDON).run_once()
        fanout_seconds = time.perf_counter() - started
        queued = summary.fanned_out.get(view.promotion.id, 0)
        sizes = await _row_sizes(db, view.promotion.id, size_before, queued)
        return {
            **sizes,
            "targeted_at_create": view.promotion.targeted,
            "queued": summary.fanned_out.get(view.promotion.id, 0),
            "create_seconds": round(create_seconds, 2),
            "fanout_seconds": round(fanout_seconds, 2),
            "rss_before_mb": round(rss_before, 1),
            "peak_before_mb": round(peak_before, 1),
            "rss_after_mb": round(_rss_mb(), 1),
            "peak_rss_mb": round(_peak_mb(), 1),
        }
    finally:
        await db.close()


async def _outbox_bytes(db: Any) -> int:
    """The outbox's size on disk: table and indexes (PostgreSQL), or the whole file (SQLite,
    whose other tables don't change during a fan-out)."""
    from sqlalchemy import text

    async with db.transaction() as session:
        if db.is_sqlite:
            pages = int(await session.scalar(text("PRAGMA page_count")) or 0)
            return pages * int(await session.scalar(text("PRAGMA page_size")) or 0)
        return int(await session.scalar(text("SELECT pg_total_relation_size('outbox')")) or 0)


async def _row_sizes(db: Any, promotion_id: int, size_before: int, queued: int) -> dict[str, Any]:
    """Bytes per outbox row now (no text: the promotion's is rendered at send time) and what
    each row carried before issue 21 (the rendered text and keyboard, copied into every row)."""
    from sqlalchemy import text

    from services.promotion_messages import render_promotion
    from storage.repositories import promotions

    async with db.transaction() as session:
        ((promotion, sponsor),) = await promotions.for_rendering(session, [promotion_id])
        rendered = render_promotion(promotion, sponsor, LONDON)
        copied = len(rendered.text.encode()) + len(json.dumps(rendered.reply_markup).encode())
        result: dict[str, Any] = {
            "disk_bytes_per_row": round((await _outbox_bytes(db) - size_before) / max(queued, 1)),
            "copied_bytes_per_old_row": copied,
        }
        if not db.is_sqlite:
            # The row's own data as PostgreSQL stores it, now and with the copy filled in.
            now_avg, old_avg = (
                await session.execute(
                    text(
                        "SELECT avg(pg_column_size(o.*)), "
                        "avg(pg_column_size(o.*) - coalesce(pg_column_size(o.text), 0) "
                        "+ pg_column_size(CAST(:t AS varchar)) "
                        "+ pg_column_size(CAST(:m AS json))) "
                        "FROM outbox o WHERE promotion_id = :p"
                    ),
                    {"t": rendered.text, "m": json.dumps(rendered.reply_markup), "p": promotion_id},
                )
            ).one()
            result["row_data_bytes"] = round(float(now_avg or 0))
            result["old_row_data_bytes"] = round(float(old_avg or 0))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(asyncio.run(_measure(args.child))))
        return 0
    print(f"Promotion fan-out, {args.users:,} opted-in recipients, 100,000 unique vouchers")
    for backend in args.backends.split(","):
        url = prepare(backend, args.users)
        child = subprocess.run(
            [sys.executable, "-m", "bench.fanout", "--child", url],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        result = json.loads(child.stdout.strip().splitlines()[-1])
        print(
            f"  {backend}: create (with vouchers) {result['create_seconds']:.2f} s; "
            f"fan-out {result['queued']:,} rows in {result['fanout_seconds']:.2f} s "
            f"({result['queued'] / max(result['fanout_seconds'], 1e-9):,.0f} rows/s); "
            f"RSS before/after fan-out {result['rss_before_mb']:.0f}/"
            f"{result['rss_after_mb']:.0f} MB, "
            f"peak {result['peak_rss_mb']:.0f} MB (peak before {result['peak_before_mb']:.0f} MB)"
        )
        old = result["disk_bytes_per_row"] + result["copied_bytes_per_old_row"]
        row_data = (
            f"; row data {result['row_data_bytes']} bytes now, "
            f"{result['old_row_data_bytes']} with the copy"
            if "row_data_bytes" in result
            else ""
        )
        print(
            f"  {backend}: outbox {result['disk_bytes_per_row']} bytes per row on disk (indexes "
            f"included); before issue 21 each row also carried the offer's text and keyboard, "
            f"{result['copied_bytes_per_old_row']} bytes, about {old} per row{row_data}; {load()}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
