"""Graph features of the friendship network: influence (PageRank) and brokerage (Burt's
effective size), plus each person's friends' mean score.

Two implementations of one definition:

* :func:`features_networkx` is the model of record: ``nx.pagerank`` (alpha 0.85) and
  ``nx.effective_size`` on a simple undirected graph. It is slow (the design notes measured
  288 s for effective size of 1,000 nodes at 100k users) and is used as the oracle in tests.
* :func:`compute_graph_features` is the population pass: numpy, about 4 s for
  1,000,000 people and 10,000,000 friendships on two cores (7 s on one), peak RSS about 1 GB;
  ``bench/bench_graph.py`` measures it.

Conventions shared by both (and relied on by :mod:`scoring.model`):

* Friendships are undirected. A pair may be given in either direction, more than once, or as a
  self-loop; duplicates collapse to one friendship and self-loops are dropped (being your own
  friend is not a friendship).
* PageRank is normalised so the population mean is 1.0: the value is ``nx.pagerank(...)[v] * n``.
  A person with no friends is a dangling node; like networkx we hand a dangling node's rank out
  uniformly (``personalization`` and ``dangling`` both uniform).
* Effective size of a person with no friends is 0.0 (networkx returns NaN there). For an
  unweighted undirected graph it is ``degree - 2 * t / degree`` where ``t`` is the number of ties
  among the person's friends, i.e. the triangles through them.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Hashable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_PAGERANK_TOL",
    "GraphFeatureArrays",
    "canonical_edges",
    "compute_graph_features",
    "features_networkx",
    "upper_adjacency",
]

DEFAULT_ALPHA = 0.85
"""PageRank damping factor, as networkx's default."""

DEFAULT_PAGERANK_TOL = 1e-8
"""Stop the PageRank solve when the residual norm is below this fraction of the right-hand side.
Errors in the normalised (mean 1.0) PageRank come out at a few times this: 6.5e-8 at most over
1M users, against 1e-6 required; each factor of 10 costs about two more iterations."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Int32Array = npt.NDArray[np.int32]

# Candidate wedges sorted per triangle-counting chunk. Bounds peak memory at about
# 40 bytes per candidate per worker (~330 MB each) whatever the population size.
_CHUNK_CANDIDATES = 8_000_000


@dataclass(frozen=True, eq=False)
class GraphFeatureArrays:
    """Per-person graph features, each an array of length ``n_nodes`` indexed like the input."""

    n_nodes: int
    n_edges: int
    """Distinct friendships after dropping duplicates and self-loops."""
    degree: IntArray
    """Number of friends."""
    triangles: IntArray
    """Ties among the person's friends (``nx.triangles``)."""
    pagerank: FloatArray
    """``nx.pagerank(alpha=0.85) * n_nodes``: the population mean is 1.0."""
    effective_size: FloatArray
    """Burt's effective size (``nx.effective_size``), 0.0 for people with no friends."""
    friends_mean_score: FloatArray
    """Mean of the friends' previous scores; NaN when no friend has a score."""


# --------------------------------------------------------------------------------------------
# The model of record


def features_networkx(
    G: nx.Graph[Any], *, alpha: float = DEFAULT_ALPHA, tol: float = 1e-12
) -> dict[Hashable, tuple[float, float]]:
    """``{node: (pagerank * n, effective_size)}`` computed with networkx.

    The graph is read as a simple undirected graph without self-loops (see the module
    docstring). ``tol`` is networkx's own tolerance; the default is tighter than networkx's
    1e-6 because networkx stops when the L1 change is below ``n * tol``, which for the
    normalised values would otherwise leave errors of order 1e-4.
    """
    import networkx as nx

    H: nx.Graph[Any] = nx.Graph(G)
    H.remove_edges_from(list(nx.selfloop_edges(H)))
    n = H.number_of_nodes()
    if n == 0:
        return {}
    # Friendships are unweighted: ignore any edge attributes the caller's graph carries.
    pr = nx.pagerank(H, alpha=alpha, tol=tol, max_iter=100_000, weight=None)
    eff = nx.effective_size(H, weight=None)
    out: dict[Hashable, tuple[float, float]] = {}
    for v in H:
        e = float(eff[v])
        out[v] = (float(pr[v]) * n, 0.0 if math.isnan(e) else e)
    return out


# --------------------------------------------------------------------------------------------
# Edge handling


Index = npt.NDArray[np.int32] | npt.NDArray[np.int64]


