"""The service in sandbox mode, in-process, for the sandbox and browser tests.

Fixtures live here (not in a conftest) because two test packages use them: importing them into a
test module or conftest makes pytest see them there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

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


@pytest.fixture
async def sandbox_service(sandbox_db_url: str) -> AsyncIterator[RunningSandbox]:
    """`britizen run` without a token, in-process: stand-in, bot, HTTP server, scheduler."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=sandbox_db_url,
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
