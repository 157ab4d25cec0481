"""Reminder windows, staleness after downtime and quiet hours, in UK local time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.reminder_rules import (
    KINDS_IN_ORDER,
    Decision,
    ReminderKind,
    decide,
    in_quiet_hours,
    window,
)

LONDON = ZoneInfo("Europe/London")
DUE = date(2026, 12, 21)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), LONDON)


@pytest.mark.parametrize(
    ("kind", "moment", "decision"),
    [
        (ReminderKind.BEFORE_3_DAYS, at(DUE - timedelta(days=3), 8, 59), Decision.WAIT),
        (ReminderKind.BEFORE_3_DAYS, at(DUE - timedelta(days=3), 9), Decision.SEND),
        (ReminderKind.BEFORE_3_DAYS, at(DUE - timedelta(days=1), 12), Decision.SEND),
        (ReminderKind.BEFORE_3_DAYS, at(DUE - timedelta(days=1), 22), Decision.WAIT),  # quiet
        (ReminderKind.BEFORE_3_DAYS, at(DUE, 9), Decision.STALE),  # never after the due date
        (ReminderKind.DUE_TODAY, at(DUE, 9), Decision.SEND),
        (ReminderKind.DUE_TODAY, at(DUE, 20, 59), Decision.SEND),
        (ReminderKind.DUE_TODAY, at(DUE, 21), Decision.WAIT),  # quiet hours...
        (ReminderKind.DUE_TODAY, at(DUE + timedelta(days=1), 8), Decision.STALE),  # ...then stale
        (ReminderKind.OVERDUE_1_DAY, at(DUE + timedelta(days=1), 9), Decision.SEND),
        (ReminderKind.OVERDUE_1_DAY, at(DUE + timedelta(days=1), 7), Decision.WAIT),
        (ReminderKind.OVERDUE_1_DAY, at(DUE + timedelta(days=7), 9), Decision.STALE),
        (ReminderKind.OVERDUE_7_DAYS, at(DUE + timedelta(days=7), 9), Decision.SEND),
        (ReminderKind.OVERDUE_7_DAYS, at(DUE + timedelta(days=10), 3), Decision.WAIT),
        (ReminderKind.OVERDUE_7_DAYS, at(DUE + timedelta(days=10), 8), Decision.SEND),
        (ReminderKind.OVERDUE_7_DAYS, at(DUE + timedelta(days=14), 9), Decision.STALE),
    ],
)
def test_windows(kind: ReminderKind, moment: datetime, decision: Decision) -> None:
    assert decide(kind, DUE, moment.astimezone(UTC), LONDON) is decision


def test_quiet_hours_are_nine_at_night_to_eight_in_the_morning() -> None:
    assert (
        in_quiet_hours(time(21, 0)) and in_quiet_hours(time(3, 0)) and in_quiet_hours(time(7, 59))
    )
    assert not in_quiet_hours(time(8, 0)) and not in_quiet_hours(time(20, 59))


def test_windows_follow_local_time_across_the_clock_change() -> None:
    # 29 March 2026: the UK moves to BST; 09:00 local is 08:00 UTC after it.
    due = date(2026, 3, 29)
    opens, _closes = window(ReminderKind.DUE_TODAY, due, LONDON)
    assert opens.astimezone(UTC).hour == 8


def test_only_the_friendly_reminders_can_be_switched_off() -> None:
    assert [kind.optional for kind in KINDS_IN_ORDER] == [True, True, False, False]


@given(
    due=st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31)),
    minutes=st.integers(min_value=-5 * 24 * 60, max_value=20 * 24 * 60),
)
def test_at_any_moment_at_most_one_reminder_is_sendable_and_none_in_quiet_hours(
    due: date, minutes: int
) -> None:
    moment = datetime.combine(due, time(0, 0), LONDON) + timedelta(minutes=minutes)
    sendable = [k for k in KINDS_IN_ORDER if decide(k, due, moment, LONDON) is Decision.SEND]
    assert len(sendable) <= 1
    if in_quiet_hours(moment.astimezone(LONDON).time()):
        assert sendable == []
    for kind in sendable:
        local_day = moment.astimezone(LONDON).date()
        if kind is ReminderKind.BEFORE_3_DAYS:
            assert local_day < due
        if kind is ReminderKind.DUE_TODAY:
            assert local_day == due
        if not kind.optional:
            assert local_day > due
