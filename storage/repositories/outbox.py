"""The one way to queue a message the bot starts itself (alerts, notices, reminders)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Citizen, OutboxMessage


def enqueue(
    session: AsyncSession,
    *,
    chat_id: int,
    citizen_id: int | None,
    kind: str,
    priority: int,
    text: str,
    now: datetime,
    reply_markup: dict[str, Any] | None = None,
) -> OutboxMessage:
    """Add a pending row, due at once, to the caller's transaction."""
    row = OutboxMessage.due_now(
        chat_id=chat_id,
        citizen_id=citizen_id,
        kind=kind,
        priority=priority,
        text=text,
        now=now,
        reply_markup=reply_markup,
    )
    session.add(row)
    return row


def enqueue_to_citizen(
    session: AsyncSession,
    to: Citizen,
    text: str,
    kind: str,
    now: datetime,
    markup: dict[str, Any] | None = None,
    *,
    priority: int,
) -> bool:
    """Queue `text` for `to` in the caller's transaction; False if they blocked the bot.

    Nothing is queued for someone unreachable: the dispatcher would only fail it, and what
    the message was about (a friend request, an access request) still waits for them in the
    bot when they come back.
    """
    if to.unreachable_at is not None:
        return False
    enqueue(
        session,
        chat_id=to.chat_id,
        citizen_id=to.id,
        kind=kind,
        priority=priority,
        text=text,
        now=now,
        reply_markup=markup,
    )
    return True
