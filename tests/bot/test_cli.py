"""The `britizen` command line as an operator meets it: one-line refusals, migrations, SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.cli import main
from standin import BotApiStandIn
from tests.e2e.conftest import TEST_SECRET, TEST_TOKEN
from tests.support.cli_env import clean_cli_env


def test_run_in_production_without_a_token_explains_how_to_get_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Elsewhere a missing token means sandbox mode (tests/bot/test_sandbox.py); in production
    # it is a deployment mistake and must stop the service.
    clean_cli_env(monkeypatch, tmp_path)
    monkeypatch.setenv("BRITIZEN_ENVIRONMENT", "production")
    monkeypatch.setenv("BRITIZEN_SECRET_KEY", TEST_SECRET)
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "BRITIZEN_TELEGRAM_TOKEN" in err and "BotFather" in err


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BRITIZEN_DATABASE_URL", "mysql://root@localhost/britizen"),
        ("BRITIZEN_DATABASE_URL", "not a url"),
        ("BRITIZEN_HTTP_PORT", "eighty"),
        ("BRITIZEN_SEND_RATE", "-1"),
        ("BRITIZEN_TIMEZONE", "Mars/Olympus"),
        ("BRITIZEN_SECRET_KEY", "short"),
        ("BRITIZEN_ADMIN_IDS", "12,abc"),
        ("BRITIZEN_SCORING_CRON", "every night"),
        ("BRITIZEN_DATABASE_POOL_SIZE", "0"),
        ("BRITIZEN_DATABASE_MAX_OVERFLOW", "-1"),
        ("BRITIZEN_CONCURRENT_UPDATES", "0"),
    ],
)
def test_a_malformed_setting_is_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
) -> None:
    clean_cli_env(monkeypatch, tmp_path)
    monkeypatch.setenv(variable, value)
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert variable in err


def test_production_requires_a_secret_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_cli_env(monkeypatch, tmp_path)
    monkeypatch.setenv("BRITIZEN_ENVIRONMENT", "production")
    assert main(["db", "upgrade"]) == 2
    assert "BRITIZEN_SECRET_KEY is required in production" in capsys.readouterr().err


def test_more_concurrent_updates_than_pooled_connections_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Each update being worked on holds a connection: more of them than the pool would make
    # every burst open (and close) connections, the stall the limit exists to prevent.
    clean_cli_env(monkeypatch, tmp_path)
    monkeypatch.setenv("BRITIZEN_DATABASE_URL", "postgresql+asyncpg://britizen@db/britizen")
    monkeypatch.setenv("BRITIZEN_DATABASE_POOL_SIZE", "8")
    monkeypatch.setenv("BRITIZEN_CONCURRENT_UPDATES", "12")
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "BRITIZEN_CONCURRENT_UPDATES (12)" in err and "BRITIZEN_DATABASE_POOL_SIZE (8)" in err


def test_db_upgrade_creates_the_default_sqlite_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_cli_env(monkeypatch, tmp_path)
    assert main(["db", "upgrade"]) == 0
    assert (tmp_path / "data" / "britizen.db").exists()
    assert main(["db", "upgrade"]) == 0  # idempotent


async def test_run_serves_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    """`britizen run` as a real process: migrates, registers commands, answers /healthz, and
    shuts down in order on SIGTERM with exit code 0."""
    standin = BotApiStandIn()
    await standin.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRITIZEN_")}
    env.update(
        BRITIZEN_TELEGRAM_TOKEN=TEST_TOKEN,
        BRITIZEN_TELEGRAM_API_URL=standin.base_url,
        BRITIZEN_SECRET_KEY=TEST_SECRET,
        BRITIZEN_HTTP_PORT="0",
        BRITIZEN_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'svc.db'}",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run",
        cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        await standin.wait_for("getUpdates", timeout=30)
        assert [c["command"] for c in standin.commands()][:2] == ["start", "score"]
        port = await _http_port_from_log(process)
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/healthz") as response,
        ):
            assert (await response.json())["database"] is True
        process.send_signal(signal.SIGTERM)
        output = (await asyncio.wait_for(process.communicate(), timeout=30))[0].decode()
        assert process.returncode == 0, output
        assert "stopped cleanly" in output
        assert TEST_TOKEN not in output
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await standin.stop()


async def _http_port_from_log(process: asyncio.subprocess.Process) -> int:
    assert process.stdout is not None
    while True:
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
        if not line:
            raise AssertionError("the service exited before it was running")
        if "HTTP on" in line:
            return int(line.rsplit(":", 1)[1].strip())


async def test_a_busy_port_stops_run_with_one_line_naming_the_setting(tmp_path: Path) -> None:
    """Another program on the HTTP port: exit 1 and one line saying which setting to change,
    not a traceback through aiohttp and asyncio."""
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRITIZEN_")}
    env.update(
        BRITIZEN_SECRET_KEY=TEST_SECRET,
        BRITIZEN_HTTP_PORT=str(port),
        BRITIZEN_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'svc.db'}",
    )
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run",
            cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        busy.close()
    stderr = err.decode()
    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr and "Traceback" not in out.decode()
    named = [line for line in stderr.splitlines() if "BRITIZEN_HTTP_PORT" in line]
    assert named == [stderr.splitlines()[-1]]
    assert named[0].startswith("britizen: ") and str(port) in named[0]
