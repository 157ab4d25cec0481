"""Queueing a message the bot starts itself to one citizen, the way every service does it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Citizen, OutboxMessage


def queue_to_citizen(
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
    session.add(
        OutboxMessage.due_now(
            chat_id=to.chat_id,
            citizen_id=to.id,
            kind=kind,
            priority=priority,
            text=text,
            now=now,
            reply_markup=markup,
        )
    )
    return True
