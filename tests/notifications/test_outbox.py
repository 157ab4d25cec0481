"""The outbox dispatcher against the Bot API stand-in: order, 429, 403, retries, crash recovery."""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from telegram import Bot
from telegram.error import TelegramError

from notifications.dispatcher import Dispatcher
from notifications.outbox import MAX_ATTEMPTS, Outbox, OutgoingMessage
from notifications.send_budget import SendBudget
from notifications.sender import BotApiSender
from services.clock import ManualClock, as_aware_utc
from standin import BotApiStandIn
from storage.db import Database
from storage.models import Citizen, OutboxMessage
from tests.e2e.conftest import TEST_TOKEN

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)

MakeDispatcher = Callable[..., Dispatcher]


@pytest.fixture
async def bot(standin: BotApiStandIn) -> AsyncIterator[Bot]:
    async with Bot(TEST_TOKEN, base_url=standin.base_url) as telegram_bot:
        yield telegram_bot


@pytest.fixture
async def make_dispatcher(db: Database, bot: Bot) -> AsyncIterator[MakeDispatcher]:
    """Dispatchers on the test database; their HTTP sessions are closed at the end."""
    made: list[Dispatcher] = []

    def make(clock: Any, send_rate: float = 100, **kwargs: Any) -> Dispatcher:
        dispatcher = Dispatcher(db, bot, clock, send_rate, **kwargs)
        made.append(dispatcher)
        return dispatcher

    yield make
    for dispatcher in made:
        await dispatcher.close()


def message(
    chat_id: int, text: str, priority: int = 10, citizen_id: int | None = None
) -> OutgoingMessage:
    return OutgoingMessage(chat_id, text, kind="test", priority=priority, citizen_id=citizen_id)


async def statuses(db: Database) -> dict[str | None, str]:
    async with db.transaction() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        return {row.text: row.status for row in rows}


async def row_by_text(db: Database, text: str) -> OutboxMessage:
    async with db.transaction() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.text == text))
    assert row is not None
    return row


async def drain(dispatcher: Dispatcher, rounds: int = 20) -> None:
    for _ in range(rounds):
        if await dispatcher.dispatch_once() == 0:
            return


async def sends_reach(standin: BotApiStandIn, count: int) -> None:
    """Until the stand-in has seen `count` sendMessage calls (each call wakes the check)."""
    await standin.wait_for(lambda _call: len(standin.calls_of("sendMessage")) >= count, 20)


async def add_citizen(db: Database, chat_id: int) -> int:
    async with db.transaction() as session:
        citizen = Citizen(
            telegram_id=chat_id, chat_id=chat_id, display_name=f"C{chat_id}",
            ni_hash=f"{chat_id:064d}", ni_masked="x", date_of_birth=date(1990, 1, 1),
            registered_at=NOW,
        )  # fmt: skip
        session.add(citizen)
    return citizen.id


async def test_sends_in_priority_order_and_records_sent(
    db: Database, make_dispatcher: MakeDispatcher, standin: BotApiStandIn
) -> None:
    clock = ManualClock(NOW)
    outbox = Outbox(db, clock)
    await outbox.enqueue(
        [message(1, "promo", 100), message(2, "reminder", 0), message(3, "alert", 10)]
    )
    await drain(make_dispatcher(clock))
    texts = [call.params["text"] for call in standin.calls_of("sendMessage")]
    assert texts == ["reminder", "alert", "promo"]
    assert set((await statuses(db)).values()) == {"sent"}
    async with db.transaction() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
    assert {row.attempts for row in rows} == {1}
    assert all(row.sent_at is not None for row in rows)


async def test_buttons_reach_the_chat(
    db: Database, make_dispatcher: MakeDispatcher, standin: BotApiStandIn
) -> None:
    clock = ManualClock(NOW)
    markup = {"inline_keyboard": [[{"text": "🔕 Stop offers", "callback_data": "off:stop"}]]}
    await Outbox(db, clock).enqueue(
        [OutgoingMessage(4, "offer", kind="promotion", priority=100, reply_markup=markup)]
    )
    await drain(make_dispatcher(clock))
    [sent] = standin.sent_to(4)
    assert sent.text == "offer"
    assert sent.reply_markup == markup


