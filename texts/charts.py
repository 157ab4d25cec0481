"""The words on the score history chart the bot sends with /history (services.charts), which
the sandbox page shows as the bot's photo: in the reader's language like the message it
comes with. Band names come from texts.bands' catalog entries (the same msgids)."""

from __future__ import annotations

HISTORY_TITLE = "Your score"
HISTORY_AXIS = "Score"
COMPARISON_AXIS = "Percentage of the points available in each part of the score"
