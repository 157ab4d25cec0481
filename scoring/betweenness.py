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

With the pass's k = 64 at 1M people and delta = 0.05, ``hoeffding_epsilon`` is about 0.38 (and
the empirical Bernstein term is no smaller at this k): the guarantee is honest but loose, and
what the roles use is the ranking, whose accuracy the tests check against networkx.

Speed (issue 19): each search is level-synchronous numpy over an int32 CSR, one gather of
``dist`` per edge and one gather of a per-node coefficient per DAG edge on the way back; at 1M
users and 10M friendships about 0.8 s of CPU per pivot (1.6 s before those changes), measured
with the machine shared (load 12). Measured and not used, on the same graph: networkit 11.3's
EstimateBetweenness (15 s a sample at 1M, 0.75 s at 100k, where this takes 0.07 s) and its
KADABRA (142 s for epsilon 0.01 at 100k), igraph 1.0's subset betweenness (6-12 s a source at
1M), and a numba-compiled scalar Brandes (2.1 s a pivot at 1M: one cache miss at a time).
"""

from __future__ import annotations

import itertools
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from scoring.graph import upper_adjacency

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


Int32Array = npt.NDArray[np.int32]

EXPAND_EDGES = 16_000_000
"""A breadth-first level is expanded in slices of about this many edges (bounded temporaries)."""


def _csr(n: int, src: npt.ArrayLike, dst: npt.ArrayLike) -> tuple[IntArray, Int32Array]:
    """Symmetric adjacency in CSR form, int32 neighbour ids (half the memory traffic of int64).

    Each row is its lower-triangle entries (the transpose of the upper triangle, by scipy's
    counting sort in C) followed by its upper-triangle entries, copied into place a slice at a
    time: about 18 bytes a friendship at the peak, 8 kept (two int32 ids). Building it from
    both directions' lists at once measured 37 bytes a friendship at the peak."""
    upper = upper_adjacency(n, src, dst)
    lower = upper.T.tocsr()
    up_ptr, up_cols = upper.indptr, upper.indices
    low_ptr = lower.indptr.astype(np.int64, copy=False)
    low_cols = lower.indices.astype(np.int32, copy=False)
    del upper, lower
    indptr = up_ptr + low_ptr
    indices = np.empty(int(indptr[-1]), dtype=np.int32)
    # Row r's lower entries go to indptr[r] onwards, its upper ones after them.
    for ptr, cols, before in ((low_ptr, low_cols, up_ptr[:-1]), (up_ptr, up_cols, low_ptr[1:])):
        bounds = np.searchsorted(ptr, np.arange(0, int(ptr[-1]), EXPAND_EDGES), side="right") - 1
        for r0, r1 in itertools.pairwise([*bounds.tolist(), n]):
            j0, j1 = int(ptr[r0]), int(ptr[r1])
            if j1 > j0:
                dest = np.repeat(before[r0:r1], np.diff(ptr[r0 : r1 + 1]))
                dest += np.arange(j0, j1, dtype=np.int64)
                indices[dest] = cols[j0:j1]
    return indptr, indices


def _expand(
    indptr: IntArray, indices: Int32Array, frontier: Int32Array
) -> tuple[Int32Array, Int32Array]:
    """All (v, w) with v in frontier and w a neighbour of v."""
    starts = indptr[frontier]
    counts = indptr[frontier + 1] - starts
    total = int(counts.sum())
    if total == 0:
        empty = np.zeros(0, dtype=np.int32)
        return empty, empty
    # Edge positions: starts[i] + 0..counts[i]-1, without a Python loop. In int32 when they
    # fit: these are the largest temporaries of the pass, and half the bytes are half the time.
    kind = np.int32 if indices.size < 2**31 else np.int64
    first = (starts - np.cumsum(counts) + counts).astype(kind)
    pos = np.repeat(first, counts)
    pos += np.arange(total, dtype=kind)
    return np.repeat(frontier, counts), indices[pos]


