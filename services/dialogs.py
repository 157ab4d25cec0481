"""Conversation state in the database.

A person's place in a multi-step conversation is a row, not process memory: a restart, or the
next update landing on another instance, carries on from the same step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select

from storage.db import Database
from storage.models import DialogState


@dataclass(frozen=True)
class Dialog:
    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)


class DialogService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, telegram_id: int) -> Dialog | None:
        # Asked on every plain-text message and by the registration guard: one statement.
        async with self._db.autocommit() as session:
            row = await session.get(DialogState, telegram_id)
            return None if row is None else Dialog(row.flow, row.step, dict(row.data))

    async def set(self, telegram_id: int, dialog: Dialog) -> None:
        async with self._db.transaction() as session:
            row = await session.get(DialogState, telegram_id)
            if row is None:
                session.add(
                    DialogState(
                        telegram_id=telegram_id,
                        flow=dialog.flow,
                        step=dialog.step,
                        data=dict(dialog.data),
                    )
                )
            else:
                row.flow, row.step, row.data = dialog.flow, dialog.step, dict(dialog.data)

    async def clear(self, telegram_id: int) -> Dialog | None:
        """Forget the conversation; returns what was there so the caller can say what stopped."""
        async with self._db.transaction() as session:
            row = await session.scalar(
                select(DialogState).where(DialogState.telegram_id == telegram_id)
            )
            if row is None:
                return None
            dialog = Dialog(row.flow, row.step, dict(row.data))
            await session.execute(delete(DialogState).where(DialogState.telegram_id == telegram_id))
            return dialog
