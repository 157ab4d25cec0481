"""The score model's own words, listed so the catalog has them: each dimension's name
(scoring.rules) and each tier's title, summary and benefit lines (scoring/tiers.toml). They stay
English in the model (keys, partner API); texts functions show them through _()."""

from __future__ import annotations

# Modules, not their names: the import hook and the catalog read this module's own values.
from scoring import rules, tiers

DIMENSION_NAMES = tuple(dimension.name for dimension in rules.DIMENSIONS)
TIER_WORDING = tuple(
    words for tier in tiers.default_tiers() for words in (tier.title, tier.summary, *tier.benefits)
)
