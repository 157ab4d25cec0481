"""The bot's one send budget, shared by every instance: never more than the rate, replies first.

Each test gives the budgets a clock of its own, so the bucket's arithmetic is checked in
virtual seconds; two SendBudget objects on one database are two instances.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from notifications.pacing import RollingWindow
from notifications.send_budget import BudgetRateLimiter, SendBudget, bot_id_from_token
from storage.db import Database

BOT = 123456
RATE = 20.0  # a bucket of 20 tokens, of which the outbox may not touch the last 4


class Clock:
    def __init__(self, now: float = 1_800_000_000.0, *, tick: float = 0.0) -> None:
        self.now = now
        self.tick = tick  # how far each reading moves time on: lets take() see tokens refill

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


async def test_two_instances_share_one_bucket(db: Database) -> None:
    clock = Clock()
    first, second = (SendBudget(db, BOT, RATE, clock=clock) for _ in range(2))
    assert await first.lease(100, reply=True) == (20, 0.0)  # the whole second's worth
    granted, wait = await second.lease(100, reply=True)
    assert granted == 0 and wait == pytest.approx(1 / RATE)  # nothing left for anyone
    clock.now += 0.5
    assert (await second.lease(100, reply=True))[0] == 10  # half a second refills half
    assert (await first.lease(100, reply=True))[0] == 0
    clock.now += 10  # a quiet spell refills the bucket, but only to its one-second size
    assert (await first.lease(100, reply=True))[0] == 20


async def test_another_bot_has_a_bucket_of_its_own(db: Database) -> None:
    clock = Clock()
    assert (await SendBudget(db, BOT, RATE, clock=clock).lease(100, reply=True))[0] == 20
    assert (await SendBudget(db, BOT + 1, RATE, clock=clock).lease(100, reply=True))[0] == 20


async def test_the_outbox_leaves_a_reserve_for_replies(db: Database) -> None:
    clock = Clock()
    leader, other = SendBudget(db, BOT, RATE, clock=clock), SendBudget(db, BOT, RATE, clock=clock)
    assert (await leader.lease(100, reply=False))[0] == 16
    granted, wait = await leader.lease(100, reply=False)
    assert granted == 0 and wait == pytest.approx(1 / RATE)
    # A person's answer, on any instance, still goes out at once.
    assert (await other.lease(100, reply=True))[0] == 4


async def test_concurrent_leases_never_grant_more_than_the_bucket_holds(db: Database) -> None:
    # Ten instances lease at the same moment: the compare-and-swap makes the losers recount,
    # so together they get exactly the bucket, not ten times it.
    clock = Clock()
    budgets = [SendBudget(db, BOT, RATE, clock=clock) for _ in range(10)]
    await budgets[0].lease(0, reply=True)  # the row exists before the race
    results = await asyncio.gather(*(budget.lease(5, reply=True) for budget in budgets))
    assert sum(granted for granted, _ in results) == 20


async def test_take_waits_for_the_bucket_to_refill(db: Database) -> None:
    # Time moves 10 ms per reading: 60 messages from two instances at 20/s need the bucket's
    # 20 plus two more seconds of refill, whatever order the two take them in.
    clock = Clock(tick=0.01)
    started = clock.now
    first, second = (SendBudget(db, BOT, RATE, clock=clock) for _ in range(2))

    async def send(budget: SendBudget, count: int) -> None:
        for _ in range(count):
            await budget.take(reply=True)

    await asyncio.gather(send(first, 30), send(second, 30))
    assert clock.now - started >= (60 - 20) / RATE - 0.2  # leases round to whole tokens


class RecordingBudget:
    def __init__(self) -> None:
        self.taken: list[bool] = []
        self.window = RollingWindow(1000)

    async def take(self, *, reply: bool) -> None:
        self.taken.append(reply)


async def test_replies_spend_from_the_budget_and_other_calls_do_not() -> None:
    budget = RecordingBudget()
    limiter = BudgetRateLimiter(budget)  # type: ignore[arg-type]
    calls: list[str] = []

    async def call(name: str) -> dict[str, Any]:
        calls.append(name)
        return {"ok": True}

    for endpoint in ("sendMessage", "sendPhoto", "editMessageText", "answerCallbackQuery"):
        await limiter.process_request(call, (endpoint,), {}, endpoint, {}, None)
    await limiter.process_request(call, ("getMe",), {}, "getMe", {}, None)
    assert calls == ["sendMessage", "sendPhoto", "editMessageText", "answerCallbackQuery", "getMe"]
    assert budget.taken == [True, True, True]  # three messages, each a reply


def test_the_bucket_is_keyed_by_the_tokens_public_bot_id() -> None:
    assert bot_id_from_token("123456:ABC-secret") == 123456
    assert bot_id_from_token("not-a-token") == 0
