"""Betweenness centrality by pivot sampling, with a stated error bound, and network roles.

Exact betweenness (Brandes) needs one breadth-first search per person: out of reach at national
scale. The estimator here is k-pivot Brandes (Brandes & Pich 2007; Bader et al.): draw ``k``
source pivots uniformly **with replacement** (so the draws are i.i.d.), run Brandes' single-
source shortest-path count and dependency accumulation from each on the CSR adjacency (a
level-synchronous BFS in numpy), and scale by ``n / k``.

Normalisation is networkx's ``betweenness_centrality(normalized=True)`` for an undirected graph:
``b(v) = sum_{s != v != t} sigma_st(v) / sigma_st / ((n - 1)(n - 2))`` (ordered pairs), a number
in [0, 1]. For pivot ``s`` let ``Y_s(v) = n * delta_s(v) / ((n - 1)(n - 2))``; then
``E[Y_s(v)] = b(v)`` and, since ``delta_s(v) <= n - 2``, ``0 <= Y_s(v) <= R = n / (n - 1)``.

The bound (stated per node, holding for **all nodes at once** with probability ``1 - delta``):

* ``hoeffding_epsilon = R * sqrt(ln(2n / delta) / (2k))`` — Hoeffding plus a union bound over
  the ``n`` nodes; uniform, and loose.
* ``bound[v]`` — the empirical Bernstein bound (Maurer & Pontil 2009, Theorem 4) with the union
  bound: ``sqrt(2 V_v L / k) + 7 R L / (3 (k - 1))`` with ``L = ln(2n / delta)`` and ``V_v`` the
  sample variance of ``Y_s(v)``. Never larger than needed for nodes rarely on shortest paths,
  so it is far tighter than Hoeffding for most of the population. ``bound`` is the minimum of
  the two (each holds with probability ``1 - delta``; we spend ``delta / 2`` on each).

When ``k >= n`` every node is a pivot exactly once and the result is exact (bound 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from scoring.graph import canonical_edges

__all__ = [
    "BROKER_PERCENTILE",
    "CONNECTOR_PERCENTILE",
    "DEFAULT_DELTA",
    "BetweennessEstimate",
    "estimate_betweenness",
    "network_roles",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

DEFAULT_DELTA = 0.05
"""The stated bound holds for every node simultaneously with probability at least 95%."""

CONNECTOR_PERCENTILE = 95.0
"""A connector's degree is at or above this percentile of the population's degrees."""

BROKER_PERCENTILE = 95.0
"""A broker's estimated betweenness is at or above this percentile..."""

BROKER_EFFICIENCY_PERCENTILE = 50.0
"""...and their efficiency (Burt's effective size / degree: 1 when no two of their friends know
each other) at or above this percentile among people with friends: they span structural holes."""


@dataclass(frozen=True, eq=False)
class BetweennessEstimate:
    estimate: FloatArray
    """Estimated normalised betweenness by node (networkx's normalisation, in [0, 1])."""
    bound: FloatArray
    """Per-node error bound: |estimate - exact| <= bound for all nodes w.p. >= 1 - delta."""
    hoeffding_epsilon: float
    """The uniform Hoeffding bound for this k, n and delta."""
    pivots: int
    """k, the number of pivots drawn (with replacement)."""
    delta: float
    exact: bool
    """True when every node was a source (k >= n): the estimate is the exact value."""


def _csr(n: int, src: npt.ArrayLike, dst: npt.ArrayLike) -> tuple[IntArray, npt.NDArray[np.int32]]:
    u, v = canonical_edges(n, src, dst)
    heads = np.concatenate((u, v)).astype(np.int64)
    tails = np.concatenate((v, u))
    order = np.argsort(heads, kind="stable")
    indices = tails[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(heads, minlength=n), out=indptr[1:])
    return indptr, indices


def _expand(
    indptr: IntArray, indices: npt.NDArray[np.int32], frontier: IntArray
) -> tuple[IntArray, IntArray]:
    """All (v, w) with v in frontier and w a neighbour of v."""
    starts = indptr[frontier]
    counts = indptr[frontier + 1] - starts
    total = int(counts.sum())
    if total == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    # Edge positions: starts[i] + 0..counts[i]-1, without a Python loop.
    offsets = np.repeat(starts - np.cumsum(counts) + counts, counts)
    pos = offsets + np.arange(total, dtype=np.int64)
    return np.repeat(frontier, counts), indices[pos].astype(np.int64)


