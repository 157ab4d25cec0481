"""The outbox dispatcher against the Bot API stand-in: order, 429, 403, retries, crash recovery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from telegram import Bot

from notifications.outbox import MAX_ATTEMPTS, Dispatcher, Outbox, OutgoingMessage
from services.clock import ManualClock
from standin import BotApiStandIn
from storage.db import Database
from storage.models import Citizen, OutboxMessage
from tests.e2e.conftest import TEST_TOKEN

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@pytest.fixture
async def bot(standin: BotApiStandIn) -> AsyncIterator[Bot]:
    async with Bot(TEST_TOKEN, base_url=standin.base_url) as telegram_bot:
        yield telegram_bot


def message(
    chat_id: int, text: str, priority: int = 10, citizen_id: int | None = None
) -> OutgoingMessage:
    return OutgoingMessage(chat_id, text, kind="test", priority=priority, citizen_id=citizen_id)


async def statuses(db: Database) -> dict[str, str]:
    async with db.transaction() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        return {row.text: row.status for row in rows}


async def drain(dispatcher: Dispatcher, rounds: int = 20) -> None:
    for _ in range(rounds):
        if await dispatcher.dispatch_once() == 0:
            return


async def test_sends_in_priority_order_and_records_sent(
    db: Database, bot: Bot, standin: BotApiStandIn
) -> None:
    clock = ManualClock(NOW)
    outbox = Outbox(db, clock)
    await outbox.enqueue(
        [message(1, "promo", 100), message(2, "reminder", 0), message(3, "alert", 10)]
    )
    await drain(Dispatcher(db, bot, clock, send_rate=100))
    texts = [call.params["text"] for call in standin.calls_of("sendMessage")]
    assert texts == ["reminder", "alert", "promo"]
    assert set((await statuses(db)).values()) == {"sent"}


async def test_a_429_pauses_sending_and_loses_nothing(
    db: Database, bot: Bot, standin: BotApiStandIn
) -> None:
    clock = ManualClock(NOW)
    await Outbox(db, clock).enqueue([message(chat, f"m{chat}") for chat in range(1, 6)])
    standin.fail_next("sendMessage", error_code=429, retry_after=1)
    dispatcher = Dispatcher(db, bot, clock, send_rate=100)
    await drain(dispatcher)
    sent = [call for call in standin.calls_of("sendMessage") if call.ok]
    assert sorted(call.params["text"] for call in sent) == [f"m{c}" for c in range(1, 6)]
    assert set((await statuses(db)).values()) == {"sent"}
    failed_at = next(c.timestamp for c in standin.calls_of("sendMessage") if not c.ok)
    # Nothing went out during the pause Telegram asked for.
    assert all(call.timestamp - failed_at >= 0.9 for call in sent)


async def test_a_blocked_citizen_is_marked_unreachable_and_dropped(
    db: Database, bot: Bot, standin: BotApiStandIn
) -> None:
    clock = ManualClock(NOW)
    async with db.transaction() as session:
        citizen = Citizen(
            telegram_id=7, chat_id=7, display_name="Blocker", ni_hash="b" * 64,
            ni_masked="x", date_of_birth=date(1990, 1, 1), registered_at=NOW,
        )  # fmt: skip
        session.add(citizen)
    standin.block(7)
    outbox = Outbox(db, clock)
    await outbox.enqueue([message(7, "first", citizen_id=citizen.id), message(8, "other")])
    await outbox.enqueue([message(7, "second", citizen_id=citizen.id)])
    await drain(Dispatcher(db, bot, clock, send_rate=100))
    assert await statuses(db) == {"first": "unreachable", "other": "sent", "second": "unreachable"}
    assert len([c for c in standin.calls_of("sendMessage") if c.params["chat_id"] == 7]) == 1
    async with db.transaction() as session:
        assert (await session.get(Citizen, citizen.id)).unreachable_at is not None  # type: ignore[union-attr]


async def test_network_errors_are_retried_with_backoff_then_fail(
    db: Database, bot: Bot, standin: BotApiStandIn
) -> None:
    clock = ManualClock(NOW)
    outbox = Outbox(db, clock)
    await outbox.enqueue([message(1, "flaky")])
    standin.fail_next("sendMessage", error_code=502, count=1)
    dispatcher = Dispatcher(db, bot, clock, send_rate=100)
    await drain(dispatcher)
    assert (await statuses(db))["flaky"] == "pending"  # waiting for its backoff
    clock.advance(seconds=3)
    await drain(dispatcher)
    assert (await statuses(db))["flaky"] == "sent"

    await outbox.enqueue([message(2, "doomed")])
    standin.fail_next("sendMessage", error_code=502, count=MAX_ATTEMPTS)
    for _ in range(MAX_ATTEMPTS):
        clock.advance(seconds=600)
        await drain(dispatcher)
    async with db.transaction() as session:
        doomed = await session.scalar(select(OutboxMessage).where(OutboxMessage.text == "doomed"))
    assert doomed is not None
    assert doomed.status == "failed"
    assert doomed.attempts == MAX_ATTEMPTS
    assert doomed.last_error


async def test_one_chat_gets_at_most_one_message_a_second(
    db: Database, bot: Bot, standin: BotApiStandIn
) -> None:
    clock = ManualClock(NOW)
    await Outbox(db, clock).enqueue([message(5, "one"), message(5, "two"), message(6, "elsewhere")])
    await drain(Dispatcher(db, bot, clock, send_rate=100), rounds=50)
    to_five = [c.timestamp for c in standin.calls_of("sendMessage") if c.params["chat_id"] == 5]
    assert len(to_five) == 2
    assert to_five[1] - to_five[0] >= 0.95


async def test_rows_in_flight_at_a_crash_become_uncertain_not_resent(
    db: Database, bot: Bot, standin: BotApiStandIn
) -> None:
    clock = ManualClock(NOW)
    await Outbox(db, clock).enqueue([message(1, "in flight"), message(2, "queued")])
    async with db.transaction() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.text == "in flight"))
        assert row is not None
        row.status = "sending"  # what a kill -9 between claim and record leaves behind
    dispatcher = Dispatcher(db, bot, clock, send_rate=100)
    assert await dispatcher.recover() == 1
    await drain(dispatcher)
    assert await statuses(db) == {"in flight": "uncertain", "queued": "sent"}
    assert [c.params["text"] for c in standin.calls_of("sendMessage")] == ["queued"]


async def test_run_loop_stops_on_request(db: Database, bot: Bot, standin: BotApiStandIn) -> None:
    clock = ManualClock(NOW)
    stop = asyncio.Event()
    task = asyncio.create_task(Dispatcher(db, bot, clock, send_rate=100).run(stop))
    await Outbox(db, clock).enqueue([message(1, "while running")])
    await standin.wait_for("sendMessage")
    stop.set()
    await asyncio.wait_for(task, timeout=5)
