"""/share as the citizen reads it: the one-time code, who has looked, and partners' requests."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from texts.format import local_time

if TYPE_CHECKING:
    from services.sharing import AccessEntry, NewCode


def share_text(code: NewCode, log: list[AccessEntry], tz: ZoneInfo) -> str:
    until = code.expires_at.astimezone(tz).strftime("%H:%M")
    lines = [
        f"Your one-time code: {code.code}",
        "",
        f"Give it only to someone you want to see your score. It works once, until {until} "
        "(10 minutes). They see your band, your score and when it was computed — nothing else. "
        "Making a new code cancels this one.",
        "",
    ]
    if log:
        lines.append("Who has looked at your score:")
        lines += [
            f"• {e.partner} — {local_time(e.at, tz)} "
            f"({'with a code' if e.via == 'code' else 'you allowed it'})"
            for e in log
        ]
    else:
        lines.append("Nobody has looked at your score yet.")
    return "\n".join(lines)


REQUEST_CLOSED = "This request is no longer open."
ALLOW_BUTTON = "Allow"
DENY_BUTTON = "Deny"


def request_text(partner: str) -> str:
    """A partner asks to see the score; sent with Allow / Deny buttons."""
    return (
        f"{partner} asks to see your Britizen score (your band, score and when it was "
        "computed — nothing else). Allow it once, or deny: they are only told your answer."
    )


def seen_text(partner: str, band_name: str, score: int, *, with_code: bool) -> str:
    """Told to the citizen each time a partner reads their score."""
    return (
        f"{partner} has just seen your score ({band_name}, {score}) with your "
        f"{'code' if with_code else 'permission'}. /share lists everyone who has."
    )


BLOCK_BUTTON = "🚫 Deny and never ask again"