async def test_a_429_pauses_sending_and_loses_nothing(
    db: Database, make_dispatcher: MakeDispatcher, standin: BotApiStandIn
) -> None:
    clock = ManualClock(NOW)
    await Outbox(db, clock).enqueue([message(chat, f"m{chat}") for chat in range(1, 6)])
    standin.fail_next("sendMessage", error_code=429, retry_after=1)
    # Slow enough that the 429's answer is back long before the next send is due; at higher
    # rates sends already on the wire when it arrives can't be called back.
    dispatcher = make_dispatcher(clock, send_rate=5)
    await drain(dispatcher)
    sent = [call for call in standin.calls_of("sendMessage") if call.ok]
    assert sorted(call.params["text"] for call in sent) == [f"m{c}" for c in range(1, 6)]
    assert set((await statuses(db)).values()) == {"sent"}
    failed_at = next(c.timestamp for c in standin.calls_of("sendMessage") if not c.ok)
    # Nothing went out during the pause Telegram asked for.
    assert all(call.timestamp - failed_at >= 0.9 for call in sent)
    # The 429 cost no attempt: the message is not failing, Telegram only asked us to wait.
    assert (await row_by_text(db, "m1")).attempts == 1
    assert dispatcher.answered_429 == 1


async def test_several_429s_in_flight_pause_once_and_lose_nothing(
    db: Database, make_dispatcher: MakeDispatcher, standin: BotApiStandIn
) -> None:
    clock = ManualClock(NOW)
    await Outbox(db, clock).enqueue([message(chat, f"m{chat}") for chat in range(1, 41)])
    standin.fail_next("sendMessage", error_code=429, retry_after=1, count=5)
    await drain(make_dispatcher(clock, send_rate=1000))
    ok = [call for call in standin.calls_of("sendMessage") if call.ok]
    assert sorted(call.chat_id or 0 for call in ok) == list(range(1, 41))  # each exactly once
    assert set((await statuses(db)).values()) == {"sent"}


async def test_a_blocked_citizen_is_marked_unreachable_and_dropped(
    db: Database, make_dispatcher: MakeDispatcher, standin: BotApiStandIn
) -> None:
    clock = ManualClock(NOW)
    citizen_id = await add_citizen(db, 7)
    standin.block(7)
    outbox = Outbox(db, clock)
    await outbox.enqueue([message(7, "first", citizen_id=citizen_id), message(8, "other")])
    await outbox.enqueue([message(7, "second", citizen_id=citizen_id)])
    await drain(make_dispatcher(clock))
    assert await statuses(db) == {"first": "unreachable", "other": "sent", "second": "unreachable"}
    assert len([c for c in standin.calls_of("sendMessage") if c.params["chat_id"] == 7]) == 1
    async with db.transaction() as session:
        citizen = await session.get(Citizen, citizen_id)
    assert citizen is not None
    assert citizen.unreachable_at is not None
    assert "blocked" in ((await row_by_text(db, "first")).last_error or "")


async def test_chat_not_found_is_unreachable_and_never_retried(
    db: Database, make_dispatcher: MakeDispatcher, standin: BotApiStandIn
) -> None:
    clock = ManualClock(NOW)
    citizen_id = await add_citizen(db, 9)
    standin.fail_next("sendMessage", error_code=400, description="Bad Request: chat not found")
    await Outbox(db, clock).enqueue([message(9, "nobody home", citizen_id=citizen_id)])
    dispatcher = make_dispatcher(clock)
    await drain(dispatcher)
    clock.advance(seconds=3600)  # long past any backoff
    await drain(dispatcher)
    row = await row_by_text(db, "nobody home")
    assert row.status == "unreachable"
    assert (row.last_error or "").lower() == "chat not found"
    assert len(standin.calls_of("sendMessage")) == 1


async def test_other_bad_requests_fail_at_once_with_the_reason(
    db: Database, make_dispatcher: MakeDispatcher, standin: BotApiStandIn
) -> None:
    clock = ManualClock(NOW)
    standin.fail_next("sendMessage", error_code=400, description="Bad Request: message is too long")
    await Outbox(db, clock).enqueue([message(10, "long")])
    dispatcher = make_dispatcher(clock)
    await drain(dispatcher)
    clock.advance(seconds=3600)
    await drain(dispatcher)
    row = await row_by_text(db, "long")
    assert row.status == "failed"
    assert "too long" in (row.last_error or "")
    assert len(standin.calls_of("sendMessage")) == 1  # a bad request is not retried


