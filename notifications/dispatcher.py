"""The dispatcher: claims due outbox rows in bulk, sends them paced, records what happened.

See notifications/outbox.py for the guarantees (what a 429, a 403 or a crash does).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import math
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from telegram import Bot
from telegram.error import (
    BadRequest,
    Forbidden,
    RetryAfter,
    TelegramError,
)

from notifications.outbox import (
    CLAIM_SECONDS,
    FLUSH_EVERY_SECONDS,
    IDLE_POLL_SECONDS,
    MAX_ATTEMPTS,
    MAX_BACKOFF_SECONDS,
    PROGRESS_EVERY_SECONDS,
    UNREACHABLE_ERRORS,
)
from notifications.pacing import (
    ChatLimits,
    RollingWindow,
    Slot,
    _Pacer,
    retry_after_seconds,
)
from notifications.rendering import PromotionRenderer
from notifications.send_budget import SendBudget
from notifications.sender import (
    BotApiSender,
    Sender,
)
from services.clock import Clock
from services.promotion_messages import PROMOTION_KIND, PROMOTION_PRIORITY
from services.quiet_hours import in_quiet_hours
from storage.db import Database
from storage.models import Citizen, OutboxMessage

logger = logging.getLogger(__name__)

# A row for a chat whose limiter is busy with replies is looked at again this often per interval.
RECHECK_PER_INTERVAL = 4
# Telegram's ceiling for paid broadcasts (allow_paid_broadcast): 1,000 messages a second.
PAID_SEND_RATE = 1000.0


@dataclass(slots=True)
class _Row:
    id: int
    chat_id: int
    text: str
    reply_markup: dict[str, Any] | None
    attempts: int
    paid: bool = False  # a paid broadcast's: allow_paid_broadcast, at the paid rate


@dataclass(slots=True)
class _Outcome:
    row: _Row
    # sent, pending (retry later), failed, unreachable, released (claimed, never sent), paused
    status: str
    attempts: int
    next_attempt_at: datetime | None = None
    error: str | None = None


class Dispatcher:
    """The single sender: claims due rows, sends them at the configured rate, records outcomes.

    `bot` gives the Bot API URL and token; sends go through `sender` (by default a
    `BotApiSender` for that bot). Call `close()` (or let `run()` end) to release the HTTP
    session.
    """

    def __init__(
        self,
        db: Database,
        bot: Bot,
        clock: Clock,
        send_rate: float,
        *,
        batch_size: int | None = None,
        sender: Sender | None = None,
        progress_every: float = PROGRESS_EVERY_SECONDS,
        budget: SendBudget | None = None,
        timezone: ZoneInfo | None = None,
        paid_send_rate: float = PAID_SEND_RATE,
        quiet_hours: bool = False,
    ) -> None:
        self._db = db
        self._clock = clock
        self._sender: Sender = sender or BotApiSender.for_bot(bot)
        self.send_rate = send_rate
        # Behind a RollingWindow the pacer may catch up a whole window after a stall (a busy
        # CPU): the window, not the spacing, is what keeps every rolling second to the rate.
        self._pacer = _Pacer(send_rate, catch_up=RollingWindow.CATCH_UP_SECONDS)
        # The bot's shared seats (no rolling second over the rate from every instance together,
        # replies first: notifications.send_budget); None: this process's own window
        # (pacing.RollingWindow), counted as Telegram counts too.
        self._budget = budget
        self._window = RollingWindow(send_rate)
        # Paid broadcasts don't count against the free limit; they have their own pace.
        self.paid_send_rate = paid_send_rate
        self._paid_pacer = _Pacer(paid_send_rate, catch_up=RollingWindow.CATCH_UP_SECONDS)
        self._paid_window = RollingWindow(paid_send_rate)
        # Promotions are rendered when sent (the outbox keeps no copy of their text); free
        # broadcasts wait out quiet hours (services.quiet_hours) in the bot's time zone.
        self._timezone = timezone or ZoneInfo("Europe/London")
        self._renderer = PromotionRenderer(db, self._timezone)
        self._quiet_hours = quiet_hours
        # Each chat's limit, shared with this instance's replies when they share the budget.
        self._chats = budget.chats if budget is not None else ChatLimits()
        self._batch_size = batch_size or max(1, min(500, math.ceil(send_rate * CLAIM_SECONDS)))
        # Rows claimed (status `sending`) whose outcome is not yet written: the most a kill -9
        # can leave uncertain. Claims stop while this many are outstanding.
        self.max_unsettled = max(8, 4 * self._batch_size)
        self._progress_every = progress_every
        self._paused_until = 0.0
        self._last_to_chat: dict[int, float] = {}
        self._ready: deque[_Row] = deque()
        self._deferred: list[tuple[float, int, _Row]] = []  # (due, row id, row): chat is busy
        self._in_flight: set[asyncio.Task[_Outcome]] = set()
        self._done: list[_Outcome] = []
        self._oldest_done = 0.0
        self._claiming: asyncio.Task[list[_Row]] | None = None
        self._claiming_room = 0
        self._flushing: asyncio.Task[None] | None = None
        self._flushing_count = 0
        # Sent, but the row still says `sending`: the progress line counts these once. Changed
        # with the write that records them under `_recording`, which the progress line's count
        # holds too, so a write finishing during that count can't be subtracted twice.
        self._unrecorded_sent = 0
        self._recording = asyncio.Lock()
        self.sent = 0
        self.answered_429 = 0
        self.recovered = 0  # rows found `sending` at start and marked uncertain
        self._report_at = 0.0
        self._sent_at_report = 0
        self._started = 0.0

    # -- life cycle ---------------------------------------------------------------------------

    async def recover(self) -> int:
        """After a crash: rows still `sending` may or may not have reached Telegram."""
        async with self._db.transaction() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == "sending")
                .values(status="uncertain", last_error="in flight when the service stopped")
            )
            count = int(getattr(result, "rowcount", 0) or 0)
        self.recovered += count
        if count:
            logger.warning(
                "%d outbox messages were in flight at the last stop: marked uncertain", count
            )
        return count

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set; on the way out, claimed rows not yet sent go back."""
        try:
            await self.recover()
            self._started = self._report_at = time.monotonic()
            while not stop.is_set():
                try:
                    handled = await self._pump(stop, report=True)
                except Exception:
                    logger.exception("outbox dispatch failed; retrying shortly")
                    handled = 0
                if handled == 0 and not stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), IDLE_POLL_SECONDS)
        finally:
            await self._settle_all(release=True)
            await self.close()

    async def close(self) -> None:
        await self._sender.close()

    async def dispatch_once(self) -> int:
        """Send everything due now (waiting out 429 pauses and per-chat gaps) and record it.

        Returns how many rows were claimed; 0 means nothing was due.
        """
        return await self._pump(None, report=False)

    # -- the loop -----------------------------------------------------------------------------

    def _unsettled(self) -> int:
        return (
            len(self._ready)
            + len(self._deferred)
            + len(self._in_flight)
            + len(self._done)
            + self._claiming_room
            + self._flushing_count
        )

    async def _pump(self, stop: asyncio.Event | None, *, report: bool) -> int:
        """Send until nothing is due. Claims and writes run beside the sends, never in their way.

        A commit under load can take tens of milliseconds; awaited inline ten times a second,
        that alone held a 1,000/s broadcast to about 800/s on a busy machine.
        """
        claimed = 0
        exhausted = False  # the last claim found fewer due rows than it asked for
        while stop is None or not stop.is_set():
            now = time.monotonic()
            if report and now - self._report_at >= self._progress_every:
                await self._report(now)
                self._forget_quiet_chats(now)
            while self._deferred and self._deferred[0][0] <= now:
                self._ready.appendleft(heapq.heappop(self._deferred)[2])
            if self._claiming is not None and self._claiming.done():
                claiming, room = self._claiming, self._claiming_room
                self._claiming, self._claiming_room = None, 0
                rows = claiming.result()  # a database error surfaces here, for run() to log
                exhausted = len(rows) < room
                claimed += len(rows)
                self._ready.extend(rows)
            if self._claiming is None and not exhausted:
                # Claimed-but-unsent rows never exceed one batch (0.1 s of sending): they are
                # the part of a kill's uncertain rows that never reached anyone.
                room = min(
                    self._batch_size - len(self._ready), self.max_unsettled - self._unsettled()
                )
                if room >= max(1, self._batch_size // 2) or (room > 0 and not self._ready):
                    self._claiming_room = room
                    self._claiming = asyncio.create_task(self._claim(room))
            if self._flushing is not None and self._flushing.done():
                flushing = self._flushing
                self._flushing, self._flushing_count = None, 0
                flushing.result()  # on an error the outcomes are back in _done for a retry
            if (
                self._done
                and self._flushing is None
                and (
                    len(self._done) >= self._batch_size
                    or now - self._oldest_done >= FLUSH_EVERY_SECONDS
                    or not self._ready
                )
            ):
                self._start_flush()
            if not self._ready:
                busy: set[asyncio.Future[Any]] = set(self._in_flight)
                busy.update(t for t in (self._claiming, self._flushing) if t is not None)
                if busy:
                    await asyncio.wait(
                        busy, timeout=FLUSH_EVERY_SECONDS, return_when=asyncio.FIRST_COMPLETED
                    )
                elif self._deferred:
                    await self._sleep(self._deferred[0][0] - time.monotonic(), stop)
                elif exhausted:
                    self._pacer.idle()
                    break  # nothing due, nothing left in hand
                continue
            if self._paused_until > now:
                # Telegram's retry_after: nothing is sent until it passes (a stop still works).
                await self._sleep(self._paused_until - now, stop)
                continue
            row = self._ready.popleft()
            wait_for_chat = self._chat_wait(row.chat_id)
            if wait_for_chat > 0:
                # Don't hold everyone else up for one chat: it goes out when its second is over.
                heapq.heappush(self._deferred, (now + wait_for_chat, row.id, row))
                continue
            if row.paid:
                await self._paid_pacer.wait(self._paused_until)
                slot: Slot = await self._paid_window.acquire()
            else:
                await self._pacer.wait(self._paused_until)
                if self._budget is not None:
                    slot = await self._budget.acquire(reply=False)
                else:
                    slot = await self._window.acquire()
            if self._paused_until > time.monotonic():
                slot.unused()
                self._ready.appendleft(row)  # a 429 arrived while we waited for the slot
                continue
            if not await self._chats.take_if_quiet(row.chat_id):
                # A reply to this chat went out while we waited for the slot: after it.
                slot.unused()
                self._defer_busy_chat(row)
                continue
            self._last_to_chat[row.chat_id] = time.monotonic()  # this chat's second is taken
            task = asyncio.create_task(self._send(row, slot))
            self._in_flight.add(task)
            task.add_done_callback(self._landed)
        await self._settle_all(release=stop is not None and stop.is_set())
        return claimed

    def _start_flush(self) -> None:
        outcomes, self._done = self._done, []
        self._flushing_count = len(outcomes)
        self._flushing = asyncio.create_task(self._flush(outcomes))

    async def _sleep(self, seconds: float, stop: asyncio.Event | None) -> None:
        if seconds <= 0:
            return
        if stop is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

    def _landed(self, task: asyncio.Task[_Outcome]) -> None:
        self._in_flight.discard(task)
        if task.cancelled():
            return
        outcome = task.result()
        if outcome.status == "paused":
            self._ready.appendleft(outcome.row)  # 429: not sent; goes again after the pause
            return
        if not self._done:
            self._oldest_done = time.monotonic()
        self._done.append(outcome)

    async def _settle_all(self, *, release: bool) -> None:
        """Wait for the sends, claims and writes under way and record every outcome.

        With `release`, claimed rows not yet sent go back to `pending` (a clean stop).
        """
        if self._in_flight:
            await asyncio.wait(set(self._in_flight))
        if self._claiming is not None:
            claiming, self._claiming = self._claiming, None
            self._claiming_room = 0
            self._ready.extend(await claiming)
        if self._flushing is not None:
            flushing, self._flushing = self._flushing, None
            self._flushing_count = 0
            await flushing
        if release:
            waiting = list(self._ready) + [row for _, _, row in self._deferred]
            self._ready.clear()
            self._deferred.clear()
            self._done += [_Outcome(row, "released", row.attempts) for row in waiting]
        if self._done:
            outcomes, self._done = self._done, []
            await self._flush(outcomes)

    # -- database -----------------------------------------------------------------------------

    async def _claim(self, limit: int) -> list[_Row]:
        """Mark the next due rows `sending` and return them, in one statement."""
        now = self._clock()
        wanted = [OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now]
        if self._quiet_hours and in_quiet_hours(now.astimezone(self._timezone).time()):
            # Free broadcasts go out in the day only; everything else (and paid ones) still do.
            wanted.append(OutboxMessage.priority != PROMOTION_PRIORITY)
        due = (
            select(OutboxMessage.id)
            .where(*wanted)
            # Priority first, then the longest due. This is the order of ix_outbox_due, so the
            # database walks the index; by (priority, id) SQLite sorted every due row per claim
            # (a temporary B-tree over 100,000 rows, ten times a second).
            .order_by(OutboxMessage.priority, OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer anyway
        )
        claim = (
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due.scalar_subquery()))
            .values(status="sending")
            .returning(
                OutboxMessage.priority,
                OutboxMessage.next_attempt_at,
                OutboxMessage.id,
                OutboxMessage.chat_id,
                OutboxMessage.text,
                OutboxMessage.reply_markup,
                OutboxMessage.attempts,
                OutboxMessage.kind,
                OutboxMessage.promotion_id,
                OutboxMessage.citizen_id,
            )
        )
        # A Core connection, not an ORM session: this runs ten times a second in a broadcast.
        async with self._db.engine.begin() as conn:
            claimed = sorted((await conn.execute(claim)).all())  # RETURNING has no order
            if any(r.kind == PROMOTION_KIND for r in claimed):
                # Opting out cancels what is queued, but a fan-out still committing at that
                # moment can add rows it didn't see: the last word is here, before sending.
                dropped = set(
                    (
                        await conn.execute(
                            update(OutboxMessage)
                            .where(
                                OutboxMessage.id.in_(
                                    [r.id for r in claimed if r.kind == PROMOTION_KIND]
                                ),
                                OutboxMessage.citizen_id.in_(
                                    select(Citizen.id).where(Citizen.marketing_opt_in.is_(False))
                                ),
                            )
                            .values(status="cancelled", last_error="opted out")
                            .returning(OutboxMessage.id)
                        )
                    ).scalars()
                )
                claimed = [r for r in claimed if r.id not in dropped]
        await self._renderer.prepare([(r.citizen_id, r.promotion_id) for r in claimed])
        rows: list[_Row] = []
        for r in claimed:
            text, markup, paid = self._renderer.message(
                r.citizen_id, r.promotion_id, r.text, r.reply_markup
            )
            rows.append(_Row(r.id, r.chat_id, text, markup, r.attempts, paid))
        return rows

    async def _flush(self, outcomes: list[_Outcome]) -> None:
        async with self._recording:
            try:
                await self._write(outcomes)
            except BaseException:
                self._done[:0] = outcomes  # not written: keep them for the next try
                raise
            self._unrecorded_sent -= sum(1 for outcome in outcomes if outcome.status == "sent")

    async def _write(self, outcomes: list[_Outcome]) -> None:
        now = self._clock()
        sent = [o.row.id for o in outcomes if o.status == "sent"]
        released = [o.row.id for o in outcomes if o.status == "released"]
        others = [o for o in outcomes if o.status not in ("sent", "released")]
        unreachable_chats = {o.row.chat_id for o in others if o.status == "unreachable"}
        async with self._db.engine.begin() as session:
            # The common case in one statement: a broadcast batch is almost all "sent".
            if sent:
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(sent))
                    .values(status="sent", sent_at=now, attempts=OutboxMessage.attempts + 1)
                )
            if released:
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(released), OutboxMessage.status == "sending")
                    .values(status="pending")
                )
            for outcome in others:
                values: dict[str, Any] = {"status": outcome.status, "attempts": outcome.attempts}
                if outcome.next_attempt_at is not None:
                    values["next_attempt_at"] = outcome.next_attempt_at
                if outcome.error is not None:
                    values["last_error"] = outcome.error
                await session.execute(
                    update(OutboxMessage).where(OutboxMessage.id == outcome.row.id).values(**values)
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
        if unreachable_chats:
            self._drop_claimed_for(unreachable_chats)

    def _drop_claimed_for(self, chats: set[int]) -> None:
        """Rows already claimed for a chat that just turned out unreachable: don't send them."""
        dropped = [row for row in self._ready if row.chat_id in chats]
        dropped += [row for _, _, row in self._deferred if row.chat_id in chats]
        if not dropped:
            return
        self._ready = deque(row for row in self._ready if row.chat_id not in chats)
        self._deferred = [item for item in self._deferred if item[2].chat_id not in chats]
        heapq.heapify(self._deferred)
        if not self._done:
            self._oldest_done = time.monotonic()
        self._done += [
            _Outcome(row, "unreachable", row.attempts, error="recipient unreachable")
            for row in dropped
        ]

    async def _report(self, now: float) -> None:
        """The progress line: sent / total since start, the rate just now and the ETA."""
        interval = now - self._report_at
        recent = self.sent - self._sent_at_report
        self._report_at, self._sent_at_report = now, self.sent
        if recent == 0:
            return
        async with self._recording, self._db.transaction() as session:
            queued = int(
                await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status.in_(("pending", "sending")))
                )
                or 0
            )
            # Rows sent but not yet written are still `sending` in the table: count them once.
            # Both counters read together, right after the count (a send may land any moment).
            sent, queued = self.sent, queued - self._unrecorded_sent
        rate = recent / interval if interval > 0 else 0.0
        total = sent + queued
        eta = f"{queued / rate:.0f} s" if rate > 0 else "unknown"
        logger.info(
            "outbox progress: %d / %d sent (%.1f%%), %.1f/s, ETA %s",
            sent,
            total,
            100.0 * sent / total if total else 100.0,
            rate,
            eta,
        )

    # -- sending ------------------------------------------------------------------------------

    def _forget_quiet_chats(self, now: float) -> None:
        """A broadcast touches every chat once: keep only the chats whose interval isn't over."""
        if len(self._last_to_chat) > 10_000:
            cutoff = now - self._chats.longest_interval
            self._last_to_chat = {c: t for c, t in self._last_to_chat.items() if t > cutoff}

    def _chat_wait(self, chat_id: int) -> float:
        """Seconds until this chat may have the next outbox message (0: now).

        Two clocks: our own last message to the chat, timed from Telegram's answer (so network
        jitter can't squeeze two into one interval), and the chat's shared limiter, which
        replies fill too. The outbox only sends into an empty bucket: a person's replies keep
        their burst, and broadcasts never draw a per-chat 429 that would pause everyone.
        """
        interval = self._chats.interval(chat_id)
        last = self._last_to_chat.get(chat_id)
        own = 0.0 if last is None else max(0.0, last + interval - time.monotonic())
        if own > 0 or self._chats.is_quiet(chat_id):
            return own
        # The limiter doesn't say when it empties: look again after a fraction of an interval.
        return interval / RECHECK_PER_INTERVAL

    def _defer_busy_chat(self, row: _Row) -> None:
        due = time.monotonic() + self._chats.interval(row.chat_id) / RECHECK_PER_INTERVAL
        heapq.heappush(self._deferred, (due, row.id, row))

    def _later(self, seconds: float) -> datetime:
        return self._clock() + timedelta(seconds=seconds)

    async def _send(self, row: _Row, slot: Slot) -> _Outcome:
        try:
            if row.paid:
                await self._sender.send_message(
                    row.chat_id, row.text, row.reply_markup, allow_paid_broadcast=True
                )
            else:
                await self._sender.send_message(row.chat_id, row.text, row.reply_markup)
        except RetryAfter as exc:
            pause = retry_after_seconds(exc)
            self.answered_429 += 1
            until = time.monotonic() + pause
            if until > self._paused_until + 0.5:
                logger.warning(
                    "Telegram asked us to slow down: pausing all sending for %.0f s", pause
                )
            self._paused_until = max(self._paused_until, until)
            return _Outcome(row, "paused", row.attempts)
        except Forbidden as exc:
            return _Outcome(row, "unreachable", row.attempts + 1, error=str(exc)[:200])
        except BadRequest as exc:
            if any(marker in str(exc).lower() for marker in UNREACHABLE_ERRORS):
                return _Outcome(row, "unreachable", row.attempts + 1, error=str(exc)[:200])
            return _Outcome(row, "failed", row.attempts + 1, error=str(exc)[:200])
        except TelegramError as exc:  # NetworkError, 5xx, timeouts and the rest: retry
            attempts = row.attempts + 1
            if attempts >= MAX_ATTEMPTS:
                return _Outcome(row, "failed", attempts, error=str(exc)[:200])
            backoff = min(MAX_BACKOFF_SECONDS, 2**attempts)
            return _Outcome(row, "pending", attempts, self._later(backoff), str(exc)[:200])
        finally:
            slot.answered()
        # The second is counted from the answer, so the next message to this chat arrives at
        # least a full second after Telegram saw this one, whatever the network did.
        self._last_to_chat[row.chat_id] = time.monotonic()
        self.sent += 1
        self._unrecorded_sent += 1
        return _Outcome(row, "sent", row.attempts + 1)
