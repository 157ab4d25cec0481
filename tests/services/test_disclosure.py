"""Complementary suppression, checked by an attacker (#17).

The attacker sees only what is published: every cell not hidden, and that rows and columns add
up to their totals. Treating each hidden cell as an unknown non-negative count, it solves two
linear programmes per hidden cell (the least and the most it can be) with scipy's HiGHS, which
shares no code with services.disclosure's network flows. A hidden cell pinned to one value in
1-9 is a leak; the rule is stronger still (every hidden small count could be 0 and could be 10).
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from services.disclosure import (
    THRESHOLD,
    Position,
    interval,
    is_small,
    protected,
    suppress,
    with_totals,
)

BANDS = 5
Grid = Sequence[Sequence[int]]


def equations(grid: Grid, hidden: Sequence[Position]) -> tuple[np.ndarray, np.ndarray]:
    """The attacker's system: one equation per row and per column of the grid with totals (its
    cells add up to its total), hidden cells as unknowns, published ones moved to the right."""
    last_row, last_col = len(grid) - 1, len(grid[0]) - 1
    index = {pos: i for i, pos in enumerate(hidden)}
    lines = [[(r, c) for c in range(last_col + 1)] for r in range(last_row + 1)] + [
        [(r, c) for r in range(last_row + 1)] for c in range(last_col + 1)
    ]
    rows, rhs = [], []
    for line in lines:
        coeffs = np.zeros(len(hidden))
        known = 0
        for pos in line:
            sign = -1 if pos == line[-1] else 1  # the line's total is its last cell
            if pos in index:
                coeffs[index[pos]] = sign
            else:
                known -= sign * grid[pos[0]][pos[1]]
        if coeffs.any():
            rows.append(coeffs)
            rhs.append(known)
    if not rows:
        return np.zeros((0, len(hidden))), np.zeros(0)
    return np.array(rows), np.array(rhs, dtype=float)


def attack(
    grid: Grid, hidden: Collection[Position], targets: Collection[Position] | None = None
) -> dict[Position, tuple[int, int | None]]:
    """Each hidden cell's (or each target's) least and most value (None: no upper limit), by
    linear programming."""
    cells = sorted(hidden)
    a, b = equations(grid, cells)
    found: dict[Position, tuple[int, int | None]] = {}
    for i, pos in enumerate(cells):
        if targets is not None and pos not in targets:
            continue
        bounds: list[int | None] = []
        for direction in (1, -1):
            objective = np.zeros(len(cells))
            objective[i] = direction
            result = linprog(objective, A_eq=a if len(b) else None, b_eq=b if len(b) else None)
            if result.status == 3:  # unbounded: only possible when maximising
                bounds.append(None)
                continue
            assert result.status == 0, result.message
            value = direction * result.fun
            assert abs(value - round(value)) < 1e-6, "the LP bound is not a whole number"
            bounds.append(round(value))
        low = bounds[0]
        assert low is not None
        found[pos] = (low, bounds[1])
    return found


def integer_attack(grid: Grid, hidden: Collection[Position]) -> dict[Position, tuple[int, int]]:
    """The same by integer programming, for small tables with a published grand total (so
    every cell is bounded)."""
    cells = sorted(hidden)
    a, b = equations(grid, cells)
    top = grid[-1][-1]
    found = {}
    for i, pos in enumerate(cells):
        ends = []
        for direction in (1, -1):
            objective = np.zeros(len(cells))
            objective[i] = direction
            result = milp(
                objective,
                constraints=LinearConstraint(a, b, b) if len(b) else None,
                integrality=np.ones(len(cells)),
                bounds=Bounds(0, top),
            )
            assert result.status == 0, result.message
            ends.append(round(direction * result.fun))
        found[pos] = (ends[0], ends[1])
    return found


def pinned_small(found: dict[Position, tuple[int, int | None]]) -> list[Position]:
    return [pos for pos, (low, high) in found.items() if low == high and 1 <= low <= 9]


counts = st.one_of(
    st.integers(0, 12), st.integers(0, 40), st.integers(0, 400), st.sampled_from([0, 0, 1, 2])
)
tables = st.integers(1, 6).flatmap(
    lambda areas: st.lists(
        st.lists(counts, min_size=BANDS, max_size=BANDS), min_size=areas, max_size=areas
    )
)


@settings(max_examples=60)
@given(tables)
def test_no_hidden_count_under_10_can_be_worked_out(inner: list[list[int]]) -> None:
    grid = with_totals(inner, BANDS)
    result = suppress(grid)
    found = attack(grid, result.hidden)
    assert pinned_small(found) == []
    for pos in result.primary:
        low, high = found[pos]
        assert low == 0 and (high is None or high >= THRESHOLD), (pos, grid[pos[0]][pos[1]])
    for pos in result.hidden:  # the flows in services.disclosure agree with the LP exactly
        low, high = found[pos]
        reach = THRESHOLD
        value = grid[pos[0]][pos[1]]
        assert interval(grid, result.hidden, pos, reach) == (
            low,
            value + reach if high is None else min(high, value + reach),
        )


@settings(max_examples=25)
@given(
    st.integers(1, 3).flatmap(
        lambda areas: st.lists(
            st.lists(st.integers(0, 14), min_size=BANDS, max_size=BANDS),
            min_size=areas,
            max_size=areas,
        )
    )
)
def test_the_lp_bounds_are_the_integer_bounds(inner: list[list[int]]) -> None:
    """Totally unimodular: the attacker's LP interval is exactly what whole numbers allow, so the
    LP attacker above is no weaker than one that knows counts are integers."""
    grid = with_totals(inner, BANDS)
    for hidden in (suppress(grid).hidden, _primary_only(grid)):
        if grid[-1][-1] and hidden and (len(grid) - 1, BANDS) not in hidden:
            assert attack(grid, hidden) == integer_attack(grid, hidden)


@settings(max_examples=60)
@given(tables)
def test_what_is_published_is_true_and_only_small_counts_are_primary(
    inner: list[list[int]],
) -> None:
    grid = with_totals(inner, BANDS)
    result = suppress(grid)
    cells = [(r, c) for r in range(len(grid)) for c in range(BANDS + 1)]
    assert result.primary == {p for p in cells if is_small(grid[p[0]][p[1]])}
    assert not result.primary & result.complementary
    assert all(not is_small(grid[p[0]][p[1]]) for p in result.complementary)
    assert suppress([list(row) for row in grid]) == result  # deterministic


def _primary_only(grid: Grid) -> set[Position]:
    return {(r, c) for r in range(len(grid)) for c in range(len(grid[0])) if is_small(grid[r][c])}


def test_the_issue_s_example_no_longer_leaks() -> None:
    """Before: cells under 10 hidden, nothing else; the national total minus the other areas
    gave BN Good = 6 and Very good = 2."""
    inner = [
        [0, 3, 6, 2, 0],  # BN
        [14, 25, 40, 31, 12],  # BS
        [11, 18, 52, 27, 10],  # SO
    ]
    grid = with_totals(inner, BANDS)
    before = attack(grid, _primary_only(grid))
    assert before[(0, 2)] == (6, 6) and before[(0, 3)] == (2, 2)
    assert set(pinned_small(before)) >= {(0, 2), (0, 3)}

    result = suppress(grid)
    after = attack(grid, result.hidden)
    assert pinned_small(after) == []
    assert all(protected(grid, result.hidden, p) for p in result.primary)
    assert result.complementary  # something beyond the small cells had to go


@pytest.mark.parametrize("people", [1_500, 30_000])
def test_a_country_sized_table_is_protected(people: int) -> None:
    """120 areas, skewed sizes: every small cell checked by the flows, and 30 hidden cells
    picked at random by the LP attacker (each LP solves the whole table)."""
    rng = random.Random(people)
    weights = [1 / (i + 1) ** 0.8 for i in range(120)]
    inner = [[0] * BANDS for _ in range(120)]
    for area, band in zip(
        rng.choices(range(120), weights, k=people),
        rng.choices(range(BANDS), [5, 15, 40, 30, 10], k=people),
        strict=True,
    ):
        inner[area][band] += 1
    grid = with_totals(inner, BANDS)
    result = suppress(grid)
    assert result.primary
    assert all(protected(grid, result.hidden, p) for p in result.primary)
    targets = rng.sample(sorted(result.hidden), min(30, len(result.hidden)))
    assert pinned_small(attack(grid, result.hidden, targets)) == []
