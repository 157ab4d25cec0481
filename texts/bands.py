"""Band names as people read them. scoring.bands keeps the English name as the key (stored,
sent to partners); texts functions show it through _(), which finds these."""

from __future__ import annotations

POOR = "Poor"
FAIR = "Fair"
GOOD = "Good"
VERY_GOOD = "Very good"
EXCELLENT = "Excellent"