async def test_network_errors_are_retried_with_backoff_then_fail(
    db: Database, make_dispatcher: MakeDispatcher, standin: BotApiStandIn
) -> None:
    clock = ManualClock(NOW)
    outbox = Outbox(db, clock)
    await outbox.enqueue([message(1, "flaky")])
    standin.fail_next("sendMessage", error_code=502, count=1)
    dispatcher = make_dispatcher(clock)
    await drain(dispatcher)
    flaky = await row_by_text(db, "flaky")
    assert flaky.status == "pending"  # waiting for its backoff
    assert as_aware_utc(flaky.next_attempt_at) == NOW + timedelta(seconds=2)
    assert flaky.last_error == "Bad Gateway"
    clock.advance(seconds=3)
    await drain(dispatcher)
    assert (await statuses(db))["flaky"] == "sent"

    await outbox.enqueue([message(2, "doomed")])
    standin.fail_next("sendMessage", error_code=500, count=MAX_ATTEMPTS)
    backoffs = []
    for _ in range(MAX_ATTEMPTS):
        clock.advance(seconds=600)
        await drain(dispatcher)
        row = await row_by_text(db, "doomed")
        backoffs.append((as_aware_utc(row.next_attempt_at) - clock()).total_seconds())
    doomed = await row_by_text(db, "doomed")
    assert doomed.status == "failed"
    assert doomed.attempts == MAX_ATTEMPTS
    assert doomed.last_error == "Internal Server Error"
    assert backoffs[:-1] == [2, 4, 8, 16]  # exponential; the last attempt gives up
    assert len([c for c in standin.calls_of("sendMessage") if c.chat_id == 2]) == MAX_ATTEMPTS


async def test_one_chat_gets_at_most_one_message_a_second(
    db: Database, make_dispatcher: MakeDispatcher, standin: BotApiStandIn
) -> None:
    clock = ManualClock(NOW)
    await Outbox(db, clock).enqueue(
        [message(5, "one"), message(5, "two"), message(6, "elsewhere"), message(5, "three")]
    )
    await drain(make_dispatcher(clock), rounds=50)
    calls = standin.calls_of("sendMessage")
    to_five = [c.timestamp for c in calls if c.params["chat_id"] == 5]
    assert len(to_five) == 3
    assert all(later - earlier >= 0.95 for earlier, later in itertools.pairwise(to_five))
    # The busy chat held nobody else up.
    assert [c.params["text"] for c in calls][:2] == ["one", "elsewhere"]


async def test_a_chat_a_reply_just_went_to_waits_and_holds_nobody_up(
    db: Database, make_dispatcher: MakeDispatcher, standin: BotApiStandIn
) -> None:
    clock = ManualClock(NOW)
    budget = SendBudget(db, 123456, 1000)
    await budget.chats.acquire(5)  # this instance just replied to chat 5
    await Outbox(db, clock).enqueue([message(5, "after the reply"), message(6, "elsewhere")])
    await drain(make_dispatcher(clock, budget=budget), rounds=50)
    calls = standin.calls_of("sendMessage")
    assert [c.params["text"] for c in calls] == ["elsewhere", "after the reply"]
    assert all(call.ok for call in calls)


async def test_sends_are_paced_at_the_send_rate(
    db: Database, make_dispatcher: MakeDispatcher, standin: BotApiStandIn
) -> None:
    clock = ManualClock(NOW)
    await Outbox(db, clock).enqueue([message(chat, f"m{chat}") for chat in range(1, 61)])
    await drain(make_dispatcher(clock, send_rate=40))
    stamps = sorted(c.timestamp for c in standin.calls_of("sendMessage"))
    assert len(stamps) == 60
    # No rolling second ever holds more than the rate (notifications.pacing.RollingWindow),
    # however the machine stalls, so the 41st send comes at least a second after the first.
    # (0.99 s: the stand-in records a call a moment after its limiter counted it.)
    busiest = max(sum(1 for s in stamps if t <= s < t + 0.99) for t in stamps)
    assert busiest <= 40
    assert stamps[-1] - stamps[0] >= 0.99


