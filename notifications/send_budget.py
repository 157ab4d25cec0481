"""One send rate for the whole bot: no rolling second over BRITIZEN_SEND_RATE, from all instances.

Telegram limits a bot token, not a process, and counts any rolling second (issue 21): replies
go out from whichever instance handled the update and broadcasts from the leader's outbox
sender, so each on its own clock could add up to N times the rate. Instead the bot has R
*seats* (R = the rate, one row each in `send_seats`), and every message sent to Telegram holds
one from before it starts until a second after Telegram answered it:

- A seat is free once its `released_at` has passed. An instance leases free seats (one UPDATE
  of a few rows, `FOR UPDATE SKIP LOCKED` on PostgreSQL), marking them held far ahead, sends
  one message on each, and reports each seat's release: the answer's time plus a second
  (`Seat.answered`), or, for a seat it never sent on, a time already past (`Seat.unused`).
- Why no rolling second can hold more than R: a message reaches Telegram between its start
  and its answer, so every message arriving in the second [t, t + 1) held its seat at the
  instant just before t + 1; at any instant at most R seats are held, one message each.
  A lease counts as held every seat whose release is still ahead, so two instances can't
  both take one; an unused seat gives nothing back that could be saved up into a burst.
- Leases are small (a twentieth of a second's worth) and a leased seat not started within a
  tenth of a second goes back; releases are written in batches, beside the next lease.
- Replies come first: the outbox sender takes a seat only `PRIORITY_HOLD_SECONDS` after it
  became free, so a reply waiting for one, on any instance, gets it.
- A crashed instance's seats come back `HELD_SECONDS` after it leased them: later than any
  message it started could still be arriving.
- Instances' clocks must agree to within `CLOCK_ALLOWANCE_SECONDS` (NTP keeps a LAN to a few
  milliseconds); each release carries that much more.

On SQLite the rows work the same way with one instance, which is all SQLite supports. The cost,
per seat and second: the message's round trip, the outbox's hold, the clock allowance and a
lease; measured 28.7-28.9 of 30 a second, one instance or two (docs/scale.md).

Telegram's other limit, about a message a second in one chat, is `pacing.ChatLimits`
(aiolimiter, in the process): `BudgetRateLimiter` paces replies with it and waits out a 429's
`retry_after` before trying again, a few times.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from notifications.outbox import SEND_TIMEOUT_SECONDS
from notifications.pacing import ChatId, ChatLimits, retry_after_seconds
from storage.db import Database
from storage.models import SendSeatRow

logger = logging.getLogger(__name__)

# Telegram counts messages in any rolling second.
WINDOW_SECONDS = 1.0
# A lease asks for this long's worth of whole seats at most (1 at 30/s, 50 at 1,000/s): a
# seat leased ahead of its message is a seat nobody sends on meanwhile, but a lease a message
# cost the dispatcher 3.3 ms of CPU a message at 1,000/s...
LEASE_SECONDS = 0.05
# ... and a leased seat not started within this goes back to the others.
LEASE_LIFETIME_SECONDS = 0.1
# The outbox takes a seat this long after it became free: a reply waiting for it gets it first.
PRIORITY_HOLD_SECONDS = 0.01
# How far apart instances' clocks may be; every release is this much later.
CLOCK_ALLOWANCE_SECONDS = 0.005
# Released seats are written this long after the answer at the latest (with the next lease if
# that comes first): a second before anyone could use them.
REPORT_DELAY_SECONDS = 0.05
# With no seat free and no release known yet, look again after this long.
POLL_SECONDS = 0.05
# The longest a message can be on its way: the outbox's timeout, and PTB's (5 s to connect,
# write and read, 20 s to write a file) for replies.
LONGEST_SEND_SECONDS = max(SEND_TIMEOUT_SECONDS, 30.0)
# A held seat is free again this long after its lease even if its holder never says (killed):
# by then whatever it sent on the seat arrived at least a window ago.
HELD_SECONDS = (
    LEASE_LIFETIME_SECONDS + LONGEST_SEND_SECONDS + WINDOW_SECONDS + CLOCK_ALLOWANCE_SECONDS + 1.0
)
# A reply Telegram answers 429 is sent again after `retry_after`, this many times at most...
MAX_RETRIES = 3
# ... and only if the wait is short: a handler holds the person's next update while it waits,
# and a flood wait of minutes means the answer would come too late to make sense anyway.
MAX_RETRY_WAIT_SECONDS = 10.0

WallClock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class SeatRules:
    """The seats' arithmetic, apart from where they are kept (a table, or `SeatLedger`)."""

    rate: float

    @property
    def seats(self) -> int:
        """Messages allowed in one window: under one a second, one per 1 / rate seconds."""
        return max(1, math.floor(self.rate * WINDOW_SECONDS))

    @property
    def window(self) -> float:
        return WINDOW_SECONDS if self.rate * WINDOW_SECONDS >= 1 else 1.0 / self.rate

    @property
    def chunk(self) -> int:
        """Seats one lease asks for at most."""
        return min(self.seats, max(1, math.floor(self.rate * LEASE_SECONDS)))

    def cutoff(self, now: float, *, reply: bool) -> float:
        """A seat released at or before this is free for a lease at `now`."""
        return now if reply else now - PRIORITY_HOLD_SECONDS

    def held(self, now: float) -> float:
        """What a lease at `now` writes on its seats: free again if never reported."""
        return now + HELD_SECONDS

    def released(self, answered_at: float) -> float:
        """A seat whose message Telegram answered at `answered_at` (the sender's clock)."""
        return answered_at + self.window + CLOCK_ALLOWANCE_SECONDS

    def unused(self, leased_at: float) -> float:
        """A seat leased at `leased_at` and never sent on: free at once, for anyone.

        It was free at the lease (its last message a window behind), and nothing was sent on
        it since, so handing it straight back lets nothing more into any second.
        """
        return leased_at - PRIORITY_HOLD_SECONDS

    def wait(self, earliest: float | None, now: float, *, reply: bool) -> float:
        """Seconds to wait after a lease that got nothing, given the earliest seat release
        still ahead (None: none known). Never longer than `POLL_SECONDS`: an unused seat may
        come back any moment."""
        if earliest is None or earliest - now > self.window + CLOCK_ALLOWANCE_SECONDS:
            return POLL_SECONDS  # every seat held, none reported yet
        return min(POLL_SECONDS, max(0.0, earliest - self.cutoff(now, reply=reply) + 0.001))


