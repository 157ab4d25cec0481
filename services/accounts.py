"""The one way a use case finds the citizen behind a Telegram user (inside its transaction)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import NotRegistered
from storage.models import Citizen
from storage.repositories import citizens


async def citizen_for(session: AsyncSession, telegram_id: int) -> Citizen:
    """The account, or NotRegistered (never registered, or erased meanwhile)."""
    found = await citizens.by_telegram_id(session, telegram_id)
    if found is None:
        raise NotRegistered()
    return found


async def citizen_id_for(session: AsyncSession, telegram_id: int) -> int:
    found = await citizens.id_by_telegram_id(session, telegram_id)
    if found is None:
        raise NotRegistered()
    return found