async def test_rows_in_flight_at_a_crash_become_uncertain_not_resent(
    db: Database, make_dispatcher: MakeDispatcher, standin: BotApiStandIn
) -> None:
    clock = ManualClock(NOW)
    await Outbox(db, clock).enqueue([message(1, "in flight"), message(2, "queued")])
    async with db.transaction() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.text == "in flight"))
        assert row is not None
        row.status = "sending"  # what a kill -9 between claim and record leaves behind
    dispatcher = make_dispatcher(clock)
    assert await dispatcher.recover() == 1
    await drain(dispatcher)
    assert await statuses(db) == {"in flight": "uncertain", "queued": "sent"}
    assert [c.params["text"] for c in standin.calls_of("sendMessage")] == ["queued"]
    assert (await row_by_text(db, "in flight")).last_error == "in flight when the service stopped"


async def test_run_loop_stops_on_request(
    db: Database, make_dispatcher: MakeDispatcher, standin: BotApiStandIn
) -> None:
    clock = ManualClock(NOW)
    stop = asyncio.Event()
    task = asyncio.create_task(make_dispatcher(clock).run(stop))
    await Outbox(db, clock).enqueue([message(1, "while running")])
    await standin.wait_for("sendMessage")
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert await statuses(db) == {"while running": "sent"}


async def test_a_clean_stop_hands_back_what_it_has_not_sent(
    db: Database, make_dispatcher: MakeDispatcher, standin: BotApiStandIn
) -> None:
    clock = ManualClock(NOW)
    await Outbox(db, clock).enqueue([message(chat, f"m{chat}") for chat in range(1, 31)])
    stop = asyncio.Event()
    task = asyncio.create_task(make_dispatcher(clock, send_rate=20).run(stop))
    await sends_reach(standin, 3)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    states = await statuses(db)
    delivered = {c.params["text"] for c in standin.calls_of("sendMessage") if c.ok}
    assert {text for text, status in states.items() if status == "sent"} == delivered
    assert set(states.values()) == {"sent", "pending"}  # nothing left `sending` to doubt
    # A restart sends the rest, and only the rest.
    await drain(make_dispatcher(clock, send_rate=1000))
    texts = [c.params["text"] for c in standin.calls_of("sendMessage")]
    assert sorted(texts) == sorted(f"m{chat}" for chat in range(1, 31))


async def test_a_reminder_overtakes_a_broadcast_in_progress(
    db: Database, make_dispatcher: MakeDispatcher, standin: BotApiStandIn
) -> None:
    clock = ManualClock(NOW)
    outbox = Outbox(db, clock)
    await outbox.enqueue([message(100 + i, f"promo {i}", 100) for i in range(60)])
    dispatcher = make_dispatcher(clock, send_rate=50)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    await sends_reach(standin, 5)
    await outbox.enqueue([message(1, "reminder", 0)])
    sent_before = len(standin.calls_of("sendMessage"))
    await standin.wait_for(lambda call: call.chat_id == 1 and call.ok, timeout=10)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    texts = [c.params["text"] for c in standin.calls_of("sendMessage")]
    # Only what the dispatcher already held (claimed, at most max_unsettled rows) went first.
    assert texts.index("reminder") - sent_before <= dispatcher.max_unsettled
    assert texts.index("reminder") < 59


