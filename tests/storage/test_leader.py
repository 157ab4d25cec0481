"""Leader election: one instance at a time runs the jobs; a survivor takes over."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import Database
from storage.leader import LeaderElection
from storage.locks import advisory_key

RETRY = 0.05


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait for a condition; the bound (10 s) is a hang guard, not a speed assertion."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    pytest.fail("condition not met in time")


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []

    async def elected(self) -> None:
        self.events.append("elected")

    async def deposed(self) -> None:
        self.events.append("deposed")


def election(db: Database, recorder: Recorder, name: str = "test-scheduler") -> LeaderElection:
    return LeaderElection(
        db,
        retry_seconds=RETRY,
        name=name,
        on_elected=recorder.elected,
        on_deposed=recorder.deposed,
    )


@pytest.fixture
async def pg(postgres_database: str) -> AsyncIterator[Database]:
    """PostgreSQL only: election is what the lock is for (SQLite has one instance)."""
    database = Database(postgres_database)
    yield database
    await database.close()


async def test_one_leader_at_a_time_and_a_clean_handover(pg: Database) -> None:
    db = pg
    second_db = Database(db.url)
    first_log, second_log = Recorder(), Recorder()
    first, second = election(db, first_log), election(second_db, second_log)
    try:
        await first.start()
        await second.start()
        assert first.is_leader
        assert not second.is_leader
        await asyncio.sleep(RETRY * 5)  # several rounds: still exactly one leader
        assert first.is_leader and not second.is_leader
        assert second_log.events == []

        await first.stop()
        assert first_log.events == ["elected", "deposed"]
        await eventually(lambda: second.is_leader)
        assert second_log.events == ["elected"]
    finally:
        await first.stop()
        await second.stop()
        await second_db.close()


async def test_a_leader_whose_connection_dies_steps_down_and_a_survivor_takes_over(
    pg: Database,
) -> None:
    db = pg
    second_db = Database(db.url)
    first_log, second_log = Recorder(), Recorder()
    first, second = election(db, first_log), election(second_db, second_log)
    try:
        await first.start()
        await second.start()
        assert first.is_leader
        # What PostgreSQL does when the leader's process or host dies: its session ends.
        async with second_db.engine.connect() as conn:
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND objid = :key AND granted"
                ),
                {"key": advisory_key("test-scheduler")},
            )
            await conn.commit()
        await eventually(lambda: not first.is_leader)
        assert first_log.events == ["elected", "deposed"]
        await eventually(lambda: second.is_leader)
        assert second_log.events == ["elected"]
        # The old leader campaigns again but can't win while the survivor holds the lock.
        await asyncio.sleep(RETRY * 5)
        assert not first.is_leader
    finally:
        await first.stop()
        await second.stop()
        await second_db.close()


async def test_on_sqlite_the_only_instance_always_leads(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    log = Recorder()
    only = election(db, log)
    await only.start()
    assert only.is_leader
    assert not only.uses_lock
    await only.stop()
    assert not only.is_leader
    assert log.events == ["elected", "deposed"]
    await db.close()


async def test_instances_starting_together_migrate_once(postgres_database: str) -> None:
    """Every instance migrates at start; run together on an empty database, one migrates and
    the others wait for it (an advisory lock), so none fails on a half-created schema."""
    import os
    import sys

    from sqlalchemy.engine import make_url

    from tests.conftest import _pg_execute

    name = f"{make_url(postgres_database).database}_migrate"
    await _pg_execute(postgres_database, f'CREATE DATABASE "{name}"')
    url = make_url(postgres_database).set(database=name).render_as_string(hide_password=False)
    try:
        # Processes, as instances are (Alembic's context is global: threads would share it).
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRITIZEN_")}
        env.update(BRITIZEN_DATABASE_URL=url, BRITIZEN_SECRET_KEY="x" * 40)
        processes = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "db",
                "upgrade",
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            for _ in range(3)
        ]
        outputs = [await process.communicate() for process in processes]
        assert [p.returncode for p in processes] == [0, 0, 0], outputs
        db = Database(url)
        try:
            async with db.transaction() as session:
                versions = (
                    await session.scalars(text("SELECT version_num FROM alembic_version"))
                ).all()
        finally:
            await db.close()
        assert len(versions) == 1
    finally:
        await _pg_execute(postgres_database, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
