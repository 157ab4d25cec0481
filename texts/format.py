"""The one formatter each for money, dates, times, points and bands.

In the reader's language (texts.i18n): English keeps its long-standing forms; Welsh uses CLDR's
through Babel ('21 Tach 2026', '£1,234.50')."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, get_month_names
from babel.numbers import format_currency

from texts.i18n import CLDR_LOCALE, ENGLISH, current


def money(pence: int, *, drop_zero_pence: bool = False) -> str:
    """12345 -> '£123.45', -500 -> '-£5.00'.

    Whole pounds keep their pence so amounts line up in a schedule; `drop_zero_pence` gives
    '£150' for headline limits ("borrow up to £150") where '.00' is noise.
    """
    language = current()
    if language != ENGLISH:
        whole = drop_zero_pence and pence % 100 == 0
        return format_currency(
            pence / 100,
            "GBP",
            format="¤#,##0" if whole else None,
            locale=CLDR_LOCALE[language],
            currency_digits=not whole,
        )
    sign = "-" if pence < 0 else ""
    pounds, pennies = divmod(abs(pence), 100)
    if drop_zero_pence and pennies == 0:
        return f"{sign}£{pounds:,}"
    return f"{sign}£{pounds:,}.{pennies:02d}"


def day(moment: date) -> str:
    """'5 Dec 2026' ('5 Rhag 2026')."""
    language = current()
    if language != ENGLISH:
        return format_date(moment, "d MMM y", locale=CLDR_LOCALE[language])
    return f"{moment.day} {moment:%b %Y}"


def local_time(moment: datetime, tz: ZoneInfo) -> str:
    """'22 Nov 2026, 02:00' in the reader's time zone."""
    local = moment.astimezone(tz)
    language = current()
    if language != ENGLISH:
        return format_datetime(local, "d MMM y, HH:mm", tzinfo=tz, locale=CLDR_LOCALE[language])
    return f"{local.day} {local:%b %Y, %H:%M}"


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def signed(points: int) -> str:
    """'+12', '-3', '0'."""
    return f"{points:+d}" if points else "0"


def plural(n: int, one: str, many: str | None = None) -> str:
    """'1 point', '3 points', '2 friends'. In Welsh a noun after a numeral stays singular
    ('3 pwynt'), so `one` (already in the reader's language) is all it needs."""
    if current() != ENGLISH:
        return f"{n} {one}"
    return f"{n} {one if n == 1 else (many or one + 's')}"


def band(score: int, band_name: str) -> str:
    """'612 — Good': how a score is shown with its band everywhere."""
    return f"{score} — {band_name}"


def plural_s(n: int, *, one: bool = False) -> str:
    """The English plural 's' for a '{value}' slot: on the noun when n != 1 ('3 days'), or with
    `one`, on the verb when n == 1 ('1 friend keeps'). Empty in Welsh, whose nouns stay singular
    after a numeral and whose verbs don't agree that way."""
    if current() != ENGLISH:
        return ""
    return "s" if (n == 1) == one else ""


_ENGLISH_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def month_in_language(english_name: str) -> str:
    """'February' -> 'Chwefror' for a Welsh reader (the name as the services give it)."""
    language = current()
    if language == ENGLISH or english_name not in _ENGLISH_MONTHS:
        return english_name
    names = get_month_names("wide", locale=CLDR_LOCALE[language])
    return str(names[_ENGLISH_MONTHS.index(english_name) + 1])


# strftime directives -> CLDR pattern fields, for `Dated` in a language other than English.
_CLDR_FIELDS = {
    "%d": "dd",
    "%b": "MMM",
    "%B": "MMMM",
    "%a": "EEE",
    "%A": "EEEE",
    "%Y": "y",
    "%H": "HH",
    "%M": "mm",
}


def _cldr_pattern(spec: str) -> str:
    """'%d %b %Y, %H:%M' -> "dd MMM y',' HH:mm" (literal text quoted)."""
    out: list[str] = []
    for piece in re.split(r"(%[a-zA-Z])", spec):
        if piece in _CLDR_FIELDS:
            out.append(_CLDR_FIELDS[piece])
        elif piece:
            out.append("'" + piece.replace("'", "''") + "'")
    return "".join(map(str, out))


class Dated:
    """A date or datetime that formats its strftime spec ('{when:%d %b %Y}') in the reader's
    language: English as strftime always has, Welsh through CLDR ('05 Tach 2026'). Wording
    with a date in its msgid keeps the msgid; only the value handed to .format changes."""

    __slots__ = ("moment",)

    def __init__(self, moment: date) -> None:
        self.moment = moment

    def __format__(self, spec: str) -> str:
        language = current()
        if language == ENGLISH or not spec:
            return format(self.moment, spec)
        pattern = _cldr_pattern(spec)
        if isinstance(self.moment, datetime):
            return format_datetime(self.moment, pattern, locale=CLDR_LOCALE[language])
        return format_date(self.moment, pattern, locale=CLDR_LOCALE[language])

    def __str__(self) -> str:
        return str(self.moment)


def long_day(moment: date) -> str:
    """'Monday 21 December' ('Dydd Llun 21 Rhagfyr')."""
    language = current()
    if language != ENGLISH:
        return format_date(moment, "EEEE d MMMM", locale=CLDR_LOCALE[language])
    return f"{moment:%A} {moment.day} {moment:%B}"