def _dependencies(
    n: int, indptr: IntArray, indices: npt.NDArray[np.int32], source: int
) -> FloatArray:
    """Brandes' dependency delta_s(v) of the source on every v (delta_s(s) = 0)."""
    dist = np.full(n, -1, dtype=np.int64)
    sigma = np.zeros(n, dtype=np.float64)
    dist[source] = 0
    sigma[source] = 1.0
    frontier = np.array([source], dtype=np.int64)
    seen = np.zeros(n, dtype=bool)
    levels: list[tuple[IntArray, IntArray]] = []  # DAG edges (v -> w) from each level
    depth = 0
    while frontier.size:
        v, w = _expand(indptr, indices, frontier)
        found = w[dist[w] < 0]
        dist[found] = depth + 1
        down = dist[w] == depth + 1
        v, w = v[down], w[down]
        sigma += np.bincount(w, weights=sigma[v], minlength=n)
        levels.append((v, w))
        # Deduplicate through a mask: np.unique's hashing measured three times slower.
        seen[found] = True
        frontier = np.flatnonzero(seen)
        seen[frontier] = False
        depth += 1
    delta = np.zeros(n, dtype=np.float64)
    for v, w in reversed(levels):
        if v.size:
            delta += np.bincount(v, weights=sigma[v] / sigma[w] * (1.0 + delta[w]), minlength=n)
    delta[source] = 0.0
    return delta


def estimate_betweenness(
    n_nodes: int,
    src: npt.ArrayLike,
    dst: npt.ArrayLike,
    *,
    k: int,
    seed: int = 0,
    delta: float = DEFAULT_DELTA,
) -> BetweennessEstimate:
    """Estimated normalised betweenness of every node from ``k`` pivots (see the module)."""
    n = n_nodes
    if k < 1:
        raise ValueError("k must be at least 1")
    if not 0.0 < delta < 1.0:
        raise ValueError("delta must be in (0, 1)")
    indptr, indices = _csr(n, src, dst)
    if n <= 2:
        zeros = np.zeros(n)
        return BetweennessEstimate(zeros, zeros.copy(), 0.0, 0, delta, exact=True)
    scale = 1.0 / ((n - 1) * (n - 2))
    if k >= n:
        total = np.zeros(n)
        for s in range(n):
            total += _dependencies(n, indptr, indices, s)
        exact = total * scale
        return BetweennessEstimate(exact, np.zeros(n), 0.0, n, delta, exact=True)

    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=k)
    pivots, times = np.unique(draws, return_counts=True)
    r = n / (n - 1)
    total = np.zeros(n)
    total_sq = np.zeros(n)
    for s, c in zip(pivots.tolist(), times.tolist(), strict=True):
        y = _dependencies(n, indptr, indices, s) * (n * scale)
        total += c * y
        total_sq += c * y * y
    mean = total / k
    variance = np.maximum(total_sq - k * mean * mean, 0.0) / (k - 1) if k > 1 else np.zeros(n)
    log_term = math.log(2.0 * n / (delta / 2.0))
    hoeffding = r * math.sqrt(log_term / (2.0 * k))
    if k > 1:
        bernstein = np.sqrt(2.0 * variance * log_term / k) + 7.0 * r * log_term / (3.0 * (k - 1))
        bound = np.minimum(bernstein, hoeffding)
    else:
        bound = np.full(n, hoeffding)
    return BetweennessEstimate(mean, bound, hoeffding, k, delta, exact=False)


def network_roles(
    degree: npt.ArrayLike, betweenness: npt.ArrayLike, effective_size: npt.ArrayLike
) -> list[str | None]:
    """Each person's role from population percentiles: "broker", "connector" or None.

    A broker has betweenness at or above the 95th percentile (and above the median) and spans
    structural holes: efficiency (effective size / degree) at or above the median of people with
    friends. A connector has degree at or above the 95th percentile (and above the median).
    Someone who is both is listed as a broker, the rarer and more specific role. Roles are
    descriptive only: nothing in the score reads them.
    """
    deg = np.asarray(degree, dtype=np.float64)
    btw = np.asarray(betweenness, dtype=np.float64)
    eff = np.asarray(effective_size, dtype=np.float64)
    roles: list[str | None] = [None] * deg.size
    if deg.size == 0:
        return roles
    has_friends = deg > 0
    # "Top" means at or above the percentile and above the median: where most people tie (say
    # everyone has three friends) the percentile is the common value and nobody stands out.
    connector = (
        has_friends & (deg >= np.percentile(deg, CONNECTOR_PERCENTILE)) & (deg > np.median(deg))
    )
    efficiency = np.where(has_friends, eff / np.maximum(deg, 1.0), 0.0)
    typical = (
        np.percentile(efficiency[has_friends], BROKER_EFFICIENCY_PERCENTILE)
        if has_friends.any()
        else 0.0
    )
    broker = (
        (btw > 0)
        & (btw >= np.percentile(btw, BROKER_PERCENTILE))
        & (btw > np.median(btw))
        & has_friends
        & (efficiency >= typical)
    )
    for i in np.flatnonzero(connector).tolist():
        roles[i] = "connector"
    for i in np.flatnonzero(broker).tolist():
        roles[i] = "broker"
    return roles
