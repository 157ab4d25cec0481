"""The extra time and memory of network roles in the nightly pass, on synthetic friendships
(never part of the test run).

    python -m bench roles [--users 100000,1000000] [--avg-friends 20] [--pivots 64]

For each size, two fresh child processes run the pass's in-memory graph work on the same graph:
one without roles (degree, triangles, PageRank, effective size: ``compute_graph_features``) and
one with them (the same, then the betweenness estimate and the roles). Each reports its wall
and CPU seconds and its peak RSS; the load average is printed beside every figure, since this
2-core machine is shared and wall time under load says little on its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any

import numpy as np

from scoring.betweenness import estimate_betweenness, network_roles
from scoring.graph import compute_graph_features
from scoring.synthetic import synthetic_friendships
from services.scoring_pass import ROLE_PIVOTS

TARGET_EXTRA_SECONDS = 15.0
TARGET_EXTRA_MB = 1024.0


def _load() -> float:
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def one(users: int, avg_friends: float, pivots: int, with_roles: bool) -> dict[str, Any]:
    src, dst = synthetic_friendships(users, avg_friends, seed=1)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load_before = _load()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    graph = compute_graph_features(users, src, dst)
    wall1, cpu1 = time.perf_counter(), time.process_time()
    out: dict[str, Any] = {
        "users": users,
        "friendships": graph.n_edges,
        "roles": with_roles,
        "graph_seconds": round(wall1 - wall0, 2),
        "graph_cpu": round(cpu1 - cpu0, 2),
    }
    if with_roles:
        estimate = estimate_betweenness(users, src, dst, k=pivots, seed=1)
        roles = network_roles(graph.degree, estimate.estimate, graph.effective_size)
        out.update(
            pivots=pivots,
            hoeffding_epsilon=round(estimate.hoeffding_epsilon, 4),
            median_bound=float(np.median(estimate.bound)),
            with_role=sum(r is not None for r in roles),
        )
    wall2, cpu2 = time.perf_counter(), time.process_time()
    out.update(
        seconds=round(wall2 - wall0, 2),
        cpu=round(cpu2 - cpu0, 2),
        roles_seconds=round(wall2 - wall1, 2),
        roles_cpu=round(cpu2 - cpu1, 2),
        # Peak RSS of the whole child, less what it held once the synthetic graph was built.
        peak_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base_rss, 1),
        load=(load_before, _load()),
    )
    return out


def _child(users: int, args: argparse.Namespace, with_roles: bool) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench", "roles", "--child", "--users", str(users),
           "--avg-friends", str(args.avg_friends), "--pivots", str(args.pivots)]  # fmt: skip
    if with_roles:
        cmd.append("--with-roles")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench roles")
    parser.add_argument("--users", default="100000")
    parser.add_argument("--avg-friends", type=float, default=20.0)
    parser.add_argument("--pivots", type=int, default=ROLE_PIVOTS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--with-roles", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.users.split(",")]
    if args.child:
        print(json.dumps(one(sizes[0], args.avg_friends, args.pivots, args.with_roles)))
        return 0
    print(f"Network roles in the pass's graph step ({args.pivots} pivots), fresh child each:")
    for users in sizes:
        without = _child(users, args, with_roles=False)
        with_ = _child(users, args, with_roles=True)
        for r in (without, with_):
            print(
                f"  {r['users']:>9,} users {r['friendships']:>11,} friendships, "
                f"{'with' if r['roles'] else 'without'} roles: {r['seconds']:.1f} s wall "
                f"({r['cpu']:.1f} s CPU; graph {r['graph_seconds']:.1f} s / "
                f"{r['graph_cpu']:.1f} s CPU), peak RSS +{r['peak_mb']:,.0f} MB "
                f"(load {r['load'][0]:.1f} -> {r['load'][1]:.1f})"
            )
        extra_wall = with_["seconds"] - without["seconds"]
        extra_mb = with_["peak_mb"] - without["peak_mb"]
        print(
            f"    roles add {extra_wall:.1f} s wall (betweenness + roles alone: "
            f"{with_['roles_seconds']:.1f} s wall, {with_['roles_cpu']:.1f} s CPU) and "
            f"{extra_mb:+,.0f} MB peak RSS; {with_['with_role']:,} people with a role; "
            f"Hoeffding epsilon {with_['hoeffding_epsilon']}, median per-node bound "
            f"{with_['median_bound']:.2e}"
        )
        if users >= 1_000_000:
            ok = with_["roles_cpu"] < TARGET_EXTRA_SECONDS and extra_mb < TARGET_EXTRA_MB
            print(
                f"    target at 1M (< {TARGET_EXTRA_SECONDS:.0f} s and < "
                f"{TARGET_EXTRA_MB:,.0f} MB more): {'met' if ok else 'NOT met'} "
                f"(judged on CPU seconds: wall time on a shared machine is mostly waiting)"
            )
    return 0
