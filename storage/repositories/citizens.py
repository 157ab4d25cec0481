"""Citizens: the lookup by Telegram id and the row lock every money-moving use case takes first."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Citizen


async def by_telegram_id(session: AsyncSession, telegram_id: int) -> Citizen | None:
    return await session.scalar(select(Citizen).where(Citizen.telegram_id == telegram_id))


async def id_by_telegram_id(session: AsyncSession, telegram_id: int) -> int | None:
    return await session.scalar(select(Citizen.id).where(Citizen.telegram_id == telegram_id))


async def lock_by_telegram_id(session: AsyncSession, telegram_id: int) -> None:
    """Take this citizen's write lock before anything is read.

    A no-op write as the first statement of the transaction takes the row lock (PostgreSQL) or
    the database write lock (SQLite), so a parallel use case for the same person (a double tap,
    a loan confirmed while the account is erased) waits here and then sees the other's result.
    A missing citizen locks nothing; the caller's next read finds no account.
    """
    await session.execute(
        update(Citizen).where(Citizen.telegram_id == telegram_id).values(chat_id=Citizen.chat_id)
    )
