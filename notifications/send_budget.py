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
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from telegram.ext import BaseRateLimiter

from storage.db import Database
from storage.models import SendBudgetRow

CAPACITY_SECONDS = 1.0
LEASE_SECONDS = 0.1
LEASE_LIFETIME_SECONDS = 1.0
RESERVE_SHARE = 0.2
# A compare-and-swap that lost to another instance tries again at once, this many times.
MAX_SWAP_ATTEMPTS = 20

WallClock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Bucket:
    """The bucket's arithmetic, apart from where its state is kept."""

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


class BudgetRateLimiter(BaseRateLimiter[None]):
    """PTB's rate limiter for replies: every message a handler sends spends from the budget.

    Calls that put nothing in a chat (getMe, answerCallbackQuery, setWebhook …) pass freely;
    Telegram's per-second limit is about messages.
    """

    def __init__(self, budget: SendBudget) -> None:
        self.budget = budget

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
        if counts_as_a_message(endpoint):
            await self.budget.take(reply=True)
        return await callback(*args, **kwargs)


def counts_as_a_message(endpoint: str) -> bool:
    return endpoint.startswith(MESSAGE_METHOD_PREFIXES)


MESSAGE_METHOD_PREFIXES = ("send", "copyMessage", "forwardMessage", "edit")