def _as_index_array(name: str, a: npt.ArrayLike, n_nodes: int) -> Index:
    """Node indices as given when they are int32 (4 bytes a friendship end: at 100M friendships
    an int64 copy of both ends is 1.6 GB), else as int64."""
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integers, not {arr.dtype}")
    out: Index = arr if arr.dtype == np.int32 else arr.astype(np.int64, copy=False)
    if out.size and (int(out.min()) < 0 or int(out.max()) >= n_nodes):
        raise ValueError(f"{name} holds a node index outside 0..{n_nodes - 1}")
    return out


def upper_adjacency(n_nodes: int, src: npt.ArrayLike, dst: npt.ArrayLike) -> sp.csr_matrix:
    """Distinct undirected friendships as the upper triangle of the adjacency (each friendship
    once, row < column), in CSR form with sorted int32 columns and boolean values.

    Self-loops and repeated pairs (in either direction) are dropped. Built by scipy's counting
    sort (COO to CSR) rather than by sorting 64-bit pair keys: about 14 bytes a friendship at
    the peak above the input, against about 25 for the keys, their sorted copy and masks."""
    if n_nodes < 0 or n_nodes > np.iinfo(np.int32).max:
        raise ValueError("n_nodes must be between 0 and 2**31 - 1")
    a = _as_index_array("src", src, n_nodes)
    b = _as_index_array("dst", dst, n_nodes)
    if a.shape != b.shape:
        raise ValueError("src and dst must have the same length")
    lo = np.minimum(a, b).astype(np.int32, copy=False)
    hi = np.maximum(a, b).astype(np.int32, copy=False)
    del a, b
    keep = lo != hi
    if not keep.all():
        lo, hi = lo[keep], hi[keep]
    del keep
    # Boolean values: a repeated pair sums (logical or) to one True, never to zero.
    upper = sp.coo_matrix(
        (np.ones(lo.size, dtype=bool), (lo, hi)), shape=(n_nodes, n_nodes)
    ).tocsr()
    upper.sum_duplicates()  # rows' columns sorted, repeats merged
    upper.indices = upper.indices.astype(np.int32, copy=False)
    upper.indptr = upper.indptr.astype(np.int64, copy=False)
    return upper


