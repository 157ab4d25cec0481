"""Which cells of a published table to hide, so that no small count can be worked out.

The table is areas × bands, published with all its totals: each area's total, each band's
national count, and the grand total. In this module the totals sit in the grid itself, as a last
row (national) and a last column (total); :func:`with_totals` builds it.

**Primary suppression.** A count of 1 to ``threshold - 1`` is hidden. A 0 is published: it counts
nobody, so it singles nobody out, and the rule we must keep is about counts of 1 to 9.

**The protection rule.** An attacker knows every published figure, that each row and column adds
up to its total, and that no count is negative. For every hidden small cell, the values that
attacker cannot rule out must include both 0 and ``threshold``: so they can neither pin the cell
to one value nor even show that it is under the threshold (its interval contains [0, 10]).

**How the attacker's interval is found.** Negate the totals except the grand total: then every
row and column of the grid sums to zero, and any change to the hidden cells that keeps every
published figure is a circulation on the bipartite graph whose nodes are the grid's rows and
columns and whose edges are the hidden cells. So the most a hidden cell can rise (or fall) is a
maximum flow between its row and its column through the other hidden cells, with capacities from
"no count below 0". The constraints are totally unimodular, so these flows are whole numbers and
equal the linear-programming bounds: exact, not an estimate (the tests check this with LP).

**Complementary suppression.** For each small cell in turn (row by row), if the hidden cells
cannot yet carry the protection it needs (``threshold - v`` up, ``v`` down), a minimum-cost flow
picks published cells to hide that can: a hidden cell costs nothing, a published one its count
plus one, so the flow runs through the smallest cells. Every cell the flow uses is hidden.
Hiding more never narrows an interval, so a cell once protected stays protected.

Pure and deterministic: the same table always gives the same cells.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

THRESHOLD = 10
"""The smallest count published; 1 to THRESHOLD - 1 are hidden."""

Position = tuple[int, int]
"""(row, column) in the grid with totals: the last row is national, the last column the total."""

_UNREACHED = 1 << 62


def with_totals(inner: Sequence[Sequence[int]], bands: int) -> list[list[int]]:
    """The areas × bands counts with each area's total as a last column and the national row
    (band counts and grand total) last."""
    rows = [[*row, sum(row)] for row in inner]
    national = [sum(row[c] for row in rows) for c in range(bands + 1)]
    return [*rows, national]


def is_small(count: int, threshold: int = THRESHOLD) -> bool:
    return 0 < count < threshold


@dataclass(frozen=True)
class Suppression:
    primary: frozenset[Position]
    """Cells hidden because they count 1 to 9 people."""
    complementary: frozenset[Position]
    """Cells hidden so that the primary ones cannot be worked out from the rest."""

    @property
    def hidden(self) -> frozenset[Position]:
        return self.primary | self.complementary


class _Network:
    """A flow network on the grid's rows (nodes 0..R) and columns (nodes R+1..R+1+C): each cell
    is a pair of arcs, row -> column raising the cell's signed value, column -> row lowering it.
    Built once for a set of cells; each :meth:`flow` runs on a fresh copy of the capacities."""

    def __init__(
        self, grid: Sequence[Sequence[int]], cells: Iterable[tuple[Position, int]], limit: int
    ) -> None:
        self.grid = grid
        self.rows = len(grid)
        self.nodes = self.rows + len(grid[0])
        self.adj: list[list[int]] = [[] for _ in range(self.nodes)]
        self.to: list[int] = []
        self.cap: list[int] = []
        self.cost: list[int] = []
        self.cell: list[Position] = []
        self.arcs: dict[Position, list[int]] = {}
        for pos, cost in cells:
            value = grid[pos[0]][pos[1]]
            row, col = pos[0], self.rows + pos[1]
            rise, fall = (
                ((row, col), (col, row)) if _sign(grid, pos) > 0 else ((col, row), (row, col))
            )
            self._arc(*rise, limit, cost, pos)
            if value > 0:
                self._arc(*fall, min(value, limit), cost, pos)

    def hide(self, pos: Position, hidden_caps: list[int]) -> None:
        """The cell at pos is hidden now: it costs nothing to use, and `hidden_caps` (the
        capacities with only hidden cells open) gains its arcs."""
        for e in self.arcs.get(pos, ()):
            self.cost[e] = 0
            hidden_caps[e] = self.cap[e]

    def ends(self, pos: Position, up: bool) -> tuple[int, int]:
        """(source, sink) of the flow that lets the cell at pos rise (or fall): the cell's own arc
        runs one way, so the rest of the circulation must come back the other."""
        row, col = pos[0], self.rows + pos[1]
        return (col, row) if up == (_sign(self.grid, pos) > 0) else (row, col)

    def _arc(self, u: int, v: int, cap: int, cost: int, pos: Position) -> None:
        for a, b, k, w in ((u, v, cap, cost), (v, u, 0, -cost)):
            self.adj[a].append(len(self.to))
            self.arcs.setdefault(pos, []).append(len(self.to))
            self.to.append(b)
            self.cap.append(k)
            self.cost.append(w)
            self.cell.append(pos)

    def flow(
        self, pos: Position, up: bool, need: int, only: list[int] | None = None
    ) -> tuple[int, list[int]]:
        """Up to `need` units of the circulation that moves the cell at pos (not through pos
        itself), at least cost: successive shortest paths, Dijkstra on reduced costs (breadth
        first through `only`, capacities in which just the hidden cells are open, when what is
        asked is whether they suffice). Returns the flow reached and the residual capacities."""
        source, sink = self.ends(pos, up)
        cap = list(self.cap if only is None else only)
        for e in self.arcs.get(pos, ()):
            cap[e] = 0
        potential = [0] * self.nodes
        sent = 0
        while sent < need:
            via = self._path(cap, potential, source, sink, costs=only is None)
            if via is None:
                break
            push, v = need - sent, sink
            while v != source:
                push = min(push, cap[via[v]])
                v = self.to[via[v] ^ 1]
            v = sink
            while v != source:
                cap[via[v]] -= push
                cap[via[v] ^ 1] += push
                v = self.to[via[v] ^ 1]
            sent += push
        return sent, cap

    def used(self, residual: list[int]) -> set[Position]:
        """The cells a flow runs through, from its residual capacities."""
        return {self.cell[e] for e in range(0, len(residual), 2) if residual[e ^ 1] > 0}

    def _path(
        self, cap: list[int], potential: list[int], source: int, sink: int, costs: bool
    ) -> list[int] | None:
        adj, to, cost = self.adj, self.to, self.cost
        via = [-1] * self.nodes
        if not costs:
            seen = [False] * self.nodes
            seen[source] = True
            queue = deque([source])
            while queue:
                u = queue.popleft()
                for e in adj[u]:
                    v = to[e]
                    if cap[e] > 0 and not seen[v]:
                        seen[v] = True
                        via[v] = e
                        if v == sink:
                            return via
                        queue.append(v)
            return None
        dist = [_UNREACHED] * self.nodes
        dist[source] = 0
        heap = [(0, source)]
        while heap:
            d, u = heapq.heappop(heap)
            if d > dist[u]:
                continue
            if u == sink:
                break
            pu = potential[u]
            for e in adj[u]:
                if cap[e] > 0:
                    v = to[e]
                    nd = d + cost[e] + pu - potential[v]
                    if nd < dist[v]:
                        dist[v] = nd
                        via[v] = e
                        heapq.heappush(heap, (nd, v))
        reach = dist[sink]
        if reach == _UNREACHED:
            return None
        # Settled nodes move by their distance, the rest by the sink's: reduced costs stay >= 0.
        for v in range(self.nodes):
            potential[v] += min(dist[v], reach)
        return via


def _sign(grid: Sequence[Sequence[int]], pos: Position) -> int:
    """+1 for the areas' band counts and the grand total, -1 for the other totals: with the
    totals negated every row and column of the grid sums to zero."""
    last_row, last_col = len(grid) - 1, len(grid[0]) - 1
    return 1 if (pos[0] == last_row) == (pos[1] == last_col) else -1


def _positions(grid: Sequence[Sequence[int]]) -> Iterable[Position]:
    return ((r, c) for r in range(len(grid)) for c in range(len(grid[0])))


def movement(
    grid: Sequence[Sequence[int]], hidden: Iterable[Position], pos: Position, up: bool, limit: int
) -> int:
    """How far (up to `limit`) the hidden cell at pos can rise (or fall) while every published
    figure stays as it is and no count goes below 0."""
    if not up:
        limit = min(limit, grid[pos[0]][pos[1]])
    if limit <= 0:
        return 0
    return _Network(grid, ((p, 0) for p in hidden), limit).flow(pos, up, limit)[0]


def interval(
    grid: Sequence[Sequence[int]], hidden: Iterable[Position], pos: Position, reach: int
) -> tuple[int, int]:
    """The attacker's interval for the hidden cell at pos: exact at the bottom, and at the top
    exact or, if the cell could rise by `reach` or more, value + reach."""
    cells = list(hidden)
    value = grid[pos[0]][pos[1]]
    return (
        value - movement(grid, cells, pos, up=False, limit=value),
        value + movement(grid, cells, pos, up=True, limit=reach),
    )


def protected(
    grid: Sequence[Sequence[int]],
    hidden: Iterable[Position],
    pos: Position,
    threshold: int = THRESHOLD,
) -> bool:
    """The protection rule: the attacker's interval for pos contains 0 and `threshold`."""
    low, high = interval(grid, hidden, pos, threshold)
    return low <= 0 and high >= threshold


def suppress(grid: Sequence[Sequence[int]], threshold: int = THRESHOLD) -> Suppression:
    """The cells to hide in a grid with totals (see :func:`with_totals`)."""
    primary = frozenset(p for p in _positions(grid) if is_small(grid[p[0]][p[1]], threshold))
    hidden = set(primary)
    costs = ((p, 0 if p in hidden else grid[p[0]][p[1]] + 1) for p in _positions(grid))
    net = _Network(grid, costs, threshold)
    only_hidden = [0] * len(net.cap)
    for pos in primary:
        net.hide(pos, only_hidden)
    for pos in sorted(primary):
        value = grid[pos[0]][pos[1]]
        for up, need in ((True, threshold - value), (False, value)):
            if net.flow(pos, up, need, only=only_hidden)[0] >= need:
                continue
            sent, residual = net.flow(pos, up, need)
            # Unreachable: with every cell available any cell can fall to 0 (along its row's
            # total, its column's total and the grand total) and rise without limit.
            for more in net.used(residual) if sent >= need else set(_positions(grid)):
                hidden.add(more)
                net.hide(more, only_hidden)
    return Suppression(primary, frozenset(hidden - primary))
