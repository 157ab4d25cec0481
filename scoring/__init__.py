"""Britizen scoring: the pure score model, graph features and benefit tiers.

No I/O, no database, no clock: callers pass data and ``as_of`` dates in and get values back.

* :mod:`scoring.model`: :func:`~scoring.model.score` for one person with its explanation,
  :func:`~scoring.model.score_population` for everyone at once, bands and constants.
* :mod:`scoring.graph`: PageRank, effective size and friends' mean score for the population
  (:func:`~scoring.graph.compute_graph_features`), networkx as the model of record, and a
  synthetic friendship generator. Imported on demand (it pulls in scipy).
* :mod:`scoring.tiers`: what each band unlocks, read from the packaged ``tiers.toml``.
"""

from scoring.model import (
    BANDS,
    FRIEND_INFLUENCE_CAP,
    SCORE_MAX,
    SCORE_MIN,
    STARTING_SCORE,
    Band,
    CitizenInputs,
    GraphFeatures,
    PopulationInputs,
    ScoreResult,
    band_for,
    score,
    score_population,
)
from scoring.tiers import Tier, load_tiers, next_tier, points_to_next_tier, tier_for

__all__ = [
    "BANDS",
    "FRIEND_INFLUENCE_CAP",
    "SCORE_MAX",
    "SCORE_MIN",
    "STARTING_SCORE",
    "Band",
    "CitizenInputs",
    "GraphFeatures",
    "PopulationInputs",
    "ScoreResult",
    "Tier",
    "band_for",
    "load_tiers",
    "next_tier",
    "points_to_next_tier",
    "score",
    "score_population",
    "tier_for",
]