class SeatLedger:
    """The bot's seats in memory, exactly as `DatabaseSeats` keeps them in the table.

    For tests (the property test in tests/notifications/test_send_budget.py drives two
    instances' leases through it) and for a budget that needs no database.
    """

    def __init__(self, rules: SeatRules) -> None:
        self.rules = rules
        self.released_at = [0.0] * rules.seats

    def lease(self, now: float, want: int, *, reply: bool) -> tuple[list[int], float | None]:
        cutoff = self.rules.cutoff(now, reply=reply)
        free = sorted(
            (released, seat) for seat, released in enumerate(self.released_at) if released <= cutoff
        )
        granted = [seat for _, seat in free[:want]]
        for seat in granted:
            self.released_at[seat] = self.rules.held(now)
        return granted, self._earliest(cutoff) if not granted else None

    def _earliest(self, cutoff: float) -> float | None:
        ahead = [released for released in self.released_at if released > cutoff]
        return min(ahead) if ahead else None

    def report(self, releases: Iterable[tuple[int, float]]) -> None:
        for seat, released in releases:
            self.released_at[seat] = released


class SeatStore(Protocol):
    async def lease(
        self, now: float, want: int, *, reply: bool, releases: list[tuple[int, float]]
    ) -> tuple[list[int], float | None]:
        """Write `releases`, then lease up to `want` free seats: (seats, and when none was
        free, the earliest release still ahead)."""

    async def report(self, releases: list[tuple[int, float]]) -> None: ...


class MemorySeats:
    """A `SeatStore` over a `SeatLedger` (one process)."""

    def __init__(self, ledger: SeatLedger) -> None:
        self.ledger = ledger

    async def lease(
        self, now: float, want: int, *, reply: bool, releases: list[tuple[int, float]]
    ) -> tuple[list[int], float | None]:
        self.ledger.report(releases)
        return self.ledger.lease(now, want, reply=reply)

    async def report(self, releases: list[tuple[int, float]]) -> None:
        self.ledger.report(releases)


_SEATS = cast(Table, SendSeatRow.__table__)


