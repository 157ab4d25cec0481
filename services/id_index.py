"""Citizen id -> row position for the nightly pass (services.scoring_pass): a dense lookup
table, and the pairing of friendships with row positions in int32."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

PAIR_CHUNK = 4_000_000
"""Friendships paired with row positions per step (IdIndex.pairs)."""


class IdIndex:
    """Citizen id -> row position through a dense lookup table. A binary search per friendship
    end (np.searchsorted, 20 million random probes) measured 10 s at a million citizens; a table
    gather takes a fraction of a second. Ids are database keys, dense enough for a table."""

    def __init__(self, ids: npt.NDArray[np.int64]) -> None:
        size = int(ids.max()) + 1 if len(ids) else 0
        self._lookup = np.full(size, -1, dtype=np.int64)
        self._lookup[ids] = np.arange(len(ids), dtype=np.int64)
        self._count = len(ids)

    def positions(
        self, wanted: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
        """(which of `wanted` are current citizens, their positions); unknown ids (deleted since,
        or never scored) are skipped."""
        found = np.full(len(wanted), -1, dtype=np.int64)
        in_range = (wanted >= 0) & (wanted < len(self._lookup))
        found[in_range] = self._lookup[wanted[in_range]]
        known = found >= 0
        return known, found[known]

    def pairs(
        self, packed: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """Positions of both ends of each friendship (packed as low_id * 2**32 + high_id) whose
        ends are both current citizens, as int32 (positions are below the citizen count).

        Done PAIR_CHUNK pairs at a time: whole-array temporaries (each end's ids, the lookups,
        the masks) measured a 7 GB peak at 100M friendships; chunked, the pairing holds the
        input, the int32 output pieces and their concatenation."""
        assert self._count < 2**31, "row positions must fit in int32"
        firsts: list[npt.NDArray[np.int32]] = []
        seconds: list[npt.NDArray[np.int32]] = []
        for start in range(0, len(packed), PAIR_CHUNK):
            part = packed[start : start + PAIR_CHUNK]
            known_a, first = self.positions(part >> 32)
            known_b, second = self.positions(part & 0xFFFFFFFF)
            both = known_a & known_b
            # positions() keeps only the known entries: index the pair masks down to them.
            firsts.append(first[both[known_a]].astype(np.int32))
            seconds.append(second[both[known_b]].astype(np.int32))
        empty = np.empty(0, dtype=np.int32)
        src = np.concatenate(firsts) if firsts else empty
        firsts.clear()
        dst = np.concatenate(seconds) if seconds else empty
        return src, dst
