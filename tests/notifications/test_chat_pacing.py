"""Telegram's limit per chat: replies wait for their chat's room and retry a 429; the outbox
leaves a chat's burst to the replies. Nothing here waits on the wall clock: a limiter that
must wait is seen not to have finished, and retry waits go to a recording sleep."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from telegram.error import RetryAfter

from notifications import pacing
from notifications.pacing import CHAT_BURST, ChatLimits, RollingWindow
from notifications.send_budget import MAX_RETRIES, BudgetRateLimiter


class RecordingBudget:
    def __init__(self) -> None:
        self.taken = 0
        self.chats = ChatLimits()
        self.window = RollingWindow(1000)

    async def acquire(self, *, reply: bool) -> pacing.SendSlot:
        self.taken += 1
        return await self.window.acquire()


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


async def still_waiting(task: asyncio.Task[Any]) -> bool:
    for _ in range(5):
        await asyncio.sleep(0)
    return not task.done()


async def test_a_chat_takes_a_short_burst_then_waits() -> None:
    limits = ChatLimits()
    for _ in range(CHAT_BURST):
        await asyncio.wait_for(limits.acquire(7), timeout=1)  # the burst: no waiting
    await limits.acquire(8)  # another chat has room of its own
    fourth = asyncio.create_task(limits.acquire(7))
    assert await still_waiting(fourth), "past the burst a message waits for its second"
    fourth.cancel()


def test_a_group_gets_a_message_every_three_seconds_a_person_every_second() -> None:
    limits = ChatLimits()
    assert limits.interval(101) == 1.0
    assert limits.interval(-100123) == 3.0  # twenty a minute
    assert limits.interval("@channel") == 3.0


async def test_an_interval_of_0_paces_nothing() -> None:
    limits = ChatLimits(interval=0)
    for _ in range(10 * CHAT_BURST):
        await asyncio.wait_for(limits.acquire(7), timeout=1)
        assert await limits.take_if_quiet(7)
    assert limits.is_quiet(7) and limits.interval(-1) == 0 and len(limits) == 0


async def test_the_outbox_only_takes_a_quiet_chat() -> None:
    limits = ChatLimits()
    assert await limits.take_if_quiet(5)
    assert not await limits.take_if_quiet(5), "a second message waits for the first's second"
    await limits.acquire(6)  # a reply went to 6 just now
    assert not limits.is_quiet(6) and not await limits.take_if_quiet(6)
    assert limits.is_quiet(9)


async def test_idle_chats_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pacing, "FORGET_ABOVE", 3)
    limits = ChatLimits()
    await limits.acquire(1)  # busy
    limits.limiter(2)  # looked at, nothing sent
    limits.limiter(3)
    await limits.acquire(4)  # the fourth chat sweeps the idle ones away
    assert len(limits) == 2 and not limits.is_quiet(1) and not limits.is_quiet(4)


def flaky(fail: int, retry_after: int = 2) -> tuple[list[dict[str, Any]], Any]:
    """A Bot API call that answers 429 `fail` times, then succeeds."""
    calls: list[dict[str, Any]] = []

    async def call(data: dict[str, Any]) -> dict[str, Any]:
        calls.append(data)
        if len(calls) <= fail:
            raise RetryAfter(retry_after)
        return {"ok": True}

    return calls, call


async def test_a_reply_answered_429_is_sent_again_after_retry_after() -> None:
    budget, sleeps = RecordingBudget(), Sleeps()
    limiter = BudgetRateLimiter(budget, sleep=sleeps)  # type: ignore[arg-type]
    calls, call = flaky(fail=2)
    data = {"chat_id": 5, "text": "You're registered"}
    assert await limiter.process_request(call, (data,), {}, "sendMessage", data, None) == {
        "ok": True
    }
    assert len(calls) == 3 and sleeps == [2.0, 2.0]
    assert limiter.retried_429 == 2
    assert budget.taken == 3  # every try is a request Telegram counts
    assert limiter.in_hand == 0


async def test_a_reply_gives_up_after_a_few_429s() -> None:
    budget, sleeps = RecordingBudget(), Sleeps()
    limiter = BudgetRateLimiter(budget, sleep=sleeps)  # type: ignore[arg-type]
    calls, call = flaky(fail=100, retry_after=1)
    data = {"chat_id": 5, "text": "hello"}
    with pytest.raises(RetryAfter):
        await limiter.process_request(call, (data,), {}, "sendMessage", data, None)
    assert len(calls) == MAX_RETRIES + 1 and sleeps == [1.0] * MAX_RETRIES
    assert limiter.in_hand == 0


async def test_a_long_flood_wait_is_not_sat_out_in_a_handler() -> None:
    budget, sleeps = RecordingBudget(), Sleeps()
    limiter = BudgetRateLimiter(budget, sleep=sleeps)  # type: ignore[arg-type]
    calls, call = flaky(fail=1, retry_after=600)
    data = {"chat_id": 5, "text": "hello"}
    with pytest.raises(RetryAfter):
        await limiter.process_request(call, (data,), {}, "sendMessage", data, None)
    assert len(calls) == 1 and sleeps == []


async def test_only_new_messages_take_their_chats_room() -> None:
    budget = RecordingBudget()
    limiter = BudgetRateLimiter(budget)  # type: ignore[arg-type]
    _, call = flaky(fail=0)
    for endpoint, chat in [
        ("editMessageText", 1),
        ("sendChatAction", 2),
        ("answerCallbackQuery", 3),
        ("sendPhoto", 4),
    ]:
        data = {"chat_id": chat}
        await limiter.process_request(call, (data,), {}, endpoint, data, None)
    assert [budget.chats.is_quiet(chat) for chat in (1, 2, 3, 4)] == [True, True, True, False]
    assert budget.taken == 3  # the edit, the chat action and the photo spend the budget
