"""Shared fixtures: a migrated database on SQLite and on PostgreSQL for every storage test.

`db_url` is parametrised, so a test that asks for it runs twice. PostgreSQL is reached at
BRITIZEN_TEST_POSTGRES_URL (default: the local trust-auth server, database `test`); the suite
creates a throwaway database beside it, migrates it once and empties it between tests. Outside
CI an unreachable server skips the PostgreSQL leg with the reason; with
BRITIZEN_TEST_POSTGRES_REQUIRED=1 (set by .ci/run) it fails instead.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy.engine import make_url

from bench.pg import pg_execute as _pg_execute
from standin import BotApiStandIn
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Base

# Tests never assert on wall-clock time: Hypothesis's per-example deadline and its "too slow"
# health check would fail a correct test on a busy machine (CI shares two cores).
settings.register_profile("britizen", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("britizen")

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")


def postgres_admin_url() -> str:
    return os.environ.get("BRITIZEN_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def postgres_required() -> bool:
    return os.environ.get("BRITIZEN_TEST_POSTGRES_REQUIRED", "") not in ("", "0", "false")


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session; dropped at the end."""
    admin = postgres_admin_url()
    name = f"britizen_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_pg_execute(admin, f'CREATE DATABASE "{name}"'))
    except (TimeoutError, OSError, Exception) as exc:
        reason = f"PostgreSQL is not reachable at {make_url(admin).render_as_string()}: {exc!r}"
        if postgres_required():
            pytest.fail(f"{reason} (required: BRITIZEN_TEST_POSTGRES_REQUIRED is set)")
        pytest.skip(f"{reason}; set BRITIZEN_TEST_POSTGRES_URL to run the PostgreSQL leg")
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    asyncio.run(_pg_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate_all(url: str) -> None:
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    await _pg_execute(url, f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture
async def standin() -> AsyncIterator[BotApiStandIn]:
    """A loopback Bot API stand-in, fresh for each test."""
    server = BotApiStandIn()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database URL: a temporary SQLite file, or the session's PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'britizen.db'}"
        upgrade(url)
        return url
    url = request.getfixturevalue("postgres_database")
    asyncio.run(_truncate_all(url))
    return url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    yield database
    await database.close()


def skips_forbidden() -> bool:
    return os.environ.get("BRITIZEN_TEST_FORBID_SKIPS", "") not in ("", "0", "false")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """In CI (.ci/run sets BRITIZEN_TEST_FORBID_SKIPS) a skipped test fails the run: every
    storage test must really run on both backends, and the browser leg must really run."""
    skipped = terminalreporter.stats.get("skipped", [])
    if skips_forbidden() and skipped:
        terminalreporter.section("skips are not allowed in CI", sep="!", red=True)
        for report in skipped:
            terminalreporter.write_line(f"SKIPPED {report.nodeid}: {report.longrepr}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skips_forbidden() and skipped and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
