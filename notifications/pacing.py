"""Pacing sends: evenly spaced slots at the send rate, and Telegram's limit per chat.

Telegram allows a bot about one message a second in one chat (short bursts aside) and about
twenty a minute in a group; over that it answers 429 with `retry_after`. `ChatLimits` keeps
an `aiolimiter.AsyncLimiter` per chat for that. It lives in the process: one instance's
replies and its outbox share it, and a reply from another instance that collides with them
draws a 429, which both paths wait out and retry (send_budget.BudgetRateLimiter, dispatcher).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Protocol

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter

from notifications.outbox import (
    CATCH_UP_SECONDS,
)

logger = logging.getLogger(__name__)

# A chat may take this many messages at once (registration's "You're registered" and the
# offers question, an answer and its follow-up), then one per interval.
CHAT_BURST = 3
PRIVATE_CHAT_INTERVAL_SECONDS = 1.0
# "No more than 20 messages per minute in the same group" (Telegram's bot FAQ): three times as
# long as in a private chat.
GROUP_INTERVAL_FACTOR = 3.0
# Past this many chats, the ones with nothing sent lately are forgotten (a broadcast touches
# every chat once; a limiter per person for ever would be a leak).
FORGET_ABOVE = 10_000

ChatId = int | str


class _Pacer:
    """Evenly spaced send slots at `rate`: never a burst above it.

    After a stall the pacer catches up at most `CATCH_UP_SECONDS` worth of slots at once, so a
    busy CPU costs little throughput, and no second ever holds more than
    ``rate * (1 + CATCH_UP_SECONDS) + 1`` sends (27.5 at the default 25/s; Telegram's is 30).
    It is a schedule rather than a token bucket: the dispatcher needs to know the slot before
    it claims a row's send (and to move it for a 429 pause), which `AsyncLimiter` can't say.
    """

    def __init__(self, rate: float, *, catch_up: float = CATCH_UP_SECONDS) -> None:
        self.interval = 1.0 / rate
        self._catch_up = max(catch_up, 0.0)
        self._next = 0.0

    def idle(self) -> None:
        """Nothing to send: the next message starts a fresh schedule, with nothing to catch up."""
        self._next = 0.0

    async def wait(self, not_before: float) -> None:
        now = time.monotonic()
        if self._next == 0.0:
            self._next = now
        slot = max(self._next, now - self._catch_up, not_before)
        self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


class SendSlot:
    """One send under a RollingWindow: `answered()` when Telegram's answer (any answer, or
    none: a send that never went) is in, so the window can count from then."""

    __slots__ = ("_window", "answered_at")

    def __init__(self, window: RollingWindow) -> None:
        self._window = window
        self.answered_at: float | None = None

    def answered(self) -> None:
        if self.answered_at is None:
            self.answered_at = self._window.clock()
            self._window.wake()

    def unused(self) -> None:
        """Nothing was sent after all: the window counts it anyway (it is the next one's)."""
        self.answered()


class Slot(Protocol):
    """Room for one message to Telegram: a RollingWindow's or a shared seat
    (send_budget.Seat). `answered()` once the answer is in, `unused()` if never sent."""

    def answered(self) -> None: ...

    def unused(self) -> None: ...


Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class RollingWindow:
    """At most `limit` sends in any rolling `window` seconds, as Telegram counts them.

    A send may start only once the send `limit` places before it was *answered* at least
    `window` seconds ago. Telegram saw that earlier send at some moment before its answer,
    and sees this one at some moment after it starts, so the two arrive at least `window`
    apart whatever the network did in between; sends start in order, so every later one is
    further still. No rolling second at Telegram's end can then hold more than `limit`, which
    evenly spaced slots alone can't promise (a stall and a catch-up, or jitter, put 31 in one
    second at 30/s; issue 21 measured 19 429s that way).

    The cost is the answer's latency once per `limit` sends: at 30/s and a few milliseconds a
    round trip, under 1%. A send still unanswered `limit` sends later holds the next one until
    its answer (or its timeout) comes.
    """

    # How far behind schedule a pacer in front of a window may catch up at once.
    CATCH_UP_SECONDS = 1.0

    def __init__(
        self,
        rate: float,
        *,
        window: float = 1.0,
        clock: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        # Under one a second: one send per 1 / rate seconds.
        self.limit = max(1, math.floor(rate * window))
        self.window = window if rate * window >= 1 else 1.0 / rate
        self.clock = clock
        self._sleep = sleep
        self._slots: deque[SendSlot] = deque(maxlen=self.limit)
        self._answer: asyncio.Event | None = None
        self._lock = asyncio.Lock()

    def wake(self) -> None:
        if self._answer is not None:
            self._answer.set()

    def wait_before_next(self) -> float | None:
        """Seconds until the next send may start (0: now), or None while the send it waits
        for is still unanswered."""
        if len(self._slots) < self.limit:
            return 0.0
        oldest = self._slots[0].answered_at
        if oldest is None:
            return None
        return max(0.0, oldest + self.window - self.clock())

    async def acquire(self) -> SendSlot:
        """Wait for room, then take it: the returned slot must be `answered()`."""
        async with self._lock:  # one waiter at a time, so sends start in order
            while True:
                wait = self.wait_before_next()
                if wait == 0.0:
                    break
                if wait is None:
                    self._answer = asyncio.Event()
                    if self.wait_before_next() is None:
                        await self._answer.wait()
                    self._answer = None
                else:
                    await self._sleep(wait)
            slot = SendSlot(self)
            self._slots.append(slot)  # the oldest drops out: it is a window behind
            return slot


def is_group(chat_id: ChatId) -> bool:
    """Groups, supergroups and channels have negative ids (or an @username); people positive."""
    return isinstance(chat_id, str) or chat_id < 0


class ChatLimits:
    """One leaky bucket per chat: `CHAT_BURST` messages at once, then one per interval.

    `interval` is a person's (BRITIZEN_CHAT_SEND_INTERVAL); a group's is three times it.
    0 paces nothing: for a Bot API that has no per-chat limit (tests' stand-in by default).
    """

    def __init__(
        self, *, burst: int = CHAT_BURST, interval: float = PRIVATE_CHAT_INTERVAL_SECONDS
    ) -> None:
        self.burst = burst
        self.private_interval = interval
        self._limiters: dict[ChatId, AsyncLimiter] = {}
        self._forget_above = FORGET_ABOVE

    def set_interval(self, seconds: float) -> None:
        """Change the pace (from the settings, once, before anything is sent)."""
        self.private_interval = seconds
        self._limiters.clear()

    def interval(self, chat_id: ChatId) -> float:
        """Seconds per message this chat allows, once its burst is spent."""
        return self.private_interval * (GROUP_INTERVAL_FACTOR if is_group(chat_id) else 1.0)

    @property
    def longest_interval(self) -> float:
        return self.private_interval * GROUP_INTERVAL_FACTOR

    def __len__(self) -> int:
        """Chats remembered."""
        return len(self._limiters)

    def limiter(self, chat_id: ChatId) -> AsyncLimiter:
        limiter = self._limiters.get(chat_id)
        if limiter is None:
            if len(self._limiters) >= self._forget_above:
                self._forget_idle()
            limiter = AsyncLimiter(self.burst, self.burst * self.interval(chat_id))
            self._limiters[chat_id] = limiter
        return limiter

    async def acquire(self, chat_id: ChatId) -> None:
        """Room for one message in the chat, waiting for it if the burst is spent."""
        if self.private_interval > 0:
            await self.limiter(chat_id).acquire()

    def is_quiet(self, chat_id: ChatId) -> bool:
        """Nothing sent to the chat lately: its bucket has room for the whole burst."""
        limiter = self._limiters.get(chat_id)  # never one when nothing is paced
        return limiter is None or limiter.has_capacity(limiter.max_rate)

    async def take_if_quiet(self, chat_id: ChatId) -> bool:
        """Take room for one message only if the chat's bucket is empty, without waiting.

        The outbox sends this way: its messages are never urgent, so it leaves a chat's burst
        to the person's replies and its own messages stay an interval apart.
        """
        if not self.is_quiet(chat_id):
            return False
        if self.private_interval <= 0:
            return True
        limiter = self.limiter(chat_id)
        # With room there, acquire() takes it without suspending: nobody can get in between.
        await limiter.acquire()
        return True

    def _forget_idle(self) -> None:
        # A drained bucket (room for its whole burst) remembers nothing worth keeping.
        self._limiters = {
            chat: limiter
            for chat, limiter in self._limiters.items()
            if not limiter.has_capacity(limiter.max_rate)
        }
        # Every chat still busy: don't sweep again until there are twice as many.
        self._forget_above = max(FORGET_ABOVE, 2 * len(self._limiters))


def retry_after_seconds(error: RetryAfter) -> float:
    """Telegram's `retry_after` in seconds.

    PTB 22 keeps a timedelta; its public property warns while it migrates from int seconds.
    """
    retry_after = getattr(error, "_retry_after", None)
    if isinstance(retry_after, timedelta):
        return retry_after.total_seconds()
    return float(error.retry_after)  # type: ignore[arg-type]
