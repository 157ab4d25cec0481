"""The durable outbox and its dispatcher: every message the bot starts goes through here.

Rows are claimed in priority order (loan reminders, then score alerts, then promotions), sent at
`BRITIZEN_SEND_RATE` overall and at most one a second to any chat, and marked with what happened:

- 429 Too Many Requests pauses *all* sending for `retry_after`, then carries on; nothing is lost.
- 403 (blocked, deactivated) and "chat not found" mark the citizen unreachable: their other
  queued messages are dropped and nothing is sent to them again.
- Network errors and 5xx are retried with exponential backoff, then marked failed with the reason.
- A crash while a row is `sending` leaves it so; the next start marks it `uncertain` instead of
  sending it again. At most the messages in flight at the crash are in doubt; none is duplicated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from services.clock import Clock
from storage.db import Database
from storage.models import Citizen, OutboxMessage

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
MAX_BACKOFF_SECONDS = 300
PER_CHAT_INTERVAL_SECONDS = 1.0
IDLE_POLL_SECONDS = 0.5
PROGRESS_EVERY_SECONDS = 5.0
UNREACHABLE_ERRORS = ("chat not found", "user is deactivated", "bot was blocked")


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
            session.add_all(
                OutboxMessage(
                    chat_id=m.chat_id,
                    citizen_id=m.citizen_id,
                    kind=m.kind,
                    priority=m.priority,
                    text=m.text,
                    reply_markup=m.reply_markup,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
                for m in messages
            )
        return len(messages)

    async def counts(self) -> dict[str, int]:
        from sqlalchemy import func

        async with self._db.transaction() as session:
            rows = await session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            )
            return {status: int(count) for status, count in rows.all()}


@dataclass
class _Outcome:
    row_id: int
    status: str
    attempts: int
    next_attempt_at: datetime | None = None
    error: str | None = None


class Dispatcher:
    """The single sender: claims due rows, sends them at the configured rate, records outcomes."""

    def __init__(
        self,
        db: Database,
        bot: Bot,
        clock: Clock,
        send_rate: float,
        *,
        batch_size: int | None = None,
    ) -> None:
        self._db = db
        self._bot = bot
        self._clock = clock
        self._interval = 1.0 / send_rate
        # About one second of sending per batch, so a crash leaves at most that much uncertain.
        self._batch_size = batch_size or max(1, min(200, int(send_rate)))
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._last_to_chat: dict[int, float] = {}
        self.sent = 0

    async def recover(self) -> int:
        """After a crash: rows still `sending` may or may not have reached Telegram."""
        async with self._db.transaction() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == "sending")
                .values(status="uncertain", last_error="in flight when the service stopped")
            )
            count = int(getattr(result, "rowcount", 0) or 0)
        if count:
            logger.warning(
                "%d outbox messages were in flight at the last stop: marked uncertain", count
            )
        return count

    async def run(self, stop: asyncio.Event) -> None:
        await self.recover()
        last_report, sent_at_report = time.monotonic(), self.sent
        while not stop.is_set():
            now = time.monotonic()
            if now - last_report >= PROGRESS_EVERY_SECONDS and self.sent > sent_at_report:
                # A progress line while a broadcast or a burst of alerts is going out.
                logger.info(
                    "outbox: %d sent in the last %.0f s (%.1f/s), %d since start",
                    self.sent - sent_at_report,
                    now - last_report,
                    (self.sent - sent_at_report) / (now - last_report),
                    self.sent,
                )
                last_report, sent_at_report = now, self.sent
            try:
                handled = await self.dispatch_once()
            except Exception:
                logger.exception("outbox dispatch failed; retrying shortly")
                handled = 0
            if handled == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), IDLE_POLL_SECONDS)

    async def dispatch_once(self) -> int:
        """Claim and send one batch; returns how many rows were handled."""
        pause = self._paused_until - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)  # Telegram's retry_after: nothing is sent until it passes
        rows = await self._claim()
        if not rows:
            return 0
        outcomes: list[_Outcome] = []
        unreachable_chats: set[int] = set()
        shortest_chat_wait: float | None = None
        # Sends start at the paced rate but overlap in flight, so the rate holds even when one
        # request is slow; the batch's outcomes are recorded together once all have answered.
        in_flight: list[asyncio.Task[_Outcome]] = []
        put_back: list[OutboxMessage] = []
        for index, row in enumerate(rows):
            if self._paused_until > time.monotonic():
                put_back = rows[index:]  # a 429 arrived: launch nothing more from this batch
                break
            wait_for_chat = self._chat_wait(row.chat_id)
            if wait_for_chat > 0:
                # Don't hold the whole batch for one chat: put the row back for the next claim.
                outcomes.append(_Outcome(row.id, "pending", row.attempts, self._clock()))
                shortest_chat_wait = min(wait_for_chat, shortest_chat_wait or wait_for_chat)
                continue
            await self._wait_for_slot()
            if self._paused_until > time.monotonic():
                put_back = rows[index:]
                break
            self._last_to_chat[row.chat_id] = time.monotonic()  # this chat's second is taken
            in_flight.append(asyncio.create_task(self._send(row)))
        for task in in_flight:
            outcome = await task
            if outcome.status == "paused":
                # 429: not sent; back in the queue untouched.
                outcome = _Outcome(outcome.row_id, "pending", outcome.attempts, self._clock())
            outcomes.append(outcome)
        for outcome in outcomes:
            if outcome.status == "unreachable":
                unreachable_chats.update(r.chat_id for r in rows if r.id == outcome.row_id)
        outcomes += [_Outcome(r.id, "pending", r.attempts, self._clock()) for r in put_back]
        await self._record(outcomes, unreachable_chats)
        if not in_flight and shortest_chat_wait is not None:
            await asyncio.sleep(shortest_chat_wait)  # only per-chat waits left: don't spin
        return len(rows)

    async def _claim(self) -> list[OutboxMessage]:
        now = self._clock()
        async with self._db.transaction() as session:
            query = (
                select(OutboxMessage)
                .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.priority, OutboxMessage.id)
                .limit(self._batch_size)
                .with_for_update(skip_locked=True)
            )
            rows = list((await session.scalars(query)).all())
            if rows:
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_([r.id for r in rows]))
                    .values(status="sending")
                )
            return rows

    def _chat_wait(self, chat_id: int) -> float:
        last = self._last_to_chat.get(chat_id)
        if last is None:
            return 0.0
        return max(0.0, last + PER_CHAT_INTERVAL_SECONDS - time.monotonic())

    def _later(self, seconds: float) -> datetime:
        return self._clock() + timedelta(seconds=seconds)

    async def _wait_for_slot(self) -> None:
        now = time.monotonic()
        start = max(now, self._next_slot, self._paused_until)
        self._next_slot = start + self._interval
        if start > now:
            await asyncio.sleep(start - now)

    async def _send(self, row: OutboxMessage) -> _Outcome:
        markup = (
            InlineKeyboardMarkup.de_json(row.reply_markup, self._bot) if row.reply_markup else None
        )
        try:
            await self._bot.send_message(row.chat_id, row.text, reply_markup=markup)
        except RetryAfter as exc:
            pause = (
                exc.retry_after.total_seconds()
                if isinstance(exc.retry_after, timedelta)
                else float(exc.retry_after)
            )
            self._paused_until = time.monotonic() + pause
            logger.warning("Telegram asked us to slow down: pausing all sending for %.0f s", pause)
            return _Outcome(row.id, "paused", row.attempts)
        except Forbidden as exc:
            return _Outcome(row.id, "unreachable", row.attempts + 1, error=str(exc)[:200])
        except BadRequest as exc:
            if any(marker in str(exc).lower() for marker in UNREACHABLE_ERRORS):
                return _Outcome(row.id, "unreachable", row.attempts + 1, error=str(exc)[:200])
            return _Outcome(row.id, "failed", row.attempts + 1, error=str(exc)[:200])
        except (NetworkError, TelegramError) as exc:
            attempts = row.attempts + 1
            if attempts >= MAX_ATTEMPTS:
                return _Outcome(row.id, "failed", attempts, error=str(exc)[:200])
            backoff = min(MAX_BACKOFF_SECONDS, 2**attempts)
            return _Outcome(row.id, "pending", attempts, self._later(backoff), str(exc)[:200])
        self._last_to_chat[row.chat_id] = time.monotonic()
        self.sent += 1
        return _Outcome(row.id, "sent", row.attempts + 1)

    async def _record(self, outcomes: list[_Outcome], unreachable_chats: set[int]) -> None:
        now = self._clock()
        async with self._db.transaction() as session:
            # The common case in one statement: a broadcast batch is almost all "sent".
            sent = [outcome.row_id for outcome in outcomes if outcome.status == "sent"]
            if sent:
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(sent))
                    .values(status="sent", sent_at=now, attempts=OutboxMessage.attempts + 1)
                )
            for outcome in outcomes:
                if outcome.status == "sent":
                    continue
                values: dict[str, Any] = {"status": outcome.status, "attempts": outcome.attempts}
                if outcome.status == "sent":
                    values["sent_at"] = now
                if outcome.next_attempt_at is not None:
                    values["next_attempt_at"] = outcome.next_attempt_at
                if outcome.error is not None:
                    values["last_error"] = outcome.error
                await session.execute(
                    update(OutboxMessage).where(OutboxMessage.id == outcome.row_id).values(**values)
                )
            if unreachable_chats:
                # Stop messaging them: mark the citizen and drop everything else queued for them.
                await session.execute(
                    update(Citizen)
                    .where(Citizen.chat_id.in_(unreachable_chats), Citizen.unreachable_at.is_(None))
                    .values(unreachable_at=now)
                )
                await session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.chat_id.in_(unreachable_chats),
                        OutboxMessage.status == "pending",
                    )
                    .values(status="unreachable", last_error="recipient unreachable")
                )
