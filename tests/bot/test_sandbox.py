"""Sandbox mode: `britizen run` without a token serves the bot against the in-process stand-in,
and the chat page's JSON routes act as the test citizens."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.sandbox import CITIZENS, DEMO_SPONSOR_NAME, MAX_EXTRA_CITIZENS, demo_sponsor_key
from services.clock import ManualClock
from services.sponsors import API_KEY_PREFIX, SponsorService
from services.validation import normalise_ni_number
from storage.db import Database
from storage.models import Sponsor
from tests.e2e.conftest import TEST_SECRET
from tests.support.sandbox import RunningSandbox, sandbox_db_url, sandbox_service

__all__ = ["sandbox_db_url", "sandbox_service"]  # fixtures used here

ALICE = CITIZENS[0]


@pytest.fixture
async def http(sandbox_service: RunningSandbox) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=sandbox_service.url) as session:
        yield session


async def events(http: aiohttp.ClientSession, since: int, wait: int = 5) -> dict:
    async with http.get(
        f"/sandbox/api/chats/{ALICE.user_id}/events", params={"since": since, "wait": wait}
    ) as response:
        assert response.status == 200
        return await response.json()


async def bot_says(http: aiohttp.ClientSession, since: int, text: str) -> tuple[int, dict]:
    """Long-poll until a bot message containing ``text``; returns the next index and it."""
    for _ in range(20):
        page = await events(http, since)
        since = page["next"]
        for event in page["events"]:
            message = event.get("message")
            if message and message["from_bot"] and text in message["text"]:
                return since, message
    raise AssertionError(f"the bot never said {text!r}")


async def test_state_lists_citizens_commands_and_a_working_demo_sponsor_key(
    sandbox_service: RunningSandbox, http: aiohttp.ClientSession
) -> None:
    async with http.get("/sandbox/api/state") as response:
        state = await response.json()
    assert [c["first_name"] for c in state["citizens"]] == [c.first_name for c in CITIZENS]
    assert {"start", "score"} <= {c["command"] for c in state["commands"]}
    key = state["sponsor"]["api_key"]
    assert key.startswith(API_KEY_PREFIX) and state["sponsor"]["name"] == DEMO_SPONSOR_NAME
    # The key is a real sponsor key for the same API a sponsor's program uses.
    async with http.get("/api/v1/sponsor", headers={"Authorization": f"Bearer {key}"}) as answer:
        assert answer.status == 200
        assert (await answer.json())["name"] == DEMO_SPONSOR_NAME
    async with http.get("/healthz") as health:
        assert (await health.json())["sandbox"] is True


async def test_every_start_gives_the_demo_sponsor_a_new_key_and_retires_the_old(
    db: Database,
) -> None:
    clock = ManualClock(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    secret = TEST_SECRET.encode()
    sponsors = SponsorService(db, secret, clock)
    first, name = await demo_sponsor_key(db, secret, clock)
    second, _ = await demo_sponsor_key(db, secret, clock)
    assert name == DEMO_SPONSOR_NAME and first != second
    assert await sponsors.authenticate(first) is None
    renewed = await sponsors.authenticate(second)
    assert renewed is not None and renewed.name == DEMO_SPONSOR_NAME
    # The same sponsor each time, so its promotions stay visible in the portal.
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Sponsor)) == 1


async def test_send_long_poll_and_press_a_button(
    sandbox_service: RunningSandbox, http: aiohttp.ClientSession
) -> None:
    chat = f"/sandbox/api/chats/{ALICE.user_id}"
    async with http.post(f"{chat}/messages", json={"text": "/start"}) as response:
        assert response.status == 200
    since, welcome = await bot_says(http, 0, "Welcome to Britizen")
    buttons = [b["text"] for row in welcome["inline_keyboard"] for b in row]
    assert buttons == ["✅ I agree", "No thanks"]
    agree = welcome["inline_keyboard"][0][0]["callback_data"]
    async with http.post(
        f"{chat}/press", json={"message_id": welcome["message_id"], "data": agree}
    ) as response:
        assert response.status == 200
    await bot_says(http, since, "National Insurance number")

    # A button that isn't on the message (a stale page) is refused, not pushed to the bot.
    async with http.post(
        f"{chat}/press", json={"message_id": welcome["message_id"], "data": "forged"}
    ) as response:
        assert response.status == 409
        assert (await response.json())["error"] == "stale"


async def test_a_photo_is_served_with_its_type(
    sandbox_service: RunningSandbox, http: aiohttp.ClientSession
) -> None:
    standin = sandbox_service.sandbox.standin
    # A registered citizen's /invite answers with a QR code picture.
    chat = f"/sandbox/api/chats/{ALICE.user_id}"
    await http.post(f"{chat}/messages", json={"text": "/start"})
    since, welcome = await bot_says(http, 0, "Welcome")
    await http.post(
        f"{chat}/press",
        json={
            "message_id": welcome["message_id"],
            "data": welcome["inline_keyboard"][0][0]["callback_data"],
        },
    )
    for text, reply in (
        (ALICE.ni_number, "saved as"),
        (ALICE.date_of_birth, "postcode"),
        (ALICE.postcode, "registered"),
        ("/invite", "invite link"),
    ):
        await http.post(f"{chat}/messages", json={"text": text})
        since, message = await bot_says(http, since, reply)
    assert message["kind"] == "photo"
    async with http.get(message["file"]["url"]) as response:
        assert response.status == 200
        assert response.content_type == "image/png"
        assert (await response.read()).startswith(b"\x89PNG")
    file_id = message["file"]["url"].rsplit("/", 1)[1]
    assert message["file"]["size"] == len(standin.files[file_id].data)


@pytest.mark.parametrize(
    ("path", "body", "status", "error"),
    [
        ("/sandbox/api/chats/999/messages", {"text": "hi"}, 404, "not_found"),
        (f"/sandbox/api/chats/{ALICE.user_id}/messages", {"text": "  "}, 422, "validation"),
        (f"/sandbox/api/chats/{ALICE.user_id}/messages", {"text": "x" * 4097}, 422, "validation"),
        (f"/sandbox/api/chats/{ALICE.user_id}/messages", ["not", "an object"], 400, "bad_json"),
        (f"/sandbox/api/chats/{ALICE.user_id}/press", {"message_id": "1"}, 422, "validation"),
        (f"/sandbox/api/chats/{ALICE.user_id}/pay", {"message_id": 12345}, 404, "not_found"),
        (
            f"/sandbox/api/chats/{ALICE.user_id}/share-users",
            {"request_id": 1, "user_ids": [424242]},
            422,
            "validation",
        ),
    ],
)
async def test_bad_requests_get_a_json_answer_and_nothing_reaches_the_bot(
    sandbox_service: RunningSandbox,
    http: aiohttp.ClientSession,
    path: str,
    body: object,
    status: int,
    error: str,
) -> None:
    async with http.post(path, json=body) as response:
        assert response.status == status
        assert (await response.json())["error"] == error
    assert sandbox_service.sandbox.standin.pending_updates == 0
    assert sandbox_service.sandbox.standin.events(ALICE.user_id) == []


async def test_a_new_test_citizen_can_be_added(http: aiohttp.ClientSession) -> None:
    async with http.post("/sandbox/api/citizens", json={"first_name": "Zoe"}) as response:
        assert response.status == 201
        person = await response.json()
    assert person["first_name"] == "Zoe"
    async with http.get("/sandbox/api/state") as response:
        assert person["id"] in [c["id"] for c in (await response.json())["citizens"]]
    # The invented NI number is one the bot accepts.
    assert normalise_ni_number(person["sample"]["ni_number"])
    for _ in range(MAX_EXTRA_CITIZENS - 1):
        async with http.post("/sandbox/api/citizens", json={}) as response:
            assert response.status == 201
    async with http.post("/sandbox/api/citizens", json={}) as response:
        assert response.status == 422
        assert (await response.json())["error"] == "too_many"


async def test_britizen_run_without_a_token_is_the_sandbox(tmp_path: Path) -> None:
    """The real process, as `make run` starts it on a fresh clone: it says at once that it is
    the sandbox, serves the chat page, and stops cleanly on SIGTERM."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRITIZEN_")}
    env.update(
        BRITIZEN_SECRET_KEY=TEST_SECRET,
        BRITIZEN_HTTP_PORT="0",
        BRITIZEN_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'svc.db'}",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run",
        cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert process.stdout is not None
    lines: list[str] = []
    try:
        url = None
        while url is None:
            line = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
            if not line:
                raise AssertionError("the service exited:\n" + "".join(lines))
            lines.append(line)
            if line.strip().startswith("Chat with the bot"):
                url = line.split()[-1]
        log = "".join(lines)
        assert "SANDBOX MODE" in log and "NOTHING REACHES TELEGRAM" in log
        # Said before anything else happens, not only once it is up.
        assert "SANDBOX mode" in lines[0], lines[0]
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            assert response.status == 200
            assert "Britizen sandbox" in await response.text()
        process.send_signal(signal.SIGTERM)
        output = (await asyncio.wait_for(process.communicate(), timeout=30))[0].decode()
        assert process.returncode == 0, log + output
        assert "stopped cleanly" in output
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