class DatabaseSeats:
    """The seats as rows of `send_seats`: every instance of the bot leases from the same ones."""

    def __init__(self, db: Database, bot_id: int, rules: SeatRules) -> None:
        self._db = db
        self._bot_id = bot_id
        self.rules = rules
        self._autocommit = db.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._created = False

    async def lease(
        self, now: float, want: int, *, reply: bool, releases: list[tuple[int, float]]
    ) -> tuple[list[int], float | None]:
        cutoff = self.rules.cutoff(now, reply=reply)
        ours = (_SEATS.c.bot_id == self._bot_id, _SEATS.c.seat < self.rules.seats)
        # Each statement on its own (no BEGIN, no COMMIT: two round trips fewer a lease): the
        # lease is one statement, and the releases before it need not agree with it.
        async with self._autocommit.connect() as conn:
            if not self._created:
                await self._create(conn)
            await self._write(conn, releases)
            # A CTE, evaluated once: as `seat IN (subquery)` PostgreSQL may run the subquery
            # again for every row, and with ties in the order each run picks other seats.
            free = (
                select(_SEATS.c.seat)
                .where(*ours, _SEATS.c.released_at <= cutoff)
                .order_by(_SEATS.c.released_at, _SEATS.c.seat)
                .limit(want)
                .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer anyway
                .cte("free")
            )
            granted = list(
                (
                    await conn.execute(
                        update(_SEATS)
                        .where(
                            *ours,
                            _SEATS.c.seat == free.c.seat,
                            _SEATS.c.released_at <= cutoff,
                        )
                        .values(released_at=self.rules.held(now))
                        .returning(_SEATS.c.seat)
                    )
                ).scalars()
            )
            if granted:
                return granted, None
            earliest = await conn.scalar(
                select(func.min(_SEATS.c.released_at)).where(*ours, _SEATS.c.released_at > cutoff)
            )
            return [], earliest

    async def report(self, releases: list[tuple[int, float]]) -> None:
        async with self._autocommit.connect() as conn:
            await self._write(conn, releases)

    async def _write(self, conn: AsyncConnection, releases: list[tuple[int, float]]) -> None:
        if not releases:
            return
        await conn.execute(
            update(_SEATS)
            .where(_SEATS.c.bot_id == self._bot_id, _SEATS.c.seat == bindparam("the_seat"))
            .values(released_at=bindparam("the_release")),
            [{"the_seat": seat, "the_release": released} for seat, released in releases],
        )

    async def _create(self, conn: AsyncConnection) -> None:
        """The bot's seats, free, unless another instance made them first."""
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        await conn.execute(
            insert(_SEATS)
            .values(
                [
                    {"bot_id": self._bot_id, "seat": seat, "released_at": 0.0}
                    for seat in range(self.rules.seats)
                ]
            )
            .on_conflict_do_nothing()
        )
        self._created = True


class SeatPool:
    """One instance's leased seats of one kind (replies or the outbox), not yet sent on.

    Pure: the caller gives the time. A seat must be started within `LEASE_LIFETIME_SECONDS`
    of its lease; after that it only goes back (`expired`).
    """

    def __init__(self) -> None:
        self._seats: deque[tuple[int, float]] = deque()  # (seat, leased at), oldest first

    def __len__(self) -> int:
        return len(self._seats)

    def add(self, seats: Iterable[int], leased_at: float) -> None:
        self._seats.extend((seat, leased_at) for seat in seats)

    def take(self, now: float) -> tuple[int, float] | None:
        """A seat to send on now, with when it was leased; None if none is left in date.

        The newest first: older ones past their lifetime are left for `expired`.
        """
        if self._seats and now - self._seats[-1][1] < LEASE_LIFETIME_SECONDS:
            return self._seats.pop()
        return None

    def expired(self, now: float, *, everything: bool = False) -> list[tuple[int, float]]:
        """Seats past their lifetime (or all of them), taken out: (seat, leased at)."""
        gone: list[tuple[int, float]] = []
        while self._seats and (everything or now - self._seats[0][1] >= LEASE_LIFETIME_SECONDS):
            gone.append(self._seats.popleft())
        return gone


class Seat:
    """One message's seat: `answered()` once Telegram's answer (any answer, or none: a send
    that failed) is in, or `unused()` if nothing was sent on it after all."""

    __slots__ = ("_budget", "done", "leased_at", "seat")

    def __init__(self, budget: SendBudget, seat: int, leased_at: float) -> None:
        self._budget = budget
        self.seat = seat
        self.leased_at = leased_at
        self.done = False

    def answered(self) -> None:
        if not self.done:
            self.done = True
            self._budget.release(self.seat, self._budget.rules.released(self._budget.clock()))

    def unused(self) -> None:
        if not self.done:
            self.done = True
            self._budget.release(self.seat, self._budget.rules.unused(self.leased_at))