def _dependencies(n: int, indptr: IntArray, indices: Int32Array, source: int) -> FloatArray:
    """Brandes' dependency delta_s(v) of the source on every v (delta_s(s) = 0)."""
    dist = np.full(n, -1, dtype=np.int32)
    sigma = np.zeros(n, dtype=np.float64)
    dist[source] = 0
    sigma[source] = 1.0
    frontier = np.array([source], dtype=np.int32)
    seen = np.zeros(n, dtype=bool)
    # Per level, the shortest-path DAG edges (v -> w) and the level's nodes.
    levels: list[tuple[Int32Array, Int32Array, Int32Array]] = []
    depth = 0
    while frontier.size:
        # A wide level is expanded a slice of the frontier at a time (about EXPAND_EDGES edges
        # each) so its temporaries stay bounded: at 100M friendships one level's edge list and
        # its gathers are several GB. Same result: a node found in an earlier slice has
        # dist = depth + 1 and still counts as a DAG child, and the per-node sigma sums are
        # added in the same edge order.
        ends = np.cumsum(indptr[frontier + 1] - indptr[frontier])
        cuts = np.searchsorted(ends, np.arange(EXPAND_EDGES, int(ends[-1]), EXPAND_EDGES))
        dag_v: list[Int32Array] = []
        dag_w: list[Int32Array] = []
        for part in np.split(frontier, cuts):
            v, w = _expand(indptr, indices, part)
            dw = dist[w]
            fresh = dw < 0
            found = w[fresh]
            dist[found] = depth + 1
            # DAG edges lead to the next level: nodes found just now, or found earlier at this
            # same depth (one gather of dist, not two).
            down = fresh | (dw == depth + 1)
            del dw, fresh
            v, w = v[down], w[down]
            del down
            sigma += np.bincount(w, weights=sigma[v], minlength=n)
            # Deduplicate through a mask: np.unique's hashing measured three times slower.
            seen[found] = True
            dag_v.append(v)
            dag_w.append(w)
        nxt = np.flatnonzero(seen).astype(np.int32)
        seen[nxt] = False
        v = dag_v[0] if len(dag_v) == 1 else np.concatenate(dag_v)
        w = dag_w[0] if len(dag_w) == 1 else np.concatenate(dag_w)
        del dag_v, dag_w
        levels.append((v, w, nxt))
        frontier = nxt
        depth += 1
    # delta(v) = sigma(v) * sum over DAG children w of (1 + delta(w)) / sigma(w): one gather
    # of a per-node coefficient per edge instead of three.
    delta = np.zeros(n, dtype=np.float64)
    coef = np.zeros(n, dtype=np.float64)
    for v, w, below in reversed(levels):
        if v.size:
            coef[below] = (1.0 + delta[below]) / sigma[below]
            pulled = np.bincount(v, weights=coef[w], minlength=n)
            delta += pulled * sigma
    delta[source] = 0.0
    return delta


def _sums(
    n: int,
    indptr: IntArray,
    indices: Int32Array,
    pivots: list[int],
    times: list[int],
    factor: float,
) -> tuple[FloatArray, FloatArray]:
    """Sum of c * Y_s and of c * Y_s**2 over the pivots s (drawn c times each)."""
    total = np.zeros(n)
    total_sq = np.zeros(n)
    for s, c in zip(pivots, times, strict=True):
        y = _dependencies(n, indptr, indices, s)
        y *= factor
        total += c * y
        y *= y
        total_sq += c * y
    return total, total_sq


def estimate_betweenness(
    n_nodes: int,
    src: npt.ArrayLike,
    dst: npt.ArrayLike,
    *,
    k: int,
    seed: int = 0,
    delta: float = DEFAULT_DELTA,
    workers: int = 1,
) -> BetweennessEstimate:
    """Estimated normalised betweenness of every node from ``k`` pivots (see the module).

    ``workers`` threads may share the pivots (numpy releases the GIL in the gathers and
    comparisons that make up most of a search). The default is one: on this shared 2-core
    machine two threads measured no faster (8 pivots at 1M users: 29.9 s wall with one, 39.6 s
    with two, load 13). Each thread sums a fixed contiguous share of the sorted pivots and the
    shares are added in order, so the result does not depend on the scheduling.
    """
    n = n_nodes
    if k < 1:
        raise ValueError("k must be at least 1")
    if not 0.0 < delta < 1.0:
        raise ValueError("delta must be in (0, 1)")
    indptr, indices = _csr(n, src, dst)
    if n <= 2:
        zeros = np.zeros(n)
        return BetweennessEstimate(zeros, zeros.copy(), 0.0, 0, delta, exact=True)
    workers = max(1, workers)
    scale = 1.0 / ((n - 1) * (n - 2))
    if k >= n:
        every = list(range(n))
        total, _ = _run(n, indptr, indices, every, [1] * n, 1.0, workers)
        exact = total * scale
        return BetweennessEstimate(exact, np.zeros(n), 0.0, n, delta, exact=True)

    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=k)
    pivots, times = np.unique(draws, return_counts=True)
    r = n / (n - 1)
    total, total_sq = _run(n, indptr, indices, pivots.tolist(), times.tolist(), n * scale, workers)
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


def _run(
    n: int,
    indptr: IntArray,
    indices: Int32Array,
    pivots: list[int],
    times: list[int],
    factor: float,
    workers: int,
) -> tuple[FloatArray, FloatArray]:
    shares = min(workers, len(pivots))
    if shares <= 1:
        return _sums(n, indptr, indices, pivots, times, factor)
    cuts = np.linspace(0, len(pivots), shares + 1).astype(int).tolist()
    with ThreadPoolExecutor(max_workers=shares) as pool:
        futures = [
            pool.submit(_sums, n, indptr, indices, pivots[a:b], times[a:b], factor)
            for a, b in itertools.pairwise(cuts)
        ]
        parts = [f.result() for f in futures]
    total = np.zeros(n)
    total_sq = np.zeros(n)
    for part_total, part_sq in parts:
        total += part_total
        total_sq += part_sq
    return total, total_sq


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
