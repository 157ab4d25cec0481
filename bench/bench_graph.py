"""Time the population pass of the scoring package: synthetic friendships, graph features and
vectorised scoring, at growing population sizes.

    python bench/bench_graph.py --users 1000000 --avg-friends 20

Each size runs in a fresh child process so its peak RSS (``resource.getrusage``) is its own.
Prints one line per size; never part of the test run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from scoring.graph import compute_graph_features  # noqa: E402
from scoring.model import (  # noqa: E402
    HISTORY_DAYS,
    STARTING_SCORE,
    CitizenInputs,
    PopulationInputs,
    aggregate_payment_events,
    score,
    score_population,
)
from scoring.synthetic import synthetic_friendships  # noqa: E402

SIZES = (10_000, 100_000, 1_000_000)
EVENTS_PER_USER = 12


def peak_rss_mb() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(n: int, avg_friends: float, seed: int, workers: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {"users": n, "rss_start_mb": round(peak_rss_mb(), 1)}

    t = time.perf_counter()
    src, dst = synthetic_friendships(n, avg_friends, seed)
    out["generate_s"] = time.perf_counter() - t
    out["pairs"] = int(src.size)

    rng = np.random.default_rng(seed)
    previous = np.where(
        rng.random(n) < 0.9, rng.normal(STARTING_SCORE, 60, n).clip(350, 950), np.nan
    )
    t = time.perf_counter()
    g = compute_graph_features(n, src, dst, previous, workers=workers)
    out["features_s"] = time.perf_counter() - t
    out["triangles"] = int(g.triangles.sum() // 3)
    out["max_degree"] = int(g.degree.max()) if n else 0
    del src, dst

    # Twelve payment events a person, as a database would hand them over.
    m = n * EVENTS_PER_USER
    person = np.repeat(np.arange(n, dtype=np.int64), EVENTS_PER_USER)
    age = rng.integers(0, HISTORY_DAYS, m)
    outcome = rng.choice(3, size=m, p=[0.85, 0.1, 0.05])
    t = time.perf_counter()
    w = aggregate_payment_events(n, person, age, outcome)
    out["aggregate_s"] = time.perf_counter() - t
    del person, age, outcome

    pop = PopulationInputs(
        on_time_weight=w.on_time,
        late_weight=w.late,
        missed_weight=w.missed,
        outstanding_pence=rng.integers(0, 40_000, n) * (rng.random(n) < 0.4),
        limit_pence=rng.choice([0, 5_000, 15_000, 30_000, 50_000], n),
        defaults=(rng.random(n) < 0.03).astype(np.int64),
        upheld_disputes=(rng.random(n) < 0.01).astype(np.int64),
        vouchers_redeemed=rng.integers(0, 6, n),
        verified_referrals=rng.integers(0, 4, n),
        verified=rng.random(n) < 0.9,
        account_age_days=rng.integers(0, 2000, n),
        friend_count=g.degree,
        friends_mean_score=g.friends_mean_score,
        pagerank=g.pagerank,
        effective_size=g.effective_size,
    )
    t = time.perf_counter()
    scores = score_population(pop)
    out["score_s"] = time.perf_counter() - t
    out["mean_score"] = round(float(scores.score.mean()), 1)

    # One explanation, as /why builds it on demand.
    one = CitizenInputs(verified=True, registered_on=date(2025, 1, 1))
    as_of = date(2025, 6, 1)
    t = time.perf_counter()
    for _ in range(200):
        score(one, as_of=as_of)
    out["explain_ms"] = (time.perf_counter() - t) / 200 * 1000

    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000, help="largest population")
    parser.add_argument("--avg-friends", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None, help="threads for the features")
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.one is not None:
        print(json.dumps(run_one(args.one, args.avg_friends, args.seed, args.workers)))
        return

    sizes = [s for s in SIZES if s < args.users] + [args.users]
    print(
        f"{'users':>9} {'pairs':>10} {'generate s':>10} {'features s':>10} "
        f"{'aggregate s':>11} {'score s':>8} {'explain ms':>10} {'peak RSS MB':>11}"
    )
    for n in sizes:
        cmd = [sys.executable, __file__, "--one", str(n), "--avg-friends", str(args.avg_friends)]
        cmd += ["--seed", str(args.seed)]
        if args.workers is not None:
            cmd += ["--workers", str(args.workers)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{r['users']:>9,} {r['pairs']:>10,} {r['generate_s']:>10.2f} {r['features_s']:>10.2f} "
            f"{r['aggregate_s']:>11.2f} {r['score_s']:>8.2f} {r['explain_ms']:>10.2f} "
            f"{r['peak_rss_mb']:>11.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
