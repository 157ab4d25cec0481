"""End-to-end nightly scoring pass: read, graph features, score, write.

    python -m bench scoring --sizes 10000,100000,1000000 --avg-friends 20     # SQLite
    python -m bench scoring --backend postgresql --users 1000000
    python -m bench scoring --backend postgresql --users 10000000             # 100M friendships

For each size a synthetic population (`britizen demo-data`) is built once (SQLite:
bench/results/pass-<n>.db; PostgreSQL: a database bench_pass_<n>_<friends>_<seed> on
BRITIZEN_TEST_POSTGRES_URL's server) and reused on later runs. Then passes run, each in a fresh
child process so its wall time and peak RSS are its own: the FIRST pass over the new population
(every row is new: the worst case, what a migration or model change costs) and a NIGHTLY one a
day later (only rows whose shown values changed, or whose weekly history row is due, are
written). Targets: 1,000,000 users with 10,000,000 friendships in 30 s or less (issue #3 on
SQLite, issue #21 on PostgreSQL) with peak memory under 4 GB; 10M users / 100M friendships under
12 GB peak and under 5 minutes for the graph and score steps (issue #21).
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
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BENCH_KEY = b"bench-secret-key-not-for-production-000000"
TARGET_SECONDS = 30.0
TARGET_RSS_MB = 4096.0


DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def _url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def _pg_url(database: str) -> str:
    from sqlalchemy.engine import make_url

    admin = make_url(os.environ.get("BRITIZEN_TEST_POSTGRES_URL", DEFAULT_PG))
    return admin.set(database=database).render_as_string(hide_password=False)


def build_pg(users: int, avg_friends: float, seed: int) -> str:
    """The population in its own PostgreSQL database, built once: a database whose name says
    it is complete (renamed at the end of the build) is reused."""
    from bench.pg import pg_execute
    from storage.migrate import upgrade

    name = f"bench_pass_{users}_{avg_friends:g}_{seed}".replace(".", "_")
    admin = _pg_url("postgres")

    async def exists() -> bool:
        import asyncpg
        from sqlalchemy.engine import make_url

        parsed = make_url(admin)
        conn = await asyncpg.connect(
            host=parsed.host, port=parsed.port or 5432, user=parsed.username, database="postgres"
        )
        try:
            return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
        finally:
            await conn.close()

    if asyncio.run(exists()):
        upgrade(_pg_url(name))  # a population built before a migration landed
        return _pg_url(name)
    partial = f"{name}_partial"
    asyncio.run(
        pg_execute(admin, f'DROP DATABASE IF EXISTS "{partial}"', f'CREATE DATABASE "{partial}"')
    )
    upgrade(_pg_url(partial))

    async def generate() -> None:
        from bench.population_pg import build_population

        friendships, seconds = await build_population(
            _pg_url(partial),
            users,
            avg_friends,
            seed,
            lambda line: print(f"    {line}", flush=True),
        )
        print(
            f"  built {users:,} users / {friendships:,} friendships in PostgreSQL in "
            f"{seconds:.0f} s (bench/population_pg.py: generate_series, binary COPY, "
            "index-order inserts)"
        )

    asyncio.run(generate())
    asyncio.run(pg_execute(admin, f'ALTER DATABASE "{partial}" RENAME TO "{name}"'))
    return _pg_url(name)


def build(users: int, avg_friends: float, seed: int) -> Path:
    from services.clock import system_clock
    from services.demo_data import generate_demo_population
    from storage.db import Database
    from storage.migrate import upgrade

    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"pass-{users}-{avg_friends:g}-{seed}.db"
    if path.exists():
        return path
    partial = path.with_suffix(".partial.db")
    for stale in RESULTS.glob(partial.name + "*"):
        stale.unlink()
    upgrade(_url(partial))

    async def generate() -> None:
        db = Database(_url(partial))
        try:
            summary = await generate_demo_population(
                db, BENCH_KEY, system_clock, users=users, avg_friends=avg_friends, seed=seed,
                progress=lambda line: None,
            )  # fmt: skip
            print(
                f"  built {users:,} users / {summary.friendships:,} friendships "
                f"in {summary.seconds:.0f} s"
            )
        finally:
            await db.close()

    asyncio.run(generate())
    for suffix in ("-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    partial.rename(path)
    return path


def run_pass_in_this_process(url: str, days_ahead: int) -> dict[str, Any]:
    from datetime import UTC, datetime, timedelta

    from services.clock import ManualClock
    from services.scoring_pass import ScoringPass
    from storage.db import Database

    async def one() -> dict[str, Any]:
        db = Database(url)
        clock = ManualClock(datetime.now(UTC) + timedelta(days=days_ahead))
        try:
            started = time.perf_counter()
            summary = await ScoringPass(db, clock, ZoneInfo("Europe/London")).run(
                progress=lambda line: None
            )
            wall = time.perf_counter() - started
        finally:
            await db.close()
        return {
            "users": summary.users,
            "friendships": summary.friendships,
            "rewritten": summary.rewritten,
            "seconds": round(wall, 2),
            "timings": summary.timings,
        }

    result = asyncio.run(one())
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0)
    return result


def _load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def _child(url: str, days_ahead: int) -> dict[str, Any]:
    command = ["-m", "bench.scoring_pass", "--child", url, "--days-ahead", str(days_ahead)]
    child = subprocess.run([sys.executable, *command], cwd=ROOT, capture_output=True, text=True)
    if child.returncode != 0:
        # The child's own error (a pass already running, a database refusing) is the news.
        last = child.stderr.strip().splitlines()[-1:] or [f"exit status {child.returncode}"]
        raise SystemExit(f"the pass at {days_ahead} days ahead failed: {last[0]}")
    return dict(json.loads(child.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--users", help="one size (same as --sizes N)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--avg-friends", type=float, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--nights", type=int, default=2, help="nightly passes after the first")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--days-ahead", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_pass_in_this_process(args.child, args.days_ahead)))
        return 0

    sizes = [int(args.users)] if args.users else [int(size) for size in args.sizes.split(",")]
    print(
        f"Nightly scoring pass, {args.backend}, end to end (read + graph features + score + "
        f"write); load average {_load()} on {os.cpu_count()} cores:"
    )
    results = []
    for users in sizes:
        if args.backend == "sqlite":
            url = _url(build(users, args.avg_friends, args.seed))
        else:
            url = build_pg(users, args.avg_friends, args.seed)
        # A population reused from an earlier run already has scores: its first pass here is a
        # nightly one. Each run moves further ahead so every pass is a new day.
        offset = _next_offset(url)
        for night in range(args.nights + 1):
            result = _child(url, offset + night)
            label = f"day +{offset + night:<3}"
            results.append(result)
            t = result["timings"]
            print(
                f"  {label} {result['users']:>10,} users {result['friendships']:>12,} friendships:"
                f" {result['seconds']:6.1f} s (read {t['read']:.1f}, graph {t['graph']:.1f}, "
                f"score {t['score']:.1f}, roles {t.get('roles', 0):.1f}, "
                f"write {t['write']:.1f}; {result['rewritten']:,} rows rewritten), "
                f"peak RSS {result['peak_rss_mb']:,.0f} MB; load {_load()}",
                flush=True,
            )
    # The target is the nightly pass: the last one run (the first over a new population writes
    # every row; the next rewrites those that changed the day before, settling their previous
    # score; from the third on it is the steady state).
    big = max(reversed(results), key=lambda r: r["users"])
    if big["users"] == 1_000_000:
        ok = big["seconds"] <= TARGET_SECONDS and big["peak_rss_mb"] <= TARGET_RSS_MB
        print(
            f"  target at 1M (nightly): <= {TARGET_SECONDS:.0f} s and < {TARGET_RSS_MB:,.0f} MB: "
            f"{'met' if ok else 'NOT met'} ({big['seconds']:.1f} s, {big['peak_rss_mb']:,.0f} MB)"
        )
    return 0


def _next_offset(url: str) -> int:
    """Days past today for this run's first pass: one past the newest pass already stored."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from storage.db import Database

    async def newest() -> int:
        db = Database(url)
        try:
            async with db.transaction() as session:
                as_of = await session.scalar(text("SELECT MAX(as_of) FROM scoring_runs"))
        finally:
            await db.close()
        if as_of is None:
            return 0
        if isinstance(as_of, str):
            from datetime import date

            as_of = date.fromisoformat(as_of)
        return max(0, (as_of - datetime.now(UTC).date()).days + 1)

    return asyncio.run(newest())


if __name__ == "__main__":
    sys.exit(main())
