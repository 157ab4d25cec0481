"""Which language each person reads Britizen in (English or Welsh), kept across restarts.

A stored choice wins; without one, Telegram's `language_code` for the update decides
(texts.i18n.normalise). Messages the bot starts for someone (outbox, reminders, alerts) have no
update to go by: they use the stored language, written when the person registers or chooses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import Citizen, LanguageChoice
from storage.repositories.outbox import enqueue_to_citizen
from texts.i18n import ENGLISH, LANGUAGES, normalise, worded_in


class LanguageService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def for_update(self, telegram_id: int, language_code: str | None) -> str:
        """The language to answer this update in: one primary-key read. Without a choice,
        Telegram's language_code; a registered person's remembered language follows it (a
        write only when their app's language has changed), so what the bot starts for them
        later matches what they read now."""
        telegram = normalise(language_code)
        async with self._db.autocommit() as session:
            row = await session.get(LanguageChoice, telegram_id)
        if row is None:
            return telegram
        if row.chosen or row.language == telegram or language_code is None:
            return row.language
        async with self._db.transaction() as session:
            await session.execute(
                update(LanguageChoice)
                .where(LanguageChoice.telegram_id == telegram_id, LanguageChoice.chosen.is_(False))
                .values(language=telegram)
            )
        return telegram

    async def stored(self, telegram_id: int) -> str | None:
        async with self._db.autocommit() as session:
            row = await session.get(LanguageChoice, telegram_id)
        return None if row is None else row.language

    async def choose(self, telegram_id: int, language: str) -> str:
        """The person picked `language` (/language or /settings): it sticks."""
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}")
        async with self._db.transaction() as session:
            row = await session.get(LanguageChoice, telegram_id)
            if row is None:
                session.add(LanguageChoice(telegram_id=telegram_id, language=language, chosen=True))
            else:
                row.language, row.chosen = language, True
        return language

    async def remember(self, telegram_id: int, language: str) -> None:
        """Registration: keep the language they joined in, unless they already chose one."""
        async with self._db.transaction() as session:
            await remember_language(session, telegram_id, language)


async def remember_language(session: AsyncSession, telegram_id: int, language: str) -> None:
    """Keep the language `telegram_id` reads now (unless they chose one), for what the bot
    tells them later without an update of theirs to go by (registration; an NI-number report
    whose outcome reaches someone not registered yet)."""
    row = await session.get(LanguageChoice, telegram_id)
    if row is None:
        session.add(LanguageChoice(telegram_id=telegram_id, language=normalise(language)))
    elif not row.chosen:
        row.language = normalise(language)


async def languages_of(session: AsyncSession, telegram_ids: Iterable[int]) -> dict[int, str]:
    """Stored languages for recipients, by Telegram id (English for anyone without a row)."""
    ids = list(set(telegram_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(LanguageChoice.telegram_id, LanguageChoice.language).where(
            LanguageChoice.telegram_id.in_(ids)
        )
    )
    found = {int(t): lang for t, lang in rows.all()}
    return {t: found.get(t, ENGLISH) for t in ids}


async def language_of(session: AsyncSession, telegram_id: int) -> str:
    row = await session.get(LanguageChoice, telegram_id)
    return ENGLISH if row is None else row.language


async def citizen_language(session: AsyncSession, citizen: Citizen) -> str:
    """The language to word a message the bot starts for `citizen` in."""
    return await language_of(session, citizen.telegram_id)


async def tell_citizen(
    session: AsyncSession,
    citizen: Citizen,
    kind: str,
    now: datetime,
    wording: Callable[..., str],
    *args: Any,
    priority: int,
    **kwargs: Any,
) -> bool:
    """Queue a message the bot starts for `citizen`, `wording(*args, **kwargs)` in their
    language (storage.repositories.outbox.enqueue_to_citizen: False if they blocked the bot)."""
    text = worded_in(await citizen_language(session, citizen), wording, *args, **kwargs)
    return enqueue_to_citizen(session, citizen, text, kind, now, priority=priority)


async def citizens_languages(session: AsyncSession, citizen_ids: Iterable[int]) -> dict[int, str]:
    """Citizen id -> stored language, for the ones with a non-English one (bulk jobs word the
    rest in English): a query per 5,000 ids, under every driver's bind-parameter limit."""
    ids = sorted(set(citizen_ids))
    found: dict[int, str] = {}
    for start in range(0, len(ids), 5000):
        rows = await session.execute(
            select(Citizen.id, LanguageChoice.language)
            .join(LanguageChoice, LanguageChoice.telegram_id == Citizen.telegram_id)
            .where(Citizen.id.in_(ids[start : start + 5000]), LanguageChoice.language != ENGLISH)
        )
        found.update({int(i): lang for i, lang in rows.all()})
    return found
