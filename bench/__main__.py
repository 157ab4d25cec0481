"""`make bench`: every benchmark, printing its figures (never part of the test run).

python -m bench                     # all of them
python -m bench scoring [--sizes ...]
python -m bench scoring-pg [--users 10000000] [--nights N]   # PostgreSQL, 1M by default
python -m bench broadcast [--only ceiling,telegram,crash] [--recipients N]
python -m bench fanout [--users N] [--backends sqlite,postgresql]
python -m bench webhook [--rate 200 --seconds 20 --instances 1,2 --timeline]   # PostgreSQL
python -m bench open-data [--areas 120] [--people 500,2000,...] [--runs 5]
python -m bench roles [--users 100000,1000000] [--pivots 64]
python -m bench boost [--citizens 1000000] [--events 3000000] [--backends sqlite,postgresql]
python -m bench growth [--users 1000000] [--backends sqlite,postgresql] [--runs 3]
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from bench import boost, broadcast, fanout, growth, open_data, roles, scoring_pass, webhook_latency


def scoring_postgresql(args: list[str]) -> int:
    """The nightly pass on PostgreSQL, the production backend: 1M citizens unless --users says
    otherwise (issue 21: 30 s or less at 1M; --users 10000000 for the national-scale run)."""
    chosen = any(a.startswith(("--users", "--sizes")) for a in args)
    sizes = [] if chosen else ["--users", "1000000"]
    return scoring_pass.main(["--backend", "postgresql", *sizes, *args])


BENCHMARKS: dict[str, Callable[[list[str]], int]] = {
    "scoring": scoring_pass.main,
    "scoring-pg": scoring_postgresql,
    "fanout": fanout.main,
    "broadcast": broadcast.main,
    "webhook": webhook_latency.main,
    "open-data": open_data.main,
    "roles": roles.main,
    "boost": boost.main,
    "growth": growth.main,
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in BENCHMARKS:
        return BENCHMARKS[args[0]](args[1:])
    if args:  # options without a name: the scoring pass's, as before
        return scoring_pass.main(args)
    failed = 0
    for run in BENCHMARKS.values():
        failed |= run([])
    return failed


if __name__ == "__main__":
    sys.exit(main())
