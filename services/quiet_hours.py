"""Quiet hours: nothing the bot starts by itself (reminders, band alerts) goes out between 21:00
and 08:00 local time. Pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

QUIET_START = time(21, 0)
QUIET_END = time(8, 0)


def in_quiet_hours(moment: time) -> bool:
    return moment >= QUIET_START or moment < QUIET_END


def first_moment_to_send(now: datetime, tz: ZoneInfo) -> datetime:
    """``now`` if it is outside quiet hours, else the end of these quiet hours (08:00 local the
    same or the next morning), in UTC."""
    local = now.astimezone(tz)
    if not in_quiet_hours(local.time()):
        return now.astimezone(UTC)
    day = local.date() if local.time() < QUIET_END else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_END, tz).astimezone(UTC)
