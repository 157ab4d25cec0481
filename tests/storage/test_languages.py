"""The language each person reads Britizen in: stored by Telegram id (registered or not), an
explicit choice sticks, registration only fills in a default, and recipients are looked up in
bulk for messages the bot starts."""

from __future__ import annotations

import pytest

from services.languages import LanguageService, language_of, languages_of
from storage.db import Database


async def test_without_a_choice_telegram_decides(db: Database) -> None:
    languages = LanguageService(db)
    assert await languages.for_update(1, "cy-GB") == "cy"
    assert await languages.for_update(1, "en") == "en"
    assert await languages.for_update(1, None) == "en"
    assert await languages.stored(1) is None


async def test_a_choice_wins_over_telegram_and_registration(db: Database) -> None:
    languages = LanguageService(db)
    await languages.choose(2, "cy")
    assert await languages.for_update(2, "en") == "cy"
    await languages.remember(2, "en")  # registering later doesn't undo a choice
    assert await languages.stored(2) == "cy"
    await languages.choose(2, "en")
    assert await languages.for_update(2, "cy") == "en"
    with pytest.raises(ValueError):
        await languages.choose(2, "fr")
    assert await languages.stored(2) == "en"


async def test_without_a_choice_the_remembered_language_follows_telegram(db: Database) -> None:
    languages = LanguageService(db)
    await languages.remember(3, "cy")  # registered with a Welsh Telegram app
    assert await languages.stored(3) == "cy"
    assert await languages.for_update(3, None) == "cy"  # no language_code: keep what we have
    assert await languages.for_update(3, "en-GB") == "en"  # the app changed to English
    assert await languages.stored(3) == "en"  # so later reminders come in English too
    await languages.remember(3, "cy")
    assert await languages.stored(3) == "cy"


async def test_recipients_languages_in_one_query(db: Database) -> None:
    languages = LanguageService(db)
    await languages.choose(10, "cy")
    await languages.remember(11, "en")
    async with db.transaction() as session:
        assert await languages_of(session, [10, 11, 12, 10]) == {10: "cy", 11: "en", 12: "en"}
        assert await languages_of(session, []) == {}
        assert await language_of(session, 10) == "cy"
        assert await language_of(session, 99) == "en"
