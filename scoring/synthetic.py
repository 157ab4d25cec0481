"""Synthetic friendship graphs (heavy-tailed, reproducible) for demos, tests and benchmarks."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from scoring.graph import IntArray


def _sorted_unique(keys: IntArray) -> IntArray:
    """Sort in place and drop repeats. np.unique is avoided on purpose: in numpy 2.x it took
    12 s for 10M int64 keys here against 0.2 s for np.sort plus a mask."""
    keys.sort()
    if keys.size < 2:
        return keys
    keep = np.empty(keys.size, dtype=bool)
    keep[0] = True
    np.not_equal(keys[1:], keys[:-1], out=keep[1:])
    return keys[keep]


def synthetic_friendships(
    n_users: int,
    avg_friends: float,
    seed: int,
    *,
    exponent: float = 2.5,
    max_degree: int | None = None,
    local_fraction: float = 0.5,
    local_width: int = 25,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """A heavy-tailed friendship graph: ``round(n_users * avg_friends / 2)`` distinct pairs
    ``(u, v)`` with ``u < v`` (int32, sorted), or every possible pair if fewer exist.

    Half the pairs (``local_fraction``) join people close in a hidden ring order, within
    ``local_width`` places: these make the tight friend groups real networks have, so triangles
    and brokerage are not trivial. The other half follow a Chung-Lu model: each endpoint is drawn
    with probability proportional to a power-law weight, giving degrees with tail exponent
    ``exponent`` and an expected largest degree of about ``max_degree`` (default 5000, the kind
    of cap social networks put on friend lists, or a quarter of the population if smaller).
    Node ids are shuffled so neither hubs nor groups sit at particular indices.

    Deterministic for a given seed (on a given numpy build). About 2 s for 1M users and 10M
    pairs.
    """
    if n_users < 0 or n_users > np.iinfo(np.int32).max:
        raise ValueError("n_users must be between 0 and 2**31 - 1")
    if avg_friends < 0:
        raise ValueError("avg_friends must not be negative")
    if exponent <= 2.0:
        raise ValueError("exponent must be above 2")
    if not 0.0 <= local_fraction <= 1.0:
        raise ValueError("local_fraction must be between 0 and 1")
    n = n_users
    possible = n * (n - 1) // 2
    target = min(round(n * avg_friends / 2), possible)
    empty = np.zeros(0, dtype=np.int32)
    if target == 0:
        return empty, empty
    rng = np.random.default_rng(seed)
    if max_degree is None:
        max_degree = min(5000, max(1, n // 4))
    width = max(1, min(local_width, n - 1))

    # Truncated continuous power law over positions [i0, i0 + n): position i (floored) is
    # node i; node 0 is the biggest hub. The weight of position p is p**-beta with
    # beta = 1 / (exponent - 1), which gives a degree distribution with tail exponent `exponent`.
    beta = 1.0 / (exponent - 1.0)
    g = 1.0 - beta
    hub_share = 2.0 * target * (1.0 - local_fraction)
    want = max(max_degree - 2.0 * target * local_fraction / max(n, 1), 1.0)

    def top_degree(i0: float) -> float:
        lo, hi, top = i0**g, (i0 + n) ** g, (i0 + 1.0) ** g
        return hub_share * (top - lo) / (hi - lo)

    lo_i0, hi_i0 = 1e-9, float(max(n, 1)) * 1e6
    for _ in range(200):  # bisection in log space: top_degree falls as i0 grows
        mid = math.sqrt(lo_i0 * hi_i0)
        if top_degree(mid) > want:
            lo_i0 = mid
        else:
            hi_i0 = mid
    i0 = hi_i0
    lo_w, hi_w = i0**g, (i0 + n) ** g

    def draw(count: int) -> IntArray:
        n_local = round(count * local_fraction)
        n_hub = count - n_local
        u = rng.random(2 * n_hub)
        ends = ((lo_w + u * (hi_w - lo_w)) ** (1.0 / g) - i0).astype(np.int64)
        np.clip(ends, 0, n - 1, out=ends)
        s_local = rng.integers(0, n, n_local)
        d_local = (s_local + rng.integers(1, width + 1, n_local)) % n
        src = np.concatenate((ends[:n_hub], s_local))
        dst = np.concatenate((ends[n_hub:], d_local))
        lo = np.minimum(src, dst)
        hi = np.maximum(src, dst)
        ok = lo != hi
        return np.asarray(lo[ok] * n + hi[ok], dtype=np.int64)

    keys = _sorted_unique(draw(target))
    for _ in range(20):  # top up for pairs lost as duplicates or self-loops
        missing = target - keys.size
        if missing <= 0:
            break
        keys = _sorted_unique(np.concatenate((keys, draw(int(missing * 1.25) + 16))))
    if keys.size > target:
        pick = np.sort(rng.choice(keys.size, size=target, replace=False))
        keys = keys[pick]

    # Shuffle ids, then return canonical sorted pairs.
    perm = rng.permutation(n).astype(np.int64)
    u = keys // n
    v = keys - u * n
    pu = perm[u]
    pv = perm[v]
    keys = _sorted_unique(np.minimum(pu, pv) * n + np.maximum(pu, pv))
    u = keys // n
    return u.astype(np.int32), (keys - u * n).astype(np.int32)
