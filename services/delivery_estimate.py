"""How long a broadcast will take: the honest figure a sponsor sees before sending.

Telegram lets a bot send about 30 messages a second in all (BRITIZEN_SEND_RATE, 25 by
default, leaves replies room); a broadcast to a million people therefore takes most of a day,
and a national one days. Free broadcasts also wait out quiet hours (21:00-08:00, see
services.quiet_hours), which Telegram's advice to spread broadcasts agrees with; a paid
broadcast (allow_paid_broadcast, charged in Stars) goes at up to 1,000 a second, any hour.

Pure: the estimate walks the sending hours from the start at the rate. It is a lower bound on
the time: replies, alerts and other broadcasts share the same rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from services.quiet_hours import QUIET_START, first_moment_to_send, in_quiet_hours

# A walk of more than this many days is cut short (a year at 25/s is 790 million messages).
MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class DeliveryEstimate:
    audience: int
    send_rate: float  # messages a second this broadcast goes at
    paid_broadcast: bool
    quiet_hours: bool  # whether it pauses 21:00-08:00
    sending_seconds: float  # time actually spent sending
    finishes_at: datetime  # the start plus sending and the quiet hours in between (UTC)


def estimate_delivery(
    audience: int,
    starts_at: datetime,
    *,
    send_rate: float,
    paid_send_rate: float,
    paid_broadcast: bool,
    quiet_hours: bool,
    timezone: ZoneInfo,
) -> DeliveryEstimate:
    rate = paid_send_rate if paid_broadcast else send_rate
    sending = audience / rate if rate > 0 else math.inf
    pauses = quiet_hours and not paid_broadcast
    finish = _finish(starts_at.astimezone(UTC), sending, timezone) if pauses else None
    if finish is None:
        finish = starts_at.astimezone(UTC) + timedelta(seconds=min(sending, MAX_DAYS * 86_400))
    return DeliveryEstimate(audience, rate, paid_broadcast, pauses, sending, finish)


def _finish(start: datetime, seconds: float, timezone: ZoneInfo) -> datetime:
    """When `seconds` of sending end, sending only outside quiet hours from `start`."""
    moment, left = start, seconds
    for _ in range(MAX_DAYS + 1):
        moment = first_moment_to_send(moment, timezone)
        window_end = _quiet_start_after(moment, timezone)
        room = (window_end - moment).total_seconds()
        if left <= room:
            return moment + timedelta(seconds=left)
        left -= room
        moment = window_end
    return moment


def _quiet_start_after(moment: datetime, timezone: ZoneInfo) -> datetime:
    """The next 21:00 local at or after `moment` (which is outside quiet hours), in UTC."""
    local = moment.astimezone(timezone)
    assert not in_quiet_hours(local.time())
    return datetime.combine(local.date(), QUIET_START, timezone).astimezone(UTC)
