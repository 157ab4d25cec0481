"""The extra time of network roles in the nightly pass: betweenness from ScoringPass's pivots
and roles from percentiles, on synthetic friendships (never part of the test run).

    python -m bench roles [--users 100000,1000000] [--avg-friends 20] [--pivots 64]

Prints, per size, the seconds the roles add and the peak RSS of a fresh child process.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

from scoring.betweenness import estimate_betweenness, network_roles
from scoring.graph import compute_graph_features
from scoring.synthetic import synthetic_friendships
from services.scoring_pass import ROLE_PIVOTS


def one(users: int, avg_friends: float, pivots: int) -> dict[str, float]:
    src, dst = synthetic_friendships(users, avg_friends, seed=1)
    graph = compute_graph_features(users, src, dst)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    estimate = estimate_betweenness(users, src, dst, k=pivots, seed=1)
    roles = network_roles(graph.degree, estimate.estimate, graph.effective_size)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "users": users,
        "friendships": graph.n_edges,
        "pivots": pivots,
        "extra_seconds": round(seconds, 2),
        "extra_peak_mb": round(max(0.0, after - before), 1),
        "hoeffding_epsilon": round(estimate.hoeffding_epsilon, 4),
        "median_bound": float(np.median(estimate.bound)),
        "roles": sum(r is not None for r in roles),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench roles")
    parser.add_argument("--users", default="100000")
    parser.add_argument("--avg-friends", type=float, default=20.0)
    parser.add_argument("--pivots", type=int, default=ROLE_PIVOTS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.users.split(",")]
    if args.child:
        print(json.dumps(one(sizes[0], args.avg_friends, args.pivots)))
        return 0
    for users in sizes:
        out = subprocess.run(
            [sys.executable, "-m", "bench", "roles", "--child", "--users", str(users),
             "--avg-friends", str(args.avg_friends), "--pivots", str(args.pivots)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        print(out.stdout.strip())
    return 0
