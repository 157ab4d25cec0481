"""When each loan reminder is due, when it has gone stale, and quiet hours. Pure functions.

Four reminders per instalment, each sent at most once: three days before, on the due day, one day
overdue and seven days overdue. Each has a window in local time (see `window`), so a scan after
downtime sends what is still true ("due today" on the due day) and skips what is not ("due in 3
days" after the due date). Nothing is sent in quiet hours (21:00-08:00): a reminder that falls
due then waits until the morning, if it is still relevant.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

# Quiet hours are shared with band alerts; re-exported for the reminders' callers and tests.
from services.quiet_hours import QUIET_END as QUIET_END
from services.quiet_hours import QUIET_START as QUIET_START
from services.quiet_hours import in_quiet_hours as in_quiet_hours

SEND_AT = time(9, 0)


class ReminderKind(StrEnum):
    BEFORE_3_DAYS = "before_3_days"
    DUE_TODAY = "due_today"
    OVERDUE_1_DAY = "overdue_1_day"
    OVERDUE_7_DAYS = "overdue_7_days"

    @property
    def offset_days(self) -> int:
        return _OFFSETS[self]

    @property
    def optional(self) -> bool:
        """Citizens may switch off the friendly ones; overdue reminders always go out."""
        return self in (ReminderKind.BEFORE_3_DAYS, ReminderKind.DUE_TODAY)


_OFFSETS = {
    ReminderKind.BEFORE_3_DAYS: -3,
    ReminderKind.DUE_TODAY: 0,
    ReminderKind.OVERDUE_1_DAY: 1,
    ReminderKind.OVERDUE_7_DAYS: 7,
}
KINDS_IN_ORDER = tuple(sorted(ReminderKind, key=lambda kind: kind.offset_days))
# After this many days overdue the last reminder is no longer sent (the debt goes to the lender).
OVERDUE_7_DAYS_WINDOW = timedelta(days=7)


class Decision(StrEnum):
    WAIT = "wait"  # not yet, or quiet hours
    SEND = "send"
    STALE = "stale"  # its moment has passed: record it as skipped, never send it


def window(kind: ReminderKind, due_on: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[opens, closes) in local time. Each opens at SEND_AT on its day. "Before" reminders close
    at the start of the due day and "due today" at the end of it, so neither is ever sent when it
    is no longer true; "1 day overdue" gives way to "7 days overdue", which stays open
    OVERDUE_7_DAYS_WINDOW."""
    opens = datetime.combine(due_on + timedelta(days=kind.offset_days), SEND_AT, tz)
    if kind is ReminderKind.BEFORE_3_DAYS:
        closes = datetime.combine(due_on, time(0, 0), tz)
    elif kind is ReminderKind.DUE_TODAY:
        closes = datetime.combine(due_on + timedelta(days=1), time(0, 0), tz)
    elif kind is ReminderKind.OVERDUE_1_DAY:
        closes = window(ReminderKind.OVERDUE_7_DAYS, due_on, tz)[0]
    else:
        closes = opens + OVERDUE_7_DAYS_WINDOW
    return opens, closes


def decide(kind: ReminderKind, due_on: date, now: datetime, tz: ZoneInfo) -> Decision:
    """What to do with one not-yet-sent reminder of an unpaid instalment at `now`."""
    opens, closes = window(kind, due_on, tz)
    local = now.astimezone(tz)
    if local < opens:
        return Decision.WAIT
    if local >= closes:
        return Decision.STALE
    if in_quiet_hours(local.time()):
        return Decision.WAIT
    return Decision.SEND