class SendBudget:
    """The bot's seats as this instance sees them: `acquire` one for every message sent."""

    def __init__(
        self,
        db: Database | None,
        bot_id: int,
        rate: float,
        *,
        clock: WallClock = time.time,
        store: SeatStore | None = None,
    ) -> None:
        self.rules = SeatRules(rate)
        self.clock = clock
        if store is None:
            store = (
                DatabaseSeats(db, bot_id, self.rules)
                if db is not None
                else MemorySeats(SeatLedger(self.rules))
            )
        self.store = store
        # Replies and the outbox lease separately, so the outbox's hold applies to its seats.
        self._pools = {True: SeatPool(), False: SeatPool()}
        self._leasing = {True: asyncio.Lock(), False: asyncio.Lock()}
        self._waiting = {True: 0, False: 0}
        self._releases: list[tuple[int, float]] = []
        self._reporting: asyncio.Task[None] | None = None
        # A write is never cancelled half-way: a connection cancelled while it goes back to
        # the pool is left for the garbage collector, which can't close it without the loop.
        self._writing = False
        self._closing = False
        # Per-chat limits, in this process: replies and the outbox sender both get this budget,
        # so the outbox sees which chats this instance's replies are busy with.
        self.chats = ChatLimits()
        self.leases = 0  # for the benchmark: leases asked for

    async def acquire(self, *, reply: bool) -> Seat:
        """A seat for one message, waiting for one to be free: a reply may take one the
        moment it frees, the outbox `PRIORITY_HOLD_SECONDS` later."""
        pool = self._pools[reply]
        self._waiting[reply] += 1
        try:
            while True:
                taken = pool.take(self.clock())
                if taken is not None:
                    return Seat(self, *taken)
                async with self._leasing[reply]:  # one lease in flight per kind
                    now = self.clock()
                    taken = pool.take(now)
                    if taken is not None:
                        return Seat(self, *taken)
                    # The outbox sends a steady stream: a whole chunk. Replies come as they
                    # come: as many as are waiting, up to a chunk.
                    chunk = self.rules.chunk
                    want = min(chunk, self._waiting[reply]) if reply else chunk
                    releases = self._due_releases(now)
                    self.leases += 1
                    try:
                        granted, earliest = await self.store.lease(
                            now, want, reply=reply, releases=releases
                        )
                    except BaseException:
                        self._releases[:0] = releases  # not written: the next write has them
                        raise
                    if granted:
                        pool.add(granted[1:], now)
                        self._schedule_report()  # unstarted seats go back when they expire
                        return Seat(self, granted[0], now)
                    wait = self.rules.wait(earliest, now, reply=reply)
                await asyncio.sleep(wait)
        finally:
            self._waiting[reply] -= 1

    def release(self, seat: int, released_at: float) -> None:
        """A seat is done with: written with the next lease, or within `REPORT_DELAY_SECONDS`."""
        self._releases.append((seat, released_at))
        self._schedule_report()

    def _due_releases(self, now: float, *, everything: bool = False) -> list[tuple[int, float]]:
        """Everything to write: released seats and leased ones that expired unstarted."""
        releases, self._releases = self._releases, []
        for pool in self._pools.values():
            releases += [
                (seat, self.rules.unused(leased_at))
                for seat, leased_at in pool.expired(now, everything=everything)
            ]
        return releases

    def _schedule_report(self) -> None:
        if self._closing:
            return  # close() writes what is left itself
        if self._reporting is None or self._reporting.done():
            self._reporting = asyncio.create_task(self._report_soon())

    async def _report_soon(self) -> None:
        while not self._closing and (self._releases or any(self._pools.values())):
            await asyncio.sleep(REPORT_DELAY_SECONDS)
            releases = self._due_releases(self.clock())
            if not releases:
                continue
            self._writing = True
            try:
                await self.store.report(releases)
            except asyncio.CancelledError:
                self._releases[:0] = releases  # close() writes them
                raise
            except Exception:
                self._releases[:0] = releases
                logger.exception("writing %d send seats failed; trying again", len(releases))
                self._writing = False
                await asyncio.sleep(POLL_SECONDS)
            finally:
                self._writing = False

    async def close(self) -> None:
        """Write every release and hand back every leased seat (a clean stop)."""
        self._closing = True
        task, self._reporting = self._reporting, None
        if task is not None:
            if not self._writing:
                task.cancel()  # asleep between writes: safe to stop there
            with contextlib.suppress(asyncio.CancelledError):
                await task  # a write under way finishes, then the loop ends
        releases = self._due_releases(self.clock(), everything=True)
        if releases:
            await self.store.report(releases)


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
            seat = await self.budget.acquire(reply=True)
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
                seat.answered()
                await self._sleep(wait)
            finally:
                seat.answered()
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
