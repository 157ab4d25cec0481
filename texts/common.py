"""Wording shared by several features, kept in one place so the bot speaks consistently."""

from __future__ import annotations

from services.confirmations import CONFIRM_WINDOW

CONFIRM_MINUTES = int(CONFIRM_WINDOW.total_seconds() // 60)

NOT_REGISTERED = (
    "You're not registered yet. Send /start to join Britizen — it takes about a minute."
)
UNKNOWN_TEXT = "I didn't catch that. Send /help to see what I can do."
UNKNOWN_COMMAND = "I don't know that command. Send /help for the list."
STALE_BUTTON = "This is no longer available."
CONFIRMATION_EXPIRED = (
    "This confirmation has expired (it only works from the latest message, for "
    f"{CONFIRM_MINUTES} minutes). Nothing was done: please start again."
)
NOT_ALLOWED = "Sorry, that isn't something you can do."
APOLOGY = (
    "Sorry — something went wrong on our side and nothing was changed. "
    "Please try again in a moment."
)