async def test_progress_line_reports_sent_total_rate_and_eta(
    db: Database,
    make_dispatcher: MakeDispatcher,
    standin: BotApiStandIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = ManualClock(NOW)
    await Outbox(db, clock).enqueue([message(chat, f"m{chat}") for chat in range(1, 41)])
    stop = asyncio.Event()
    dispatcher = make_dispatcher(clock, send_rate=40, progress_every=0.2)
    with caplog.at_level(logging.INFO, logger="notifications.dispatcher"):
        task = asyncio.create_task(dispatcher.run(stop))
        await sends_reach(standin, 40)
        stop.set()
        await asyncio.wait_for(task, timeout=5)
    lines = [r.getMessage() for r in caplog.records if "outbox progress" in r.getMessage()]
    assert lines, "a progress line while the messages go out"
    pattern = re.compile(r"outbox progress: (\d+) / (\d+) sent \([\d.]+%\), ([\d.]+)/s, ETA \d+ s")
    parsed = [pattern.search(line) for line in lines]
    assert all(parsed), lines
    for match in parsed:
        assert match is not None
        sent, total, rate = int(match[1]), int(match[2]), float(match[3])
        assert 0 < sent <= total == 40
        assert rate > 0


# -- the aiohttp sender maps errors exactly as PTB does ------------------------------------------

FAILURES: list[dict[str, Any]] = [
    {"error_code": 429, "retry_after": 7},
    {"error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    {"error_code": 403, "description": "Forbidden: user is deactivated"},
    {"error_code": 400, "description": "Bad Request: chat not found"},
    {"error_code": 400, "description": "Bad Request: message text is empty"},
    {"error_code": 401},
    {"error_code": 409},
    {"error_code": 500},
    {"error_code": 502},
    {"error_code": 503},
    {"error_code": 400, "description": "Bad Request: group upgraded",
     "parameters": {"migrate_to_chat_id": -1001}},
]  # fmt: skip


@pytest.mark.parametrize("failure", FAILURES, ids=lambda f: f"{f['error_code']}")
async def test_the_sender_raises_what_ptb_raises(
    bot: Bot, standin: BotApiStandIn, failure: dict[str, Any]
) -> None:
    async def outcome(send: Any) -> tuple[type[TelegramError], str]:
        standin.fail_next("sendMessage", **failure)
        with pytest.raises(TelegramError) as raised:
            await send()
        return type(raised.value), str(raised.value)

    sender = BotApiSender.for_bot(bot)
    try:
        ptb = await outcome(lambda: bot.send_message(1, "hello"))
        ours = await outcome(lambda: sender.send_message(1, "hello", None))
    finally:
        await sender.close()
    assert ours == ptb


async def test_the_sender_reports_an_unreachable_api_as_a_network_error() -> None:
    from telegram.error import NetworkError

    sender = BotApiSender(f"http://127.0.0.1:9/bot{TEST_TOKEN}")  # nothing listens on port 9
    try:
        with pytest.raises(NetworkError):
            await sender.send_message(1, "hello", None)
    finally:
        await sender.close()


async def test_a_failed_write_is_retried_and_loses_nothing(
    db: Database,
    make_dispatcher: MakeDispatcher,
    standin: BotApiStandIn,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = ManualClock(NOW)
    await Outbox(db, clock).enqueue([message(chat, f"m{chat}") for chat in range(1, 11)])
    dispatcher = make_dispatcher(clock, send_rate=50)
    write = dispatcher._write
    failures = [RuntimeError("database went away for a moment")]

    async def flaky_write(outcomes: Any) -> None:
        if failures:
            raise failures.pop()
        await write(outcomes)

    monkeypatch.setattr(dispatcher, "_write", flaky_write)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    await sends_reach(standin, 10)
    for _ in range(100):
        if set((await statuses(db)).values()) == {"sent"}:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert set((await statuses(db)).values()) == {"sent"}
    assert len(standin.calls_of("sendMessage")) == 10  # written late, never sent twice
    assert any("outbox dispatch failed" in r.getMessage() for r in caplog.records)


async def test_a_promotion_for_someone_who_opted_out_is_cancelled_not_sent(
    db: Database, make_dispatcher: MakeDispatcher, standin: BotApiStandIn
) -> None:
    """The race opting out can't close alone: a fan-out committing just after the opt-out
    queued a row for them. The claim drops it; their other messages still go."""
    from services.promotion_messages import PROMOTION_KIND, PROMOTION_PRIORITY

    opted_out = await add_citizen(db, 901)
    opted_in = await add_citizen(db, 902)
    async with db.transaction() as session:
        (await session.get_one(Citizen, opted_in)).marketing_opt_in = True
    await Outbox(db, ManualClock(NOW)).enqueue(
        [
            OutgoingMessage(901, "offer for 901", PROMOTION_KIND, PROMOTION_PRIORITY, opted_out),
            OutgoingMessage(902, "offer for 902", PROMOTION_KIND, PROMOTION_PRIORITY, opted_in),
            OutgoingMessage(901, "reminder for 901", "loan_reminder", 0, opted_out),
        ]
    )
    await drain(make_dispatcher(ManualClock(NOW)))
    assert await statuses(db) == {
        "offer for 901": "cancelled",
        "offer for 902": "sent",
        "reminder for 901": "sent",
    }
    assert [m.text for m in standin.sent_to(901)] == ["reminder for 901"]
    assert (await row_by_text(db, "offer for 901")).last_error == "opted out"
