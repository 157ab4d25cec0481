"""The durable outbox and its dispatcher: every message the bot starts goes through here.

Rows are claimed in priority order (loan reminders, then score alerts, then promotions), sent at
`BRITIZEN_SEND_RATE` overall and at most one a second to any person (one every three seconds to
a group), never into a chat whose replies are using its burst (notifications/pacing.py), and
marked with what happened:

- 429 Too Many Requests pauses *all* sending for `retry_after`, then carries on; nothing is lost.
- 403 (blocked, deactivated) and "chat not found" mark the citizen unreachable: their other
  queued messages are dropped and nothing is sent to them again.
- Network errors and 5xx are retried with exponential backoff, then marked failed with the reason.
- A crash while a row is `sending` leaves it so; the next start marks it `uncertain` instead of
  sending it again. Only rows claimed and not yet recorded can be in doubt, and the dispatcher
  never holds more than `Dispatcher.max_unsettled` of those (about 0.4 s of sending): none is
  ever duplicated.

Speed (see bench/broadcast.py): sends go out on evenly spaced slots behind a rolling window
(pacing.RollingWindow: no rolling second at Telegram's end holds more than the rate, which is
what draws 429s), overlap in flight, and are claimed and recorded in bulk, one
statement per hundred-odd rows. The send path is a plain aiohttp client (`BotApiSender`)
rather than PTB's `Bot`: against the stand-in, PTB over httpx topped out near 220 sends/s on
this machine (httpcore's per-request `current_async_library` import lookups alone took a
quarter of the time), aiohttp manages several times that. Its error mapping is PTB's own, so
the same `telegram.error` exceptions come out of both (tests/notifications/test_outbox.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from services.clock import Clock
from storage.db import Database
from storage.models import OutboxMessage
from storage.repositories import outbox

logger = logging.getLogger(__name__)


MAX_ATTEMPTS = 5
MAX_BACKOFF_SECONDS = 300
IDLE_POLL_SECONDS = 0.5
PROGRESS_EVERY_SECONDS = 5.0
UNREACHABLE_ERRORS = ("chat not found", "user is deactivated", "bot was blocked")
# One claim is about this much sending: small enough that a reminder queued behind a broadcast
# waits a fraction of a second, large enough that the database sees ~10 claims a second.
CLAIM_SECONDS = 0.1
# Outcomes are written at least this often (and whenever a claim's worth has piled up).
FLUSH_EVERY_SECONDS = 0.1
# How far behind schedule the pacer may catch up at once after a stall (a slow commit, a busy
# CPU). Bounds any burst to this many seconds' worth of messages at the configured rate.
CATCH_UP_SECONDS = 0.1
SEND_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class OutgoingMessage:
    chat_id: int
    text: str
    kind: str
    priority: int
    citizen_id: int | None = None
    reply_markup: dict[str, Any] | None = None


class Outbox:
    """Queue messages; the caller's transaction decides whether they exist."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def enqueue(self, messages: Sequence[OutgoingMessage]) -> int:
        now = self._clock()
        async with self._db.transaction() as session:
            for m in messages:
                outbox.enqueue(
                    session,
                    chat_id=m.chat_id,
                    citizen_id=m.citizen_id,
                    kind=m.kind,
                    priority=m.priority,
                    text=m.text,
                    now=now,
                    reply_markup=m.reply_markup,
                )
        return len(messages)

    async def counts(self) -> dict[str, int]:
        async with self._db.transaction() as session:
            rows = await session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            )
            return {status: int(count) for status, count in rows.all()}
