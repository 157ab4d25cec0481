"""End-to-end nightly scoring pass on SQLite: read, graph features, score, write.

    python -m bench.scoring_pass --sizes 10000,100000,1000000 --avg-friends 20

For each size a synthetic population (`britizen demo-data`) is built once into
bench/results/pass-<n>.db (reused on later runs), then one pass runs in a fresh child process
so its wall time and peak RSS are its own. The target (issue #3): 1,000,000 users with
10,000,000 friendships in 30 s or less with peak memory under 4 GB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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


def _url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


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


def run_pass_in_this_process(path: Path) -> dict[str, Any]:
    from services.clock import system_clock
    from services.scoring_pass import ScoringPass
    from storage.db import Database

    async def one() -> dict[str, Any]:
        db = Database(_url(path))
        try:
            started = time.perf_counter()
            summary = await ScoringPass(db, system_clock, ZoneInfo("Europe/London")).run(
                progress=lambda line: None
            )
            wall = time.perf_counter() - started
        finally:
            await db.close()
        return {
            "users": summary.users,
            "friendships": summary.friendships,
            "seconds": round(wall, 2),
            "timings": summary.timings,
        }

    result = asyncio.run(one())
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--avg-friends", type=float, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_pass_in_this_process(Path(args.child))))
        return 0

    print("Nightly scoring pass, SQLite, end to end (read + graph features + score + write):")
    results = []
    for users in (int(size) for size in args.sizes.split(",")):
        path = build(users, args.avg_friends, args.seed)
        child = subprocess.run(
            [sys.executable, "-m", "bench.scoring_pass", "--child", str(path)],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        result = json.loads(child.stdout.strip().splitlines()[-1])
        results.append(result)
        t = result["timings"]
        print(
            f"  {result['users']:>9,} users {result['friendships']:>11,} friendships: "
            f"{result['seconds']:6.1f} s (read {t['read']:.1f}, graph {t['graph']:.1f}, "
            f"score {t['score']:.1f}, write {t['write']:.1f}), "
            f"peak RSS {result['peak_rss_mb']:,.0f} MB"
        )
    if len(results) > 1:
        first, last = results[0], results[-1]
        growth = (last["seconds"] / first["seconds"]) / (last["friendships"] / first["friendships"])
        print(
            f"  time grows {growth:.2f}x as fast as the number of friendships "
            f"({first['users']:,} -> {last['users']:,} users)"
        )
    big = max(results, key=lambda r: r["users"])
    if big["users"] >= 1_000_000:
        ok = big["seconds"] <= TARGET_SECONDS and big["peak_rss_mb"] <= TARGET_RSS_MB
        print(
            f"  target at 1M: <= {TARGET_SECONDS:.0f} s and < {TARGET_RSS_MB:,.0f} MB: "
            f"{'met' if ok else 'NOT met'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
