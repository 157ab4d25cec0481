"""What /share's buttons say in the chat (handlers.share): making a new code, and the answer to
a partner's request. The /share screen itself is texts.share."""

from __future__ import annotations

NEW_CODE_BUTTON = "Make a new code"
NEW_CODE_MADE = "New code made; the old one no longer works."


def allowed_text(partner: str) -> str:
    return (
        f"Allowed: {partner} can see your band, score and when it was computed, once. "
        "You'll be told when they look; /share lists every look."
    )


def denied_text(partner: str) -> str:
    return f"Denied: {partner} is told only that you said no. Nothing was shared."
