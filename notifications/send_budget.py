"""One send rate for the whole bot: BRITIZEN_SEND_RATE holds across every instance together.

Telegram limits a bot token, not a process. Replies go out from whichever instance handled the
update and broadcasts from the leader's outbox sender, so each of them on its own clock could
add up to N times the rate. Instead every send spends a token from one bucket per bot, kept in
a database row (`send_budgets`):

- The bucket refills at the send rate and holds one second's worth (Telegram counts per
  second), so no second ever carries more than the rate plus what was left unspent.
- An instance leases tokens a tenth of a second's worth at a time (one compare-and-swap
  UPDATE, no lock held), spends them locally, and lets unspent ones lapse after a second so
  they can't be saved up into a burst.
- Replies come first: the outbox sender only leases tokens above a reserve of a fifth of the
  bucket, so a broadcast at full speed still leaves people's answers room.

On SQLite the row works the same way with one instance, which is all SQLite supports.

Telegram's other limit, about a message a second in one chat, is `pacing.ChatLimits`
(aiolimiter, in the process): `BudgetRateLimiter` paces replies with it and waits out a 429's
`retry_after` before trying again, a few times.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from notifications.pacing import ChatId, ChatLimits, RollingWindow, retry_after_seconds
from storage.db import Database
from storage.models import SendBudgetRow

logger = logging.getLogger(__name__)

CAPACITY_SECONDS = 1.0
LEASE_SECONDS = 0.1
LEASE_LIFETIME_SECONDS = 1.0
RESERVE_SHARE = 0.2
# A compare-and-swap that lost to another instance tries again at once, this many times.
MAX_SWAP_ATTEMPTS = 20
# A reply Telegram answers 429 is sent again after `retry_after`, this many times at most...
MAX_RETRIES = 3
# ... and only if the wait is short: a handler holds the person's next update while it waits,
# and a flood wait of minutes means the answer would come too late to make sense anyway.
MAX_RETRY_WAIT_SECONDS = 10.0

WallClock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Bucket:
    """The bucket's arithmetic, apart from where its state is kept.

    Written here rather than taken from aiolimiter (which ChatLimits uses): an AsyncLimiter
    keeps its level in the process, and this bucket's level is a database row that every
    instance spends from.
    """

    rate: float

    @property
    def capacity(self) -> float:
        return max(1.0, self.rate * CAPACITY_SECONDS)

    @property
    def reserve(self) -> float:
        return self.capacity * RESERVE_SHARE

    def refilled(self, tokens: float, updated_at: float, now: float) -> float:
        # A clock that went backwards (another instance's, a little ahead) refills nothing.
        return min(self.capacity, tokens + self.rate * max(0.0, now - updated_at))

    def grant(self, available: float, want: int, *, keep: float) -> int:
        """Whole tokens to hand out of `available`, leaving at least `keep` behind."""
        return max(0, min(want, math.floor(available - keep)))

    def wait_for(self, available: float, *, keep: float) -> float:
        """Seconds until one token above `keep` is there."""
        return max(0.0, (keep + 1 - available) / self.rate)


@dataclass(slots=True)
class _Lease:
    tokens: int = 0
    expires: float = 0.0


class SendBudget:
    """Spend one token per message sent to Telegram; `take` waits until one is there."""

    def __init__(
        self, db: Database, bot_id: int, rate: float, *, clock: WallClock = time.time
    ) -> None:
        self._db = db
        self._bot_id = bot_id
        self.bucket = Bucket(rate)
        self._clock = clock
        self._chunk = max(1, math.ceil(rate * LEASE_SECONDS))
        # Replies and the outbox lease separately, so the outbox's reserve rule holds.
        self._leases = {True: _Lease(), False: _Lease()}
        self._leasing = {True: asyncio.Lock(), False: asyncio.Lock()}
        # Per-chat limits, in this process: replies and the outbox sender both get this budget,
        # so the outbox sees which chats this instance's replies are busy with.
        self.chats = ChatLimits()
        # No rolling second over the rate from this instance, replies and outbox together
        # (pacing.RollingWindow); the bucket above keeps every instance's sum to the rate.
        self.window = RollingWindow(rate)

    async def take(self, *, reply: bool) -> None:
        """One token: a reply may use the reserve, a broadcast message may not."""
        lease = self._leases[reply]
        while True:
            if self._spend(lease):
                return
            async with self._leasing[reply]:  # one lease in flight per kind, not one per send
                if self._spend(lease):
                    return
                granted, wait = await self.lease(self._chunk, reply=reply)
                if granted:
                    lease.tokens = granted - 1
                    lease.expires = time.monotonic() + LEASE_LIFETIME_SECONDS
                    return
            await asyncio.sleep(wait)

    def _spend(self, lease: _Lease) -> bool:
        if lease.tokens > 0 and time.monotonic() < lease.expires:
            lease.tokens -= 1
            return True
        return False

    async def lease(self, want: int, *, reply: bool) -> tuple[int, float]:
        """Take up to `want` tokens from the shared bucket: (granted, seconds to wait if 0)."""
        keep = 0.0 if reply else self.bucket.reserve
        for _ in range(MAX_SWAP_ATTEMPTS):
            now = self._clock()
            async with self._db.autocommit() as session:
                row = (
                    await session.execute(
                        select(SendBudgetRow.tokens, SendBudgetRow.updated_at).where(
                            SendBudgetRow.bot_id == self._bot_id
                        )
                    )
                ).one_or_none()
                if row is None:
                    await self._create(now)
                    continue
                available = self.bucket.refilled(row.tokens, row.updated_at, now)
                granted = self.bucket.grant(available, want, keep=keep)
                if not granted:
                    return 0, self.bucket.wait_for(available, keep=keep)
                # Only if nobody leased since we read: otherwise read again and recount.
                swapped = await session.execute(
                    update(SendBudgetRow)
                    .where(
                        SendBudgetRow.bot_id == self._bot_id,
                        SendBudgetRow.tokens == row.tokens,
                        SendBudgetRow.updated_at == row.updated_at,
                    )
                    .values(tokens=available - granted, updated_at=max(now, row.updated_at))
                )
                if getattr(swapped, "rowcount", 0) == 1:
                    return granted, 0.0
        # Contention this heavy means many instances at once: back off for one lease's time.
        return 0, LEASE_SECONDS

    async def _create(self, now: float) -> None:
        try:
            async with self._db.autocommit() as session:
                session.add(
                    SendBudgetRow(bot_id=self._bot_id, tokens=self.bucket.capacity, updated_at=now)
                )
                await session.flush()
        except IntegrityError:
            pass  # another instance created it first: read theirs


def bot_id_from_token(token: str) -> int:
    """The numeric bot id that starts every token ("123456:ABC…"): not secret, unlike the rest."""
    head = token.split(":", 1)[0]
    return int(head) if head.isdigit() else 0


Sleep = Callable[[float], Awaitable[None]]


class BudgetRateLimiter(BaseRateLimiter[None]):
    """PTB's rate limiter for replies: every message a handler sends spends from the budget.

    A new message in a chat also waits for room in that chat (`ChatLimits`: a short burst,
    then about one a second), so two or three sent back to back all arrive. A 429 anyway
    (another instance wrote to the chat, or Telegram counts differently) is waited out and
    the call made again, up to `MAX_RETRIES` times; after that, or for a long wait, the
    RetryAfter reaches the handler, so whatever it meant to record as said is not recorded.

    Calls that put nothing in a chat (getMe, answerCallbackQuery, setWebhook …) pass freely;
    Telegram's per-second limit is about messages.
    """

    def __init__(
        self,
        budget: SendBudget,
        *,
        max_retries: int = MAX_RETRIES,
        max_retry_wait: float = MAX_RETRY_WAIT_SECONDS,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.budget = budget
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self._sleep = sleep
        self.retried_429 = 0
        # Messages between the handler's call and Telegram's final answer, waits included: the
        # wire is quiet while one waits for its chat's room, so "the bot is done" asks this.
        self.in_hand = 0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if not counts_as_a_message(endpoint):
            return await callback(*args, **kwargs)
        self.in_hand += 1
        try:
            return await self._send(callback, args, kwargs, endpoint, data)
        finally:
            self.in_hand -= 1

    async def _send(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat = chat_of(data) if puts_a_message_in_a_chat(endpoint) else None
        for attempt in itertools.count(1):
            if chat is not None:
                await self.budget.chats.acquire(chat)
            await self.budget.take(reply=True)
            slot = await self.budget.window.acquire()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = retry_after_seconds(exc)
                if attempt > self.max_retries or wait > self.max_retry_wait:
                    logger.warning(
                        "%s to chat %s: 429 after %d tries (retry after %.0f s); giving up",
                        endpoint,
                        chat,
                        attempt,
                        wait,
                    )
                    raise
                self.retried_429 += 1
                logger.info("%s to chat %s: 429, trying again in %.0f s", endpoint, chat, wait)
                slot.answered()
                await self._sleep(wait)
            finally:
                slot.answered()
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def counts_as_a_message(endpoint: str) -> bool:
    return endpoint.startswith(MESSAGE_METHOD_PREFIXES)


def puts_a_message_in_a_chat(endpoint: str) -> bool:
    """A new message (the per-chat limit): not an edit, nor "typing…"."""
    return endpoint.startswith(NEW_MESSAGE_PREFIXES) and endpoint != "sendChatAction"


def chat_of(data: dict[str, Any]) -> ChatId | None:
    chat = data.get("chat_id")
    return chat if isinstance(chat, int | str) else None


MESSAGE_METHOD_PREFIXES = ("send", "copyMessage", "forwardMessage", "edit")
NEW_MESSAGE_PREFIXES = ("send", "copyMessage", "forwardMessage")
