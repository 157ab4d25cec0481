"""The one formatter each for money, dates, times, points and bands."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def money(pence: int, *, drop_zero_pence: bool = False) -> str:
    """12345 -> '£123.45', -500 -> '-£5.00'.

    Whole pounds keep their pence so amounts line up in a schedule; `drop_zero_pence` gives
    '£150' for headline limits ("borrow up to £150") where '.00' is noise.
    """
    sign = "-" if pence < 0 else ""
    pounds, pennies = divmod(abs(pence), 100)
    if drop_zero_pence and pennies == 0:
        return f"{sign}£{pounds:,}"
    return f"{sign}£{pounds:,}.{pennies:02d}"


def day(moment: date) -> str:
    """'5 Dec 2026'."""
    return f"{moment.day} {moment:%b %Y}"


def local_time(moment: datetime, tz: ZoneInfo) -> str:
    """'22 Nov 2026, 02:00' in the reader's time zone."""
    local = moment.astimezone(tz)
    return f"{local.day} {local:%b %Y, %H:%M}"


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def signed(points: int) -> str:
    """'+12', '-3', '0'."""
    return f"{points:+d}" if points else "0"


def plural(n: int, one: str, many: str | None = None) -> str:
    """'1 point', '3 points', '2 friends'."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def band(score: int, band_name: str) -> str:
    """'612 — Good': how a score is shown with its band everywhere."""
    return f"{score} — {band_name}"
