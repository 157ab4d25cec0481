"""Confirmations for what can't be undone (erasing an account, taking out a loan).

A confirm button works only from the latest prompt and only for `CONFIRM_WINDOW`: each prompt
gets a fresh token, kept with the conversation step (the dialog row) beside the time it was
asked, and the button carries the token. A button from an older prompt, or one left lying for
longer than the window, raises `ConfirmationExpired` and does nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from services.clock import Clock
from services.dialogs import Dialog, DialogService
from services.errors import ConfirmationExpired, StaleAction

CONFIRM_WINDOW = timedelta(minutes=5)
ERASE_FLOW = "delete"
ERASE_STEP = "confirm"


def new_prompt(now: datetime) -> dict[str, str]:
    """The dialog data for a fresh prompt: its token (8 hex digits) and when it was asked."""
    return {"token": secrets.token_hex(4), "asked_at": now.isoformat()}


def check_prompt(data: Mapping[str, Any], token: str | None, now: datetime) -> None:
    """Raise ConfirmationExpired unless `token` is the latest prompt's and still in time."""
    if token is None or not secrets.compare_digest(str(data.get("token", "")), token):
        raise ConfirmationExpired()  # an older prompt's button (or one from before tokens)
    asked_at = data.get("asked_at")
    if not isinstance(asked_at, str) or now - datetime.fromisoformat(asked_at) > CONFIRM_WINDOW:
        raise ConfirmationExpired()


class ErasureConfirmations:
    """/delete's one question: "erase everything?", answered within the window."""

    def __init__(self, dialogs: DialogService, clock: Clock) -> None:
        self._dialogs = dialogs
        self._clock = clock

    async def ask(self, telegram_id: int) -> str:
        """Open (or replace) the erase prompt; returns the token its Erase button carries."""
        data = new_prompt(self._clock())
        await self._dialogs.set(telegram_id, Dialog(ERASE_FLOW, ERASE_STEP, data))
        return data["token"]

    async def answer(self, telegram_id: int, token: str | None, *, erase: bool) -> None:
        """The prompt is answered (and closed). Erase needs the latest prompt, still in time;
        keeping the account needs no token: saying no to anything is always safe."""
        dialog = await self._dialogs.get(telegram_id)
        if dialog is None or dialog.flow != ERASE_FLOW:
            raise StaleAction()  # answered, cancelled or replaced by another conversation
        if erase:
            check_prompt(dialog.data, token, self._clock())
        await self._dialogs.clear(telegram_id)
