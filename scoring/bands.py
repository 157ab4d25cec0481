"""The score bands: the one table every layer reads (scoring, charts, open data, the API, texts)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SCORE_MIN = 350
SCORE_MAX = 950


@dataclass(frozen=True)
class Band:
    name: str
    lower: int
    upper: int
    """Inclusive."""
    colour: str
    """Chart shading behind the score line (a light tint, so the line stays readable)."""

    def __contains__(self, score: object) -> bool:
        if isinstance(score, bool) or not isinstance(score, int | np.integer):
            return False
        return self.lower <= int(score) <= self.upper


BANDS: tuple[Band, ...] = (
    Band("Poor", 350, 549, "#f8d7da"),
    Band("Fair", 550, 599, "#fde9c9"),
    Band("Good", 600, 649, "#fff8c5"),
    Band("Very good", 650, 699, "#dff3d8"),
    Band("Excellent", 700, 950, "#cfe8fc"),
)
BAND_NAMES: tuple[str, ...] = tuple(band.name for band in BANDS)
BAND_FLOORS: dict[str, int] = {band.name: band.lower for band in BANDS}
_BAND_LOWERS = np.array([b.lower for b in BANDS], dtype=np.int64)


def band_for(score: int) -> Band:
    """The band holding ``score``; ValueError outside 350-950."""
    if isinstance(score, bool) or not isinstance(score, int | np.integer):
        raise TypeError(f"score must be an int, not {type(score).__name__}")
    s = int(score)
    if not SCORE_MIN <= s <= SCORE_MAX:
        raise ValueError(f"score {s} is outside {SCORE_MIN}-{SCORE_MAX}")
    return BANDS[int(np.searchsorted(_BAND_LOWERS, s, side="right")) - 1]


def band_indices(scores: npt.ArrayLike) -> npt.NDArray[np.int8]:
    """Index into BANDS for each score (scores must lie in 350-950)."""
    s = np.asarray(scores)
    if s.size and (int(s.min()) < SCORE_MIN or int(s.max()) > SCORE_MAX):
        raise ValueError(f"scores must lie in {SCORE_MIN}-{SCORE_MAX}")
    return (np.searchsorted(_BAND_LOWERS, s, side="right") - 1).astype(np.int8)