def canonical_edges(
    n_nodes: int, src: npt.ArrayLike, dst: npt.ArrayLike
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """Distinct undirected friendships as ``(u, v)`` with ``u < v``, sorted by ``(u, v)``.

    Self-loops and repeated pairs (in either direction) are dropped.
    """
    upper = upper_adjacency(n_nodes, src, dst)
    u = np.repeat(np.arange(n_nodes, dtype=np.int32), np.diff(upper.indptr))
    return u, upper.indices


# --------------------------------------------------------------------------------------------
# The population pass


def compute_graph_features(
    n_nodes: int,
    src: npt.ArrayLike,
    dst: npt.ArrayLike,
    scores: npt.ArrayLike | None = None,
    *,
    alpha: float = DEFAULT_ALPHA,
    tol: float = DEFAULT_PAGERANK_TOL,
    workers: int | None = None,
    pagerank_start: npt.ArrayLike | None = None,
) -> GraphFeatureArrays:
    """Degree, triangles, PageRank, effective size and friends' mean score for every node.

    ``src``/``dst`` are node indices in ``0..n_nodes-1``, each friendship given once (either
    direction; duplicates and self-loops are tolerated and removed). ``scores`` are the previous
    scores by node, NaN for people not yet scored; ``None`` leaves every friends' mean NaN.
    ``workers`` threads share the heavy steps (default: the CPU count, at most 4); the results do
    not depend on it. ``pagerank_start`` (last night's normalised PageRank, by node) only speeds
    up the solve: from a close start it needs a few iterations instead of ~16; the answer is
    the same to within the tolerance.
    """
    if n_nodes < 0 or n_nodes > np.iinfo(np.int32).max:
        raise ValueError("n_nodes must be between 0 and 2**31 - 1")
    a = _as_index_array("src", src, n_nodes)
    b = _as_index_array("dst", dst, n_nodes)
    if a.shape != b.shape:
        raise ValueError("src and dst must have the same length")
    score_arr: FloatArray | None = None
    if scores is not None:
        score_arr = np.asarray(scores, dtype=np.float64)
        if score_arr.shape != (n_nodes,):
            raise ValueError("scores must have one entry per node")
    start_arr: FloatArray | None = None
    if pagerank_start is not None:
        start_arr = np.asarray(pagerank_start, dtype=np.float64)
        if start_arr.shape != (n_nodes,) or not np.isfinite(start_arr).all():
            raise ValueError("pagerank_start must hold one finite value per node")
    n = n_nodes
    if workers is None:
        workers = min(4, os.cpu_count() or 1)
    workers = max(1, workers)

    # Relabel nodes by degree (ties by index). Orienting every edge from lower to higher rank
    # bounds each node's out-list by sqrt(2m), which keeps wedge enumeration for triangle
    # counting near-linear on heavy-tailed graphs. Any total order is correct, so a degree
    # counted with duplicates is good enough here; deduplicating in rank space then needs one
    # counting sort (upper_adjacency) instead of two.
    keep = a != b
    if not keep.all():
        a = a[keep]
        b = b[keep]
    rough_degree = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    order = np.argsort(rough_degree, kind="stable")
    # Ranks, rows and columns are int32 (n < 2**31).
    rank = np.empty(n, dtype=np.int32)
    rank[order] = np.arange(n, dtype=np.int32)
    ra = np.take(rank, a)
    rb = np.take(rank, b)
    del a, b, keep, rough_degree
    upper = upper_adjacency(n, ra, rb)
    del ra, rb
    indptr = upper.indptr
    col = upper.indices
    del upper
    out_degree = np.diff(indptr)
    row = np.repeat(np.arange(n, dtype=np.int32), out_degree)
    degree_r = out_degree + np.bincount(col, minlength=n)

    # Upper-triangular adjacency in rank space; A @ x = U @ x + U.T @ x without building A,
    # and without a value per friendship (see _UpperMatvec).
    adjacency_matvec = _UpperMatvec(n, indptr, out_degree, col)

    start_r = None if start_arr is None else start_arr[order]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # PageRank runs beside triangle counting: numpy's sorts and gathers release the GIL,
        # so on two cores the two largely overlap. Results are identical whatever the
        # scheduling.
        pr_future = (
            pool.submit(_pagerank, n, degree_r, adjacency_matvec, alpha, tol, start_r)
            if workers > 1
            else None
        )
        triangles_r = _triangles(n, indptr, row, col, pool)
        del row
        if pr_future is None:
            pagerank_r = _pagerank(n, degree_r, adjacency_matvec, alpha, tol, start_r)
        else:
            pagerank_r = pr_future.result()

    if score_arr is not None:
        s_r = score_arr[order]
        has = np.isfinite(s_r)
        total = adjacency_matvec(np.where(has, s_r, 0.0))
        count = adjacency_matvec(has.astype(np.float64))
        mean_r = np.where(count > 0, total / np.maximum(count, 1.0), np.nan)
    else:
        mean_r = np.full(n, np.nan)

    eff_r = np.where(degree_r > 0, degree_r - 2.0 * triangles_r / np.maximum(degree_r, 1), 0.0)
    # Back from rank order to the caller's node order.
    return GraphFeatureArrays(
        n_nodes=n,
        n_edges=int(col.size),
        degree=degree_r[rank],
        triangles=triangles_r[rank],
        pagerank=pagerank_r[rank],
        effective_size=eff_r[rank],
        friends_mean_score=mean_r[rank],
    )


MATVEC_EDGES = 8_000_000
"""Friendships per slice of the adjacency product (_UpperMatvec): its temporaries are about
24 bytes a friendship of one slice (64 MB gathered values, 64 MB repeated ones), whatever the
population's size."""


class _UpperMatvec:
    """``x -> A @ x`` for the symmetric 0/1 adjacency A given by its upper triangle U in CSR form
    (``indptr``, ``col``): ``A @ x = U @ x + U.T @ x``.

    scipy's sparse product needs a float64 value for every stored friendship, all ones: 8 bytes
    a friendship, 800 MB at 100M friendships, as much as both int32 index arrays together. Here
    the product runs over slices of about MATVEC_EDGES friendships (rows whole): a gather and a
    segmented sum (np.add.reduceat) for U @ x, a weighted bincount for U.T @ x. It measured
    about 1.5 times scipy's time per product (0.95 s against 0.63 s at 40M friendships); the
    PageRank solve runs beside triangle counting, which takes longer."""

    def __init__(self, n: int, indptr: IntArray, out_degree: IntArray, col: Int32Array) -> None:
        self._n = n
        self._col = col
        self._out_degree = out_degree
        m = int(indptr[-1])
        cuts = np.searchsorted(indptr, np.arange(MATVEC_EDGES, m, MATVEC_EDGES), side="left")
        bounds = np.unique(np.concatenate(([0], cuts, [n]))).tolist()
        # Per slice: its rows r0..r1, its friendships e0..e1, and where each row with friends
        # starts within the slice (np.add.reduceat sums from each start to the next).
        self._slices: list[tuple[int, int, int, int, npt.NDArray[np.intp], IntArray]] = []
        for r0, r1 in itertools.pairwise(bounds):
            e0, e1 = int(indptr[r0]), int(indptr[r1])
            if e1 == e0:
                continue
            rows = np.flatnonzero(out_degree[r0:r1] > 0)
            self._slices.append((r0, r1, e0, e1, rows, indptr[r0:r1][rows] - e0))

    def __call__(self, x: FloatArray) -> FloatArray:
        x = np.asarray(x, dtype=np.float64)
        y = np.zeros(self._n, dtype=np.float64)
        for r0, r1, e0, e1, rows, starts in self._slices:
            cols = self._col[e0:e1]
            # U @ x: each row's friends' values, summed.
            y[r0 + rows] += np.add.reduceat(np.take(x, cols), starts)
            # U.T @ x: each row's value, added to every friend in it.
            y += np.bincount(
                cols, weights=np.repeat(x[r0:r1], self._out_degree[r0:r1]), minlength=self._n
            )
        return y


def _dot(x: FloatArray, y: FloatArray) -> float:
    # numpy's pairwise sum rather than BLAS ddot: BLAS may split the sum by thread count, and
    # the features should not change with the machine's threading settings.
    return float(np.add.reduce(x * y))


def _pagerank(
    n: int,
    degree: IntArray,
    adjacency_matvec: Callable[[FloatArray], FloatArray],
    alpha: float,
    tol: float,
    start: FloatArray | None = None,
    max_iter: int = 1000,
) -> FloatArray:
    """networkx's PageRank on an undirected graph, normalised to mean 1.0.

    PageRank x solves x = alpha * A D^-1 x + c * 1 with c = (alpha * dangling mass + 1 - alpha)/n,
    and x sums to 1. The right-hand side is a constant vector, so x is proportional to the
    solution x0 of (I - alpha A D^-1) x0 = 1, and normalising x0 recovers x (summing the equation
    shows c then takes the value above). For an undirected graph A D^-1 is similar to the
    symmetric D^-1/2 A D^-1/2, so with x0 = D^1/2 y the system (I - alpha D^-1/2 A D^-1/2) y =
    D^-1/2 1 is symmetric positive definite with condition number at most (1+alpha)/(1-alpha):
    conjugate gradients converge in ~25 matrix-vector products where power iteration needs ~140.
    Isolated (dangling) nodes have no row or column in A, so for them x0 = y = 1.
    """
    if n == 0:
        return np.zeros(0)
    connected = degree > 0
    sqrt_deg = np.sqrt(degree.astype(np.float64))
    inv_sqrt = np.where(connected, 1.0 / np.maximum(sqrt_deg, 1.0), 0.0)
    rhs = np.where(connected, inv_sqrt, 1.0)

    def system(y: FloatArray) -> FloatArray:
        return y - alpha * inv_sqrt * adjacency_matvec(inv_sqrt * y)

    if start is not None:
        # Without dangling nodes x0 sums to n / (1 - alpha), so x0 = pagerank / (1 - alpha).
        guess_x0 = start / (1.0 - alpha)
    else:
        # Start near the answer: on a regular graph x0 = 1/(1-alpha); elsewhere a node's share
        # grows roughly with its degree.
        mean_degree = float(degree.mean()) if degree.size else 0.0
        guess_x0 = np.asarray(
            1.0 + alpha / (1.0 - alpha) * degree / max(mean_degree, 1e-12), dtype=np.float64
        )
    y = np.where(connected, guess_x0 * inv_sqrt, 1.0)
    r = rhs - system(y)
    p = r.copy()
    rr = _dot(r, r)
    limit = (tol * math.sqrt(_dot(rhs, rhs))) ** 2
    for _ in range(max_iter):
        if rr <= limit:
            break
        ap = system(p)
        step = rr / _dot(p, ap)
        y += step * p
        r -= step * ap
        rr_next = _dot(r, r)
        p *= rr_next / rr
        p += r
        rr = rr_next
    else:
        raise RuntimeError(f"PageRank did not converge in {max_iter} iterations")
    x0 = np.where(connected, sqrt_deg * y, y)
    return np.asarray(x0 * (n / float(np.add.reduce(x0))), dtype=np.float64)


def _triangles(
    n: int, indptr: IntArray, row: Int32Array, col: Int32Array, pool: Executor
) -> IntArray:
    """Triangles through each node of the oriented graph given as CSR (``row``, ``col``, edges
    from lower to higher rank, rows sorted and columns sorted within each row).

    Every triangle z < x < y is found once, as the wedge x, y in out(z) closed by the edge
    x -> y. For each edge e = z -> x the candidates are (x, y) for the later entries y of z's
    row. Candidates are packed into int64 keys (x, y, z + 1), sorted together with the edge keys
    (x, y, 0) and a candidate is a triangle when the first key of its run of equal (x, y) is an
    edge. Work is split by ranges of x so each chunk needs only its own slice of edges; chunks
    run on the thread pool (numpy's sort and take release the GIL).
    """
    m = col.size
    counts = np.zeros(n, dtype=np.int64)
    if m == 0:
        return counts
    if m >= 2**31:
        raise ValueError("too many friendships for int32 edge positions")
    # Candidates each edge starts, and edge positions below, in int32: 4 bytes an edge each.
    # later[e] = indptr[row + 1] - 1 - e, built without a second array of m positions.
    later = np.repeat(indptr[1:].astype(np.int32), np.diff(indptr))
    later -= 1
    for lo in range(0, m, _CHUNK_CANDIDATES):
        hi = min(m, lo + _CHUNK_CANDIDATES)
        later[lo:hi] -= np.arange(lo, hi, dtype=np.int32)
    bits = max(1, n.bit_length())
    x_bits = 63 - 2 * bits
    if x_bits < 1:
        raise ValueError("too many nodes for 64-bit triangle keys")

    # Chunk boundaries over x so each chunk holds about _CHUNK_CANDIDATES candidates and its
    # x-offsets fit the key.
    per_x = np.zeros(n, dtype=np.float64)
    for lo in range(0, m, _CHUNK_CANDIDATES):
        span = slice(lo, lo + _CHUNK_CANDIDATES)
        per_x += np.bincount(col[span], weights=later[span].astype(np.float64), minlength=n)
    cum = np.cumsum(per_x)
    total = float(cum[-1])
    if total == 0:
        return counts
    n_chunks = max(1, math.ceil(total / _CHUNK_CANDIDATES))
    cuts = np.searchsorted(cum, np.arange(1, n_chunks) * (total / n_chunks), side="left")
    bounds = np.unique(np.concatenate(([0], cuts, [n], np.arange(0, n, 1 << x_bits))))
    bounds = bounds[(bounds >= 0) & (bounds <= n)]
    if bounds.size > np.iinfo(np.int16).max:
        raise ValueError("too many triangle-counting chunks")

    # The wedge-starting edges grouped by chunk and, within a chunk, by how many candidates
    # they start (descending), so candidate offset j touches a prefix. Built a slice at a
    # time: whole-array temporaries here were the graph step's peak (about 22 bytes a
    # friendship for the positions, the keys and an int64 argsort).
    n_chunks = bounds.size - 1
    chunk_of_x = np.repeat(np.arange(n_chunks, dtype=np.int32), np.diff(bounds))
    max_later = int(later.max())
    n_keys = n_chunks * (max_later + 1)
    key_type = np.int32 if n_keys < np.iinfo(np.int32).max else np.int64
    starts = np.empty(int(np.count_nonzero(later)), dtype=np.int32)
    sort_key = np.empty(starts.size, dtype=key_type)
    filled = 0
    for lo in range(0, m, _CHUNK_CANDIDATES):
        part = later[lo : lo + _CHUNK_CANDIDATES]
        here = np.flatnonzero(part > 0)
        span = slice(filled, filled + here.size)
        starts[span] = here + lo
        key = np.take(chunk_of_x, np.take(col, starts[span])).astype(np.int64)
        key *= max_later + 1
        key += max_later - part[here]
        sort_key[span] = key
        filled += here.size
    del chunk_of_x, here, key, part
    if _use_counting_sort(n_keys, m):
        # A stable counting sort in C (scipy's COO -> CSR): int32 positions out, no int64
        # permutation. Positions come in ascending order, so within a key they stay so.
        grouped = sp.coo_matrix(
            (np.ones(starts.size, dtype=bool), (sort_key, starts)), shape=(n_keys, m)
        ).tocsr()
        del sort_key, starts
        order = grouped.indices.astype(np.int32, copy=False)
        chunk_ptr = grouped.indptr[:: max_later + 1].astype(np.int64)
        del grouped
    else:
        # Too many distinct keys for a counting sort's table: one stable radix sort.
        order = np.take(starts, np.argsort(sort_key, kind="stable"))
        del sort_key, starts
        chunk_ptr = np.zeros(n_chunks + 1, dtype=np.int64)
        chunk_of = np.searchsorted(bounds, np.take(col, order), side="right") - 1
        np.cumsum(np.bincount(chunk_of, minlength=n_chunks), out=chunk_ptr[1:])
        del chunk_of
    # Gathering from int32 columns halves the cache footprint of the hottest loop.
    col32 = col

    def run(c: int) -> tuple[IntArray, IntArray, IntArray]:
        x0, x1 = int(bounds[c]), int(bounds[c + 1])
        entries = order[chunk_ptr[c] : chunk_ptr[c + 1]]
        return _triangle_chunk(
            x0, int(indptr[x0]), int(indptr[x1]), entries, row, col, col32, later, bits
        )

    for found in pool.map(run, range(n_chunks)):
        for nodes in found:
            counts += np.bincount(nodes, minlength=n)
    return counts


def _use_counting_sort(n_keys: int, m: int) -> bool:
    """A counting sort's table (one int32 per key) is worth it while it is no bigger than the
    positions it sorts, or small in any case."""
    return n_keys <= max(m, 1 << 20)


def _triangle_chunk(
    x0: int,
    edge_lo: int,
    edge_hi: int,
    entries: Int32Array,
    row: Int32Array,
    col: Int32Array,
    col32: Int32Array,
    later: Int32Array,
    bits: int,
) -> tuple[IntArray, IntArray, IntArray]:
    """The triangles (x, y, z) whose middle node x lies in the chunk's range (see _triangles)."""
    empty = np.zeros(0, dtype=np.int64)
    if entries.size == 0:
        return empty, empty, empty
    s_y = bits
    s_x = 2 * bits
    z_mask = (1 << bits) - 1
    n_cand = later[entries]  # descending
    x_of = np.take(col, entries).astype(np.int64)
    packed = ((x_of - x0) << s_x) | (np.take(row, entries).astype(np.int64) + 1)
    n_edges = int(edge_hi - edge_lo)
    total = int(n_cand.sum())
    keys = np.empty(n_edges + total, dtype=np.int64)
    # Edge keys (x, y, 0): x is the row of the oriented edge, y its column.
    np.subtract(row[edge_lo:edge_hi], x0, out=keys[:n_edges], dtype=np.int64)
    keys[:n_edges] <<= s_x
    keys[:n_edges] |= col[edge_lo:edge_hi].astype(np.int64) << s_y
    # How many entries start at least j candidates, for j = 1..max.
    max_j = int(n_cand[0])
    reach = np.searchsorted(-n_cand, -np.arange(1, max_j + 1), side="right")
    y32 = np.empty(entries.size, dtype=np.int32)
    y = np.empty(entries.size, dtype=np.int64)
    off = n_edges
    for j in range(1, max_j + 1):
        k = int(reach[j - 1])
        # col32[j:][e] is col[e + j]: the j-th later entry of the row holding e.
        np.take(col32[j:], entries[:k], out=y32[:k], mode="clip")
        np.left_shift(y32[:k], s_y, out=y[:k], dtype=np.int64)
        np.bitwise_or(y[:k], packed[:k], out=keys[off : off + k])
        off += k
    del y32, y, packed
    keys.sort()
    xy = keys >> s_y
    same = np.empty(keys.size, dtype=bool)
    same[0] = False
    np.equal(xy[1:], xy[:-1], out=same[1:])
    del xy
    # Elements equal (in x, y) to their predecessor; the head of each run is the element before
    # its first such element. A run headed by an edge key makes every other member a triangle.
    dup = np.flatnonzero(same)
    del same
    if dup.size == 0:
        return empty, empty, empty
    block_start = np.ones(dup.size, dtype=bool)
    np.not_equal(dup[1:], dup[:-1] + 1, out=block_start[1:])
    head = np.maximum.accumulate(np.where(block_start, dup - 1, 0))
    hit = (np.take(keys, head) & z_mask) == 0
    found = np.take(keys, dup[hit])
    return (
        (found >> s_x) + x0,
        (found >> s_y) & z_mask,
        (found & z_mask) - 1,
    )
