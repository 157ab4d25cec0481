"""One person, scored and explained: the result with its dimensions, reasons and tips."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from scoring.bands import SCORE_MAX, SCORE_MIN, Band, band_for
from scoring.inputs import (
    CitizenInputs,
    PopulationInputs,
)
from scoring.kernel import (
    _components,
    _dimension_points,
)
from scoring.reasons import (
    DimensionResult,
    _Facts,
    _reasons,
    _tips,
)
from scoring.rules import (
    BASE_SCORE,
    DIMENSIONS,
    MODEL_VERSION,
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


# --------------------------------------------------------------------------------------------
# One person, explained


@dataclass(frozen=True)
class ScoreResult:
    score: int
    band: Band
    dimensions: tuple[DimensionResult, ...]
    reasons_up: tuple[str, ...]
    """Up to three reasons pushing the score up, biggest first."""
    reasons_down: tuple[str, ...]
    """Up to three reasons pulling it down, biggest first."""
    tips: tuple[str, ...]
    """One to three concrete next steps, aimed at the weakest dimension first."""
    as_of: date
    model_version: int = MODEL_VERSION

    def dimension(self, key: str) -> DimensionResult:
        for d in self.dimensions:
            if d.key == key:
                return d
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready and stable: same result, same dict, same key order."""
        return {
            "model_version": self.model_version,
            "as_of": self.as_of.isoformat(),
            "score": self.score,
            "band": self.band.name,
            "dimensions": [
                {
                    "key": d.key,
                    "name": d.name,
                    "points": d.points,
                    "min_points": d.min_points,
                    "max_points": d.max_points,
                    "reasons": list(d.reasons),
                }
                for d in self.dimensions
            ],
            "reasons_up": list(self.reasons_up),
            "reasons_down": list(self.reasons_down),
            "tips": list(self.tips),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScoreResult:
        """Inverse of :meth:`to_dict`; ValueError if the band does not match the score."""
        s = int(data["score"])
        band = band_for(s)
        if data["band"] != band.name:
            raise ValueError(f"band {data['band']!r} does not match score {s}")
        return cls(
            score=s,
            band=band,
            dimensions=tuple(
                DimensionResult(
                    key=str(d["key"]),
                    name=str(d["name"]),
                    points=int(d["points"]),
                    min_points=int(d["min_points"]),
                    max_points=int(d["max_points"]),
                    reasons=tuple(str(r) for r in d["reasons"]),
                )
                for d in data["dimensions"]
            ),
            reasons_up=tuple(str(r) for r in data["reasons_up"]),
            reasons_down=tuple(str(r) for r in data["reasons_down"]),
            tips=tuple(str(t) for t in data["tips"]),
            as_of=date.fromisoformat(str(data["as_of"])),
            model_version=int(data["model_version"]),
        )


def score(inputs: CitizenInputs, *, as_of: date) -> ScoreResult:
    """One person's score with its explanation, as of the given date.

    The points come from the same kernel as :func:`score_population`, so the two always agree.
    """
    pop = PopulationInputs.from_citizens([inputs], as_of)
    comps = {k: int(v[0]) for k, v in _components(pop).items()}
    points = _dimension_points({k: np.array([v]) for k, v in comps.items()}, 1)[0]
    total = int(np.clip(BASE_SCORE + int(points.sum()), SCORE_MIN, SCORE_MAX))
    facts = _Facts.of(inputs, as_of)
    reasons = _reasons(facts, comps)

    dims: list[DimensionResult] = []
    for j, d in enumerate(DIMENSIONS):
        dims.append(
            DimensionResult(
                key=d.key,
                name=d.name,
                points=int(points[j]),
                min_points=d.min_points,
                max_points=d.max_points,
                reasons=tuple(r.text for r in reasons if r.dimension == d.key),
            )
        )
    ranked = [r for r in reasons if r.points != 0]
    up = sorted((r for r in ranked if r.points > 0), key=lambda r: (-r.points, r.order))
    down = sorted((r for r in ranked if r.points < 0), key=lambda r: (r.points, r.order))
    return ScoreResult(
        score=total,
        band=band_for(total),
        dimensions=tuple(dims),
        reasons_up=tuple(r.text for r in up[:3]),
        reasons_down=tuple(r.text for r in down[:3]),
        tips=_tips(tuple(dims), facts, comps),
        as_of=as_of,
    )
