"""Welsh and English: whose language a message is written in, and the catalogs behind it.

The language is per person. `LANGUAGE` (a contextvar) holds the reader's language while a
message is worded: handlers set it for each update (the person's stored choice, else Telegram's
`language_code`), and code that words a message for someone else (the outbox, reminders, band
alerts) sets it to the recipient's with `use_language`.

Every wording constant in `texts.*` is a `Text` (texts/__init__.py converts them on import): a
str whose value is the English, which becomes the reader's language wherever it turns into text
(`str()`, `.format`, `+`, f-strings) and, for a constant handed straight to PTB, where the bot's
request goes out (`localise`, called by bot.aiohttp_request). Wording composed inside a texts
function goes through `_()` explicitly. The msgid is always the English text itself.

Catalogs are gettext .po files under locale/<lang>/LC_MESSAGES/britizen.po, managed with Babel
(texts/catalog.py, `make i18n`); they are read and compiled in memory on first use, so no .mo
binary is committed or built.
"""

from __future__ import annotations

import gettext as _gettext
import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

ENGLISH = "en"
WELSH = "cy"
LANGUAGES = (ENGLISH, WELSH)
DOMAIN = "britizen"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
# Babel/CLDR locale for dates and money in each language.
CLDR_LOCALE = {ENGLISH: "en_GB", WELSH: "cy_GB"}

LANGUAGE: ContextVar[str] = ContextVar("britizen_language", default=ENGLISH)


def current() -> str:
    return LANGUAGE.get()


def normalise(code: str | None) -> str:
    """Telegram's `language_code` (an IETF tag: 'cy', 'cy-GB', 'en-US') or a stored choice ->
    'cy' or 'en'. Anything that is not Welsh is English."""
    if code and code.strip().lower().replace("_", "-").split("-")[0] == WELSH:
        return WELSH
    return ENGLISH


@contextmanager
def use_language(language: str | None) -> Iterator[None]:
    """Word messages in `language` inside the block (for a recipient other than the reader)."""
    token = LANGUAGE.set(normalise(language))
    try:
        yield
    finally:
        LANGUAGE.reset(token)


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> _gettext.NullTranslations:
    """The language's catalog, compiled from its .po in memory (Babel writes the .mo bytes)."""
    if language == ENGLISH:
        return _gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    path = po_path(language)
    if not path.exists():
        return _gettext.NullTranslations()
    with path.open("rb") as f:
        catalog = read_po(f, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def gettext(message: str, language: str | None = None) -> str:
    """`message` (its English text is the msgid) in the reader's language."""
    raw = str.__str__(message)
    lang = language or LANGUAGE.get()
    if lang == ENGLISH:
        return raw
    return translations(lang).gettext(raw)


_ = gettext


def both(message: str) -> tuple[str, ...]:
    """The message in every language: for matching what a person typed or tapped."""
    return tuple(dict.fromkeys(gettext(message, lang) for lang in LANGUAGES))


class Text(str):
    """A wording constant: its value is the English; it reads in the reader's language wherever
    it becomes text. Equality and hashing stay those of the English (a stable key)."""

    __slots__ = ()

    def __str__(self) -> str:
        return gettext(self)

    def format(self, *args: Any, **kwargs: Any) -> str:
        return gettext(self).format(*args, **kwargs)

    def __format__(self, spec: str) -> str:
        return format(gettext(self), spec)

    def __add__(self, other: str) -> str:
        return gettext(self) + str(other)

    def __radd__(self, other: str) -> str:
        return str(other) + gettext(self)

    def __mod__(self, values: Any) -> str:
        return gettext(self) % values

    def __repr__(self) -> str:
        return f"Text({str.__repr__(self)})"

    def splitlines(self, keepends: bool = False) -> list[str]:
        return gettext(self).splitlines(keepends)

    def strip(self, chars: str | None = None) -> str:
        return gettext(self).strip(chars)

    def replace(self, old: str, new: str, count: int = -1) -> str:  # type: ignore[override]
        return gettext(self).replace(str(old), str(new), count)

    def split(self, sep: str | None = None, maxsplit: int = -1) -> list[str]:  # type: ignore[override]
        return gettext(self).split(sep, maxsplit)


_LETTERS = re.compile(r"[A-Za-z]{2}")
# Keys, command names, callback prefixes (lower-case, no spaces) and constants' names imported
# into a texts module (ROUND_HALF_UP): not wording.
_NOT_WORDING = re.compile(r"[a-z0-9_:./\-]*|[A-Z0-9]*_[A-Z0-9_]*")


def is_wording(text: str) -> bool:
    return bool(_LETTERS.search(text)) and not _NOT_WORDING.fullmatch(text)


def lazy(value: Any) -> Any:
    """Module-level wording -> `Text`, through tuples, lists, dicts (values) and dataclasses."""
    import dataclasses

    if isinstance(value, Text):
        return value
    if isinstance(value, str):
        return Text(value) if is_wording(value) else value
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(lazy(v) for v in value)
    if isinstance(value, list):
        return [lazy(v) for v in value]
    if isinstance(value, dict):
        return {k: lazy(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for field in dataclasses.fields(value):
            current_value = getattr(value, field.name)
            if (field.init and isinstance(current_value, str | tuple | list | dict)) or (
                field.init and dataclasses.is_dataclass(current_value)
            ):
                changes[field.name] = lazy(current_value)
        return dataclasses.replace(value, **changes) if changes else value
    return value


def localise(value: Any) -> Any:
    """Every `Text` inside a Bot API request's parameters -> the reader's language (PTB would
    otherwise serialise the English under it)."""
    if isinstance(value, Text):
        return gettext(value)
    if isinstance(value, dict):
        return {k: localise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(localise(v) for v in value)
    return value


def worded_in(language: str | None, render: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`render(*args, **kwargs)` worded in `language` (a recipient's), with every Text inside
    the result (a reply markup's buttons) already turned into that language's text."""
    with use_language(language):
        return localise(render(*args, **kwargs))
