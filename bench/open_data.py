"""Complementary suppression of the open-data table at country size: 120 postcode areas × 5
bands, with all totals (issue #17).

    python -m bench open-data [--areas 120] [--people 500,2000,10000,100000,1000000] [--runs 5]

For each population a table is drawn (area sizes skewed like a real country, bands weighted like
the scores), plus the hardest shape seen (one small cell in every area);
`services.disclosure.suppress` is timed (best and median of --runs), and every small cell is
checked against the protection rule. Never part of the test run.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

from services.disclosure import THRESHOLD, protected, suppress, with_totals

BANDS = 5
BAND_WEIGHTS = (5, 15, 40, 30, 10)


def table(areas: int, people: int, seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    sizes = [1 / (i + 1) ** 0.8 for i in range(areas)]
    inner = [[0] * BANDS for _ in range(areas)]
    for area, band in zip(
        rng.choices(range(areas), sizes, k=people),
        rng.choices(range(BANDS), BAND_WEIGHTS, k=people),
        strict=True,
    ):
        inner[area][band] += 1
    return [row for row in inner if any(row)]  # an area appears only if someone lives there


def one_small_per_area(areas: int, seed: int) -> list[list[int]]:
    """The hardest shape seen: every area has one small cell, in a random band, so every area
    needs a complementary cell of its own."""
    rng = random.Random(seed)
    rows = []
    for _ in range(areas):
        row = [rng.randint(10, 400) for _ in range(BANDS)]
        row[rng.randrange(BANDS)] = rng.randint(1, 9)
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areas", type=int, default=120)
    parser.add_argument("--people", default="500,2000,10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"Open-data suppression, {args.areas} areas × {BANDS} bands with totals")
    failed = 0
    cases = [
        (f"{people:>9,} people", table(args.areas, people, seed=people))
        for people in (int(n) for n in args.people.split(","))
    ]
    cases.append(("one small cell per area", one_small_per_area(args.areas, seed=1)))
    for name, inner in cases:
        grid = with_totals(inner, BANDS)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            result = suppress(grid)
            times.append(time.perf_counter() - start)
        ok = all(protected(grid, result.hidden, p, THRESHOLD) for p in result.primary)
        failed |= not ok
        cells = len(grid) * (BANDS + 1)
        print(
            f"  {name}, {len(inner)} areas: {len(result.primary)} small + "
            f"{len(result.complementary)} complementary of {cells} cells hidden; "
            f"best {min(times) * 1000:.0f} ms, median {statistics.median(times) * 1000:.0f} ms; "
            f"{'all protected' if ok else 'NOT PROTECTED'}"
        )
    print(f"  load average now: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return int(failed)


if __name__ == "__main__":
    raise SystemExit(main())
