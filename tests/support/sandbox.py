"""The service in sandbox mode, in-process, for the sandbox and browser tests.

Fixtures live here (not in a conftest) because two test packages use them: importing them into a
test module or conftest makes pytest see them there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.sandbox import Sandbox
from bot.service import BritizenService
from bot.settings import Settings
from tests.e2e.conftest import TEST_SECRET


@dataclass
class RunningSandbox:
    service: BritizenService
    sandbox: Sandbox

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.service.http_port}"


@pytest.fixture
def sandbox_db_url(tmp_path: Path) -> str:
    from storage.migrate import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}"
    upgrade(url)  # as `britizen run` does before it starts (sync: Alembic runs its own loop)
    return url


@asynccontextmanager
async def running_sandbox(db_url: str) -> AsyncIterator[RunningSandbox]:
    """`britizen run` without a token, in-process: stand-in, bot, HTTP server, scheduler.

    Each call is a new process's worth of sandbox (a fresh stand-in) on the given database, so
    two calls in a row are a restart."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=db_url,
        secret_key=TEST_SECRET,
        http_port=0,
        send_rate=200,
    )
    assert settings.telegram_token is None
    sandbox = Sandbox()
    await sandbox.start()
    service = BritizenService(sandbox.wire(settings), sandbox=sandbox)
    try:
        await service.start()
        yield RunningSandbox(service, sandbox)
    finally:
        await service.stop()


@pytest.fixture
async def sandbox_service(sandbox_db_url: str) -> AsyncIterator[RunningSandbox]:
    async with running_sandbox(sandbox_db_url) as running:
        yield running


async def say(http: aiohttp.ClientSession, user_id: int, text: str) -> None:
    """Send a message as a test citizen through the page's route."""
    async with http.post(f"/sandbox/api/chats/{user_id}/messages", json={"text": text}) as answer:
        assert answer.status == 200, await answer.text()


async def press(
    http: aiohttp.ClientSession, user_id: int, message: dict[str, Any], label: str
) -> None:
    """Press the inline button labelled ``label`` on a message the page drew."""
    data = next(
        button["callback_data"]
        for row in message["inline_keyboard"]
        for button in row
        if label in button["text"]
    )
    body = {"message_id": message["message_id"], "data": data}
    async with http.post(f"/sandbox/api/chats/{user_id}/press", json=body) as answer:
        assert answer.status == 200, await answer.text()


async def bot_says(
    http: aiohttp.ClientSession, user_id: int, since: int, text: str
) -> tuple[int, dict[str, Any]]:
    """Long-poll a citizen's chat until a bot message containing ``text``; returns the next
    event index and the message."""
    for _ in range(20):
        async with http.get(
            f"/sandbox/api/chats/{user_id}/events", params={"since": since, "wait": 5}
        ) as answer:
            assert answer.status == 200
            page = await answer.json()
        since = page["next"]
        for event in page["events"]:
            message = event.get("message")
            if message and message["from_bot"] and text in (message["text"] or ""):
                return since, message
    raise AssertionError(f"the bot never said {text!r} to {user_id}")
