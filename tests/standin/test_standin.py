"""The Bot API stand-in, driven by a real python-telegram-bot Application and by raw HTTP.

No test asserts on elapsed time: waits are event-driven and rate limits use rates so low that
the outcome does not depend on how fast the machine is.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import os
import signal
import sys
from collections.abc import AsyncIterator
from hashlib import sha256
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.request import HTTPXRequest

from standin import BotApiStandIn, ChatEvent
from tests.standin.driver import Citizen
from tests.standin.echo_bot import CHART_PNG, REPORT_CSV, TOKEN, EchoBot, WebhookReceiver

REPO_ROOT = Path(__file__).resolve().parents[2]


class RawClient:
    """Plain HTTP access to the stand-in, for what PTB never does (or does too politely)."""

    def __init__(self, standin: BotApiStandIn, session: aiohttp.ClientSession) -> None:
        self.standin = standin
        self.session = session

    async def call(self, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
        url = f"{self.standin.base_url}{TOKEN}/{method}"
        async with self.session.post(url, json=params) as response:
            return response.status, await response.json()


@pytest.fixture
async def raw(standin: BotApiStandIn) -> AsyncIterator[RawClient]:
    async with aiohttp.ClientSession() as session:
        yield RawClient(standin, session)


# ---------------------------------------------------------------------------------------------
# Round trips with a real PTB application
# ---------------------------------------------------------------------------------------------


async def test_command_round_trip_over_polling(
    standin: BotApiStandIn, polling_bot: EchoBot
) -> None:
    alice = Citizen(standin, 101, "Alice")
    await alice.send("/echo hello world")
    reply = await alice.expect("hello world")

    assert reply.from_bot and reply.message_id == 2  # the user's command was #1 in this chat
    call = await standin.wait_for("sendMessage")
    assert call.params["chat_id"] == 101  # decoded from the form body to an int
    assert call.params["text"] == "hello world"
    assert call.result["from"]["username"] == "BritizenTestBot"
    assert call.result["chat"] == {"id": 101, "type": "private", "first_name": "Alice"}
    assert [m.text for m in standin.sent_to(101)] == ["hello world"]
    update = polling_bot.updates[0]
    assert update.message is not None and update.message.text == "/echo hello world"
    assert update.message.from_user is not None and update.message.from_user.first_name == "Alice"


async def test_getme_and_commands(standin: BotApiStandIn, polling_bot: EchoBot) -> None:
    bot = polling_bot.app.bot
    assert bot.username == "BritizenTestBot"
    assert bot.id == 123456  # taken from the token, as with real Telegram
    await bot.set_my_commands([BotCommand("start", "Begin"), BotCommand("score", "Your score")])
    await bot.set_my_commands([BotCommand("help", "Help")], scope=BotCommandScopeAllPrivateChats())
    assert [c.command for c in await bot.get_my_commands()] == ["start", "score"]
    assert standin.commands({"type": "all_private_chats"}) == [
        {"command": "help", "description": "Help"}
    ]
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start", "uppercase is refused")])
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()


async def test_button_press_with_edit(standin: BotApiStandIn, polling_bot: EchoBot) -> None:
    alice = Citizen(standin, 101, "Alice")
    await alice.send("/start")
    welcome = await alice.expect("welcome", "agree")
    assert welcome.text == "Welcome! Do you agree?"  # HTML parsed away, as users see it
    assert welcome.entities == [{"type": "bold", "offset": 0, "length": 8}]
    assert alice.buttons() == ["Yes", "No", "Docs"]

    await alice.press("Yes")
    thanks = await alice.expect("thanks")
    assert thanks.message_id == welcome.message_id and thanks.is_edit
    assert alice.buttons() == []  # editMessageText without reply_markup drops the keyboard
    answer = await standin.wait_for("answerCallbackQuery")
    assert answer.params["text"] == "noted"
    assert standin.callback_answers[answer.params["callback_query_id"]] == {"text": "noted"}
    await alice.expect_nothing()


async def test_button_press_answered_with_new_message(
    standin: BotApiStandIn, polling_bot: EchoBot
) -> None:
    alice = Citizen(standin, 101, "Alice")
    await alice.send("/start")
    await alice.expect("agree")
    await alice.press("no")  # case-insensitive match
    # The bot first strips the buttons (a markup-only edit, not something it "said"),
    # then sends a new message: expect() lands on the latter.
    sad = await alice.expect("sad to hear")
    assert not sad.is_edit
    assert alice.buttons(standin.sent_to(101)[0]) == []
    assert [e.kind for e in standin.events(101)] == [
        "message",
        "message",
        "callback",
        "callback_answer",
        "edit",
        "message",
    ]


async def test_photo_upload_bytes_captured(standin: BotApiStandIn, polling_bot: EchoBot) -> None:
    alice = Citizen(standin, 101, "Alice")
    await alice.send("/chart")
    photo = await alice.expect_photo("your chart")
    assert photo.photo == CHART_PNG
    assert photo.mime_type == "image/png"
    sizes = photo.to_dict()["photo"]
    assert (sizes[-1]["width"], sizes[-1]["height"]) == (40, 30)
    assert sizes[-1]["file_id"] == photo.file_id
    assert photo.file_id is not None
    data, mime, _filename = standin.files[photo.file_id]
    assert data == CHART_PNG and mime == "image/png"
    call = await standin.wait_for("sendPhoto")
    assert standin.files[call.params["photo"]].data == CHART_PNG


async def test_file_download_through_getfile(standin: BotApiStandIn, polling_bot: EchoBot) -> None:
    alice = Citizen(standin, 101, "Alice")
    await alice.send("/roundtrip")
    await alice.expect_photo()
    await alice.expect(f"downloaded {len(CHART_PNG)} bytes sha256={sha256(CHART_PNG).hexdigest()}")
    assert (await standin.wait_for("getFile")).ok


async def test_document_upload(standin: BotApiStandIn, polling_bot: EchoBot) -> None:
    alice = Citizen(standin, 101, "Alice")
    await alice.send("/report")
    document = await alice.expect_document("monthly", filename="report.csv")
    assert document.document == REPORT_CSV
    assert document.mime_type == "text/csv"
    assert document.to_dict()["document"]["file_name"] == "report.csv"


async def test_retry_after_injection(
    standin: BotApiStandIn, polling_bot: EchoBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB 22's forward-compatible RetryAfter
    standin.add_user(101, "Alice")
    standin.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await polling_bot.app.bot.send_message(101, "first try")
    assert caught.value.retry_after == dtm.timedelta(seconds=7)
    await polling_bot.app.bot.send_message(101, "second try")  # only one failure was queued
    assert standin.rejected_429 == 1
    assert [m.text for m in standin.sent_to(101)] == ["second try"]
    failed = standin.calls_of("sendMessage")[0]
    assert (failed.ok, failed.error_code) == (False, 429)


async def test_fail_next_other_codes(standin: BotApiStandIn, polling_bot: EchoBot) -> None:
    bot = polling_bot.app.bot
    standin.fail_next("*", 400, description="Bad Request: chat not found")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(101, "x")
    standin.fail_next("sendMessage", 403, count=2)
    for _ in range(2):
        with pytest.raises(Forbidden):
            await bot.send_message(101, "x")
    await bot.send_message(101, "x")


async def test_blocked_user_gets_403(standin: BotApiStandIn, polling_bot: EchoBot) -> None:
    alice = Citizen(standin, 101, "Alice")
    await alice.send("/echo hi")
    first = await alice.expect("hi")
    standin.block(101, notify=True)
    bot = polling_bot.app.bot
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(101, "are you there?")
    with pytest.raises(Forbidden):
        await bot.edit_message_text("edited", chat_id=101, message_id=first.message_id)
    # The my_chat_member update Telegram sends on blocking reached the bot.
    await standin.wait_idle()
    kinds = [
        u.my_chat_member.new_chat_member.status for u in polling_bot.updates if u.my_chat_member
    ]
    assert kinds == ["kicked"]
    standin.unblock(101)
    await bot.send_message(101, "welcome back")


async def test_strict_chats(standin: BotApiStandIn, polling_bot: EchoBot) -> None:
    standin.strict_chats = True
    bot = polling_bot.app.bot
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(555, "hello stranger")
    alice = Citizen(standin, 555, "Alice")  # registering a user is like a first contact
    await bot.send_message(555, "hello Alice")
    await alice.expect("hello alice")


async def test_global_rate_limit_counts_rejections(
    standin: BotApiStandIn, polling_bot: EchoBot
) -> None:
    # One token, refilled once per 1000 s: exactly one send gets through, whatever the speed.
    standin.rate_limit_per_second = 0.001
    bot = polling_bot.app.bot
    results = await asyncio.gather(
        *(bot.send_message(100 + i, f"msg {i}") for i in range(6)), return_exceptions=True
    )
    rejected = [r for r in results if isinstance(r, RetryAfter)]
    assert len(rejected) == 5
    assert standin.rejected_429 == 5
    assert standin.stats()["rejected_429"] == 5
    assert standin.stats()["messages_total"] == 1
    call = next(c for c in standin.calls if c.error_code == 429)
    assert call.description is not None and call.description.startswith("Too Many Requests")


async def test_per_chat_rate_limit(standin: BotApiStandIn, polling_bot: EchoBot) -> None:
    standin.per_chat_rate_per_second = 0.001
    bot = polling_bot.app.bot
    await bot.send_message(1, "one")
    await bot.send_message(2, "two")  # another chat has its own budget
    with pytest.raises(RetryAfter):
        await bot.send_message(1, "one again")
    assert standin.rejected_429 == 1


async def test_one_message_a_second_per_chat_answers_429_retry_after_1(
    standin: BotApiStandIn, polling_bot: EchoBot
) -> None:
    standin.per_chat_rate_per_second = 1
    bot = polling_bot.app.bot
    await bot.send_message(1, "one")
    with pytest.raises(RetryAfter):
        await bot.send_message(1, "two")  # within the second: Telegram says wait one
    assert standin.calls_of("sendMessage")[-1].description == "Too Many Requests: retry after 1"
    await bot.edit_message_text("one, edited", chat_id=1, message_id=1)  # edits aren't counted
    assert [c.ok for c in standin.calls_of("sendMessage")] == [True, False]


async def test_keyboards_contact_users_shared(standin: BotApiStandIn, polling_bot: EchoBot) -> None:
    alice = Citizen(standin, 101, "Alice")
    Citizen(standin, 5, "Bob", username="bob")
    await alice.send("/keyboard")
    await alice.expect("choose")
    assert alice.keyboard() == ["Share phone", "Pick friends", "Plain"]
    assert alice.buttons() == []  # reply keyboards are not inline buttons
    await alice.press("Share phone")
    await alice.expect("got phone +447700900123")
    await alice.press("Pick friends", users=[5, 6])
    await alice.expect("got users 5,6 for request 7")
    await alice.press("Plain")
    await alice.expect("you said: plain")
    shared = next(u for u in polling_bot.updates if u.message and u.message.users_shared)
    assert shared.message is not None and shared.message.users_shared is not None
    assert shared.message.users_shared.users[0].username == "bob"


async def test_invoice_and_payment(standin: BotApiStandIn, polling_bot: EchoBot) -> None:
    alice = Citizen(standin, 101, "Alice")
    await alice.send("/buy")
    invoice = await alice.expect("boost")
    assert invoice.kind == "invoice"
    assert invoice.to_dict()["invoice"]["total_amount"] == 5
    assert await alice.pay()
    await alice.expect("paid 5 xtr")
    answers = list(standin.pre_checkout_answers.values())
    assert answers == [{"ok": True, "error_message": None}]
    mark = standin.mark()
    standin.pre_checkout_query(101, "unknown", 5)
    await standin.wait_for("answerPreCheckoutQuery", since=mark)
    assert list(standin.pre_checkout_answers.values())[-1] == {
        "ok": False,
        "error_message": "Unknown item",
    }


async def test_edit_errors_like_telegram(standin: BotApiStandIn, polling_bot: EchoBot) -> None:
    bot = polling_bot.app.bot
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    sent = await bot.send_message(101, "text", reply_markup=markup)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "text", chat_id=101, message_id=sent.message_id, reply_markup=markup
        )
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("new", chat_id=101, message_id=999)
    await bot.edit_message_reply_markup(101, sent.message_id, reply_markup=None)
    current = standin.message(101, sent.message_id)
    assert current is not None and current.inline_buttons == [] and current.version == 1
    assert await bot.delete_message(101, sent.message_id)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(101, sent.message_id)
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x" * 65)]])
        await bot.send_message(101, "too long callback data", reply_markup=too_long)
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message(101, "1 < 2", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(101, "   ")


async def test_callback_query_answered_twice(standin: BotApiStandIn, polling_bot: EchoBot) -> None:
    alice = Citizen(standin, 101, "Alice")
    await alice.send("/start")
    await alice.expect("agree")
    await alice.press("Yes")
    await alice.expect("thanks")
    query_id = next(iter(standin.callback_answers))
    with pytest.raises(BadRequest, match="Query is too old"):
        await polling_bot.app.bot.answer_callback_query(query_id)


async def test_unknown_method_and_bad_token(standin: BotApiStandIn, raw: RawClient) -> None:
    status, body = await raw.call("sendTelepathy", chat_id=1)
    assert status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
    assert standin.unknown_methods == {"sendTelepathy": 1}
    assert standin.calls[-1].method == "sendTelepathy" and not standin.calls[-1].ok
    standin.token = "999:OTHER"
    status, body = await raw.call("getMe")
    assert (status, body["description"]) == (401, "Unauthorized")


async def test_invalid_token_surfaces_in_ptb(standin: BotApiStandIn) -> None:
    standin.token = "999:OTHER"
    requests = (HTTPXRequest(), HTTPXRequest())
    bot = Bot(
        TOKEN, base_url=standin.base_url, request=requests[0], get_updates_request=requests[1]
    )
    try:
        with pytest.raises(InvalidToken):
            await bot.initialize()
    finally:
        # A bot whose initialize() failed counts as not initialized, so Bot.shutdown() would
        # skip closing the HTTP clients; close them directly.
        for request in requests:
            await request.shutdown()


async def test_json_and_query_params_decoded(standin: BotApiStandIn, raw: RawClient) -> None:
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    status, body = await raw.call("sendMessage", chat_id="42", text="123", reply_markup=markup)
    assert status == 200 and body["result"]["text"] == "123"
    call = standin.calls[-1]
    assert call.params == {"chat_id": 42, "text": "123", "reply_markup": markup}
    url = f"{standin.base_url}{TOKEN}/sendMessage?chat_id=42&text=true&disable_notification=true"
    async with raw.session.get(url) as response:
        assert response.status == 200
    params = standin.calls[-1].params
    assert params == {"chat_id": 42, "text": "true", "disable_notification": True}


# ---------------------------------------------------------------------------------------------
# getUpdates semantics
# ---------------------------------------------------------------------------------------------


async def test_get_updates_long_poll_offset_and_limit(
    standin: BotApiStandIn, raw: RawClient
) -> None:
    poll = asyncio.create_task(raw.call("getUpdates", timeout=30))
    await standin.wait_until_polling()
    assert standin.is_polling
    first_id = standin.user_message(1, "hello")["update_id"]
    status, body = await poll  # woken by the push, long before the 30 s timeout
    assert status == 200 and [u["update_id"] for u in body["result"]] == [first_id]
    assert body["result"][0]["message"]["text"] == "hello"

    # Not confirmed yet: the same update comes again.
    _, body = await raw.call("getUpdates", timeout=0)
    assert [u["update_id"] for u in body["result"]] == [first_id]
    # Confirm with offset, then page through with limit.
    ids = [standin.user_message(1, f"m{i}")["update_id"] for i in range(3)]
    _, body = await raw.call("getUpdates", offset=first_id + 1, limit=2)
    assert [u["update_id"] for u in body["result"]] == ids[:2]
    _, body = await raw.call("getUpdates", offset=ids[1] + 1)
    assert [u["update_id"] for u in body["result"]] == ids[2:]
    _, body = await raw.call("getUpdates", offset=ids[2] + 1)
    assert body["result"] == [] and standin.pending_updates == 0


async def test_stop_releases_a_pending_long_poll() -> None:
    server = BotApiStandIn()
    await server.start()
    async with aiohttp.ClientSession() as session:
        poll = asyncio.create_task(
            session.post(f"{server.base_url}{TOKEN}/getUpdates", json={"timeout": 60})
        )
        await server.wait_until_polling()
        await server.stop()
        # Answered, not cut off: aiohttp would drop the connection after its shutdown timeout.
        async with await poll as response:
            assert response.status == 200
            assert await response.json() == {"ok": True, "result": []}


async def test_get_updates_allowed_updates(standin: BotApiStandIn, raw: RawClient) -> None:
    _, body = await raw.call("getUpdates", allowed_updates=["callback_query"])
    standin.user_message(1, "filtered out")
    assert standin.dropped_updates == 1 and standin.pending_updates == 0
    await raw.call("getUpdates", allowed_updates=[])  # back to Telegram's default set
    standin.user_message(1, "delivered")
    _, body = await raw.call("getUpdates")
    assert [u["message"]["text"] for u in body["result"]] == ["delivered"]


async def test_concurrent_get_updates_conflict(standin: BotApiStandIn, raw: RawClient) -> None:
    first = asyncio.create_task(raw.call("getUpdates", timeout=30))
    await standin.wait_until_polling()
    second = asyncio.create_task(raw.call("getUpdates", timeout=30))
    # The newer poll terminates the older one, as on Telegram.
    status, body = await first
    assert status == 409 and "terminated by other getUpdates request" in body["description"]
    standin.user_message(1, "release the survivor")
    status, body = await second
    assert status == 200 and body["result"][0]["message"]["text"] == "release the survivor"


async def test_polling_survives_injected_errors(
    standin: BotApiStandIn, polling_bot: EchoBot
) -> None:
    standin.fail_next("getUpdates", 502)
    # Wake the current long poll so the next getUpdates meets the injected failure.
    alice = Citizen(standin, 101, "Alice")
    await alice.send("/echo first")
    await alice.expect("first")
    failed = await standin.wait_for(lambda c: c.method == "getUpdates" and not c.ok)
    assert failed.error_code == 502
    await alice.send("/echo still alive")  # PTB logged the error and kept polling
    await alice.expect("still alive")


# ---------------------------------------------------------------------------------------------
# Webhook mode
# ---------------------------------------------------------------------------------------------


async def test_webhook_round_trip(
    standin: BotApiStandIn, webhook_bot: tuple[EchoBot, WebhookReceiver]
) -> None:
    bot, receiver = webhook_bot
    assert standin.webhook_url == receiver.url
    alice = Citizen(standin, 101, "Alice")
    await alice.send("/echo via webhook")
    await alice.expect("via webhook")
    await alice.send("/start")
    await alice.expect("agree")
    await alice.press("Yes")
    await alice.expect("thanks")
    assert receiver.bad_secrets == 0 and receiver.hits == 3

    info = await bot.app.bot.get_webhook_info()
    assert info.url == receiver.url and info.pending_update_count == 0
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.app.bot.get_updates()


async def test_webhook_retries_failed_delivery(
    standin: BotApiStandIn, webhook_bot: tuple[EchoBot, WebhookReceiver]
) -> None:
    bot, receiver = webhook_bot
    receiver.fail_first = 2
    alice = Citizen(standin, 101, "Alice")
    await alice.send("/echo eventually")
    await alice.expect("eventually")
    assert receiver.hits == 3
    info = await bot.app.bot.get_webhook_info()
    assert info.last_error_message is not None and "500" in info.last_error_message


async def test_webhook_gives_up_after_retries(raw: RawClient) -> None:
    standin = raw.standin
    standin.webhook_retry_delays = (0.0, 0.0)
    hits = 0

    async def always_failing(request: aiohttp.web.Request) -> aiohttp.web.Response:
        nonlocal hits
        hits += 1
        return aiohttp.web.Response(status=502)

    app = aiohttp.web.Application()
    app.router.add_post("/hook", always_failing)
    runner = aiohttp.web.AppRunner(app)
    await runner.setup()
    site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        status, _ = await raw.call("setWebhook", url=f"http://127.0.0.1:{port}/hook")
        assert status == 200
        standin.user_message(1, "lost")
        await standin.wait_idle(quiet=0.05)
        assert hits == 3 and standin.webhook_failures == 1
        # Deleting the webhook hands later updates back to getUpdates.
        await raw.call("deleteWebhook")
        standin.user_message(1, "kept")
        _, body = await raw.call("getUpdates")
        assert [u["message"]["text"] for u in body["result"]] == ["kept"]
    finally:
        await runner.cleanup()


# ---------------------------------------------------------------------------------------------
# Waiting, recording, listeners
# ---------------------------------------------------------------------------------------------


async def test_wait_for_since_and_timeout(standin: BotApiStandIn, raw: RawClient) -> None:
    await raw.call("sendMessage", chat_id=1, text="old")
    mark = standin.mark()
    waiter = asyncio.create_task(standin.wait_for("sendMessage", since=mark))
    await raw.call("sendMessage", chat_id=1, text="new")
    assert (await waiter).params["text"] == "new"
    with pytest.raises(TimeoutError, match="latest calls"):
        await standin.wait_for(lambda c: c.method == "sendPoll", timeout=0.05)


async def test_compact_recording(raw: RawClient) -> None:
    standin = raw.standin
    standin.record_params = False
    for i in range(50):
        await raw.call("sendMessage", chat_id=i % 5, text=f"bulk {i // 5}")
    await raw.call("sendMessage", chat_id=0, text="bulk 0")  # a duplicate
    assert all(c.params == {} and c.result is None for c in standin.calls)
    assert [c.chat_id for c in standin.calls[:5]] == [0, 1, 2, 3, 4]
    stats = standin.stats()
    assert stats["messages_total"] == 51 and stats["duplicates"] == 1
    assert stats["messages_per_chat"]["0"] == 11
    assert len(standin.sent_to(3)) == 10


async def test_listener_sees_chat_events(standin: BotApiStandIn, raw: RawClient) -> None:
    seen: list[ChatEvent] = []
    unsubscribe = standin.add_listener(seen.append)
    standin.user_message(7, "hi")
    await raw.call("sendChatAction", chat_id=7, action="typing")
    await raw.call("sendMessage", chat_id=7, text="hello")
    unsubscribe()
    await raw.call("sendMessage", chat_id=7, text="unseen")
    assert [(e.kind, e.from_bot) for e in seen] == [
        ("message", False),
        ("action", True),
        ("message", True),
    ]


# ---------------------------------------------------------------------------------------------
# Separate-process mode
# ---------------------------------------------------------------------------------------------


async def test_separate_process_stats_route() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "standin",
        "--port",
        "0",
        "--rate",
        "1000",
        cwd=REPO_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode().strip()
        assert line.startswith("STANDIN_PORT="), line
        base = f"http://127.0.0.1:{int(line.split('=')[1])}"
        async with aiohttp.ClientSession() as session:

            async def send(chat_id: int, text: str) -> int:
                url = f"{base}/bot{TOKEN}/sendMessage"
                async with session.post(url, data={"chat_id": str(chat_id), "text": text}) as r:
                    return r.status

            assert [await send(1, "a"), await send(1, "a"), await send(1, "b")] == [200] * 3
            assert await send(2, "a") == 200
            async with session.post(
                f"{base}/_standin/fail_next", json={"method": "sendMessage", "retry_after": 2}
            ) as r:
                assert r.status == 200
            assert await send(2, "rejected") == 429

            async with session.get(f"{base}/_standin/stats") as r:
                stats = await r.json()
            assert stats["messages_per_chat"] == {"1": 3, "2": 1}
            assert stats["duplicates"] == 1 and stats["rejected_429"] == 1

            async with session.post(
                f"{base}/_standin/updates",
                json={"helper": "user_message", "user_id": 9, "text": "/start"},
            ) as r:
                pushed = await r.json()
            async with session.post(f"{base}/bot{TOKEN}/getUpdates", json={}) as r:
                updates = (await r.json())["result"]
            assert [u["update_id"] for u in updates] == pushed["update_ids"]
            assert updates[0]["message"]["entities"][0]["type"] == "bot_command"

            async with session.get(f"{base}/_standin/calls", params={"since": "3"}) as r:
                calls = await r.json()
            assert [c["method"] for c in calls["calls"]] == ["sendMessage"] * 2 + ["getUpdates"]
            assert calls["calls"][1]["error_code"] == 429 and calls["next"] == 6
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, stderr.decode()


# ---------------------------------------------------------------------------------------------
# Groups, replies and raw updates
# ---------------------------------------------------------------------------------------------


async def test_group_chat_reply_quotes_the_command(
    standin: BotApiStandIn, polling_bot: EchoBot
) -> None:
    standin.add_chat(-100123, title="Council")
    standin.user_message(101, "/echo in the group", first_name="Alice", chat_id=-100123)
    call = await standin.wait_for("sendMessage")
    assert call.ok, call.description
    reply = standin.sent_to(-100123)[0]
    assert reply.text == "in the group"
    # PTB quotes the command in groups; the answer nests the quoted message like Telegram.
    assert reply.reply_to is not None and reply.reply_to.text == "/echo in the group"
    assert call.result["reply_to_message"]["from"]["first_name"] == "Alice"
    assert call.result["chat"]["type"] == "supergroup"


async def test_raw_pushed_message_can_be_replied_to(standin: BotApiStandIn, raw: RawClient) -> None:
    update_id = standin.push_update(
        {
            "message": {
                "message_id": 50,
                "from": {"id": 7, "is_bot": False, "first_name": "Raw"},
                "chat": {"id": 7, "type": "private", "first_name": "Raw"},
                "date": 1,
                "text": "typed by hand",
            }
        }
    )
    assert update_id == 1
    status, body = await raw.call(
        "sendMessage", chat_id=7, text="answer", reply_parameters={"message_id": 50}
    )
    assert status == 200, body
    assert body["result"]["message_id"] == 51  # ids continue after the pushed one
    assert body["result"]["reply_to_message"]["text"] == "typed by hand"
    status, body = await raw.call(
        "sendMessage", chat_id=7, text="answer", reply_parameters={"message_id": 999}
    )
    assert (status, body["description"]) == (400, "Bad Request: message to be replied not found")
