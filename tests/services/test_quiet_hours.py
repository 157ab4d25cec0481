"""Quiet hours (21:00-08:00 UK time) for what the bot starts by itself, across the clock change."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from services.quiet_hours import first_moment_to_send

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (datetime(2026, 11, 22, 2, 0), datetime(2026, 11, 22, 8, 0)),  # the nightly pass
        (datetime(2026, 11, 22, 7, 59), datetime(2026, 11, 22, 8, 0)),
        (datetime(2026, 11, 22, 8, 0), datetime(2026, 11, 22, 8, 0)),  # open: at once
        (datetime(2026, 11, 22, 20, 59), datetime(2026, 11, 22, 20, 59)),
        (datetime(2026, 11, 22, 21, 0), datetime(2026, 11, 23, 8, 0)),  # the next morning
        (datetime(2026, 11, 30, 23, 30), datetime(2026, 12, 1, 8, 0)),
        (datetime(2026, 6, 1, 2, 0), datetime(2026, 6, 1, 8, 0)),  # summer time
        (datetime(2026, 3, 28, 22, 0), datetime(2026, 3, 29, 8, 0)),  # over the clocks going on
    ],
)
def test_outside_quiet_hours_at_once_inside_at_eight_local(
    local: datetime, expected: datetime
) -> None:
    now = local.replace(tzinfo=LONDON).astimezone(UTC)
    due = first_moment_to_send(now, LONDON)
    assert due.tzinfo is UTC
    assert due == expected.replace(tzinfo=LONDON)


def test_the_summer_morning_is_seven_utc() -> None:
    due = first_moment_to_send(datetime(2026, 6, 1, 1, 0, tzinfo=UTC), LONDON)
    assert due == datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
