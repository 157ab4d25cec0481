"""What a person's scores row shows, as integer columns, so the nightly pass can tell in one
vectorised comparison which rows changed and must be rewritten (services.scoring_pass)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from scoring.model import DIMENSIONS, MODEL_VERSION

if TYPE_CHECKING:
    from services.id_index import IdIndex

ROLE_CODES = {None: 0, "connector": 1, "broker": 2}
DIMENSION_COUNT = len(DIMENSIONS)


@dataclass(frozen=True)
class ShownValues:
    """What a scores row shows people, as integer columns aligned with the pass's citizens, so
    "did anything change?" is one vectorised comparison. Network figures are compared as /why
    shows them (friends' mean to the point, reach and effective size to one decimal)."""

    present: npt.NDArray[np.bool_]
    score: npt.NDArray[np.int64]
    previous_score: npt.NDArray[np.int64]
    model_version: npt.NDArray[np.int64]
    points: npt.NDArray[np.int64]
    network: npt.NDArray[np.int64]
    """friend count, friends' mean, reach x10, effective size x10, role code."""
    history_day: npt.NDArray[np.int64]

    @classmethod
    def of_pass(
        cls,
        scores: npt.NDArray[np.int64],
        points: npt.NDArray[np.int64],
        graph: Any,
        roles: list[str | None],
    ) -> ShownValues:
        n = len(scores)
        mean = np.where(np.isnan(graph.friends_mean_score), -1, graph.friends_mean_score)
        network = np.stack(
            [
                np.asarray(graph.degree, dtype=np.int64),
                np.rint(mean).astype(np.int64),
                np.rint(np.asarray(graph.pagerank) * 10).astype(np.int64),
                np.rint(np.asarray(graph.effective_size) * 10).astype(np.int64),
                np.array([ROLE_CODES[role] for role in roles], dtype=np.int64),
            ],
            axis=1,
        )
        return cls(
            present=np.ones(n, dtype=bool),
            score=np.asarray(scores, dtype=np.int64),
            previous_score=np.asarray(scores, dtype=np.int64),
            model_version=np.full(n, MODEL_VERSION, dtype=np.int64),
            points=np.asarray(points, dtype=np.int64),
            network=network,
            history_day=np.zeros(n, dtype=np.int64),
        )

    @classmethod
    def stored(cls, n: int, index: IdIndex, columns: list[npt.NDArray[np.int64]]) -> ShownValues:
        """From _read_stored's columns; people without a scores row are marked absent."""
        known, positions = index.positions(columns[0])
        dims = DIMENSION_COUNT

        def aligned(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
            out = np.full(n, -2, dtype=np.int64)
            out[positions] = values[known]
            return out

        present = np.zeros(n, dtype=bool)
        present[positions] = True
        return cls(
            present=present,
            score=aligned(columns[1]),
            previous_score=aligned(columns[2]),
            model_version=aligned(columns[3]),
            points=np.stack([aligned(columns[4 + j]) for j in range(dims)], axis=1).reshape(
                n, dims
            ),
            network=np.stack([aligned(columns[4 + dims + j]) for j in range(5)], axis=1).reshape(
                n, 5
            ),
            history_day=aligned(columns[9 + dims]),
        )

    def measures_differ(self, new: ShownValues) -> npt.NDArray[np.bool_]:
        """The score or a dimension's points differ: what a history row records."""
        return (self.score != new.score) | (self.points != new.points).any(axis=1)

    def differs_from(self, new: ShownValues) -> npt.NDArray[np.bool_]:
        """Anything a person or partner would see differs (or the row's "before this pass"
        score would: it becomes the score once a pass leaves it unchanged)."""
        return (
            ~self.present
            | self.measures_differ(new)
            | (self.previous_score != self.score)
            | (self.model_version != new.model_version)
            | (self.network != new.network).any(axis=1)
        )
