"""The connection pool: dead connections replaced without a round trip, autocommit reads, warm-up.

The hot path of every update counts round trips to PostgreSQL (storage.db), so these pin down
what that saving must not cost: a server restart still goes unnoticed by callers, a statement
run in autocommit never leaks autocommit into the transactions that share its pool, and a
fresh instance opens its connections before traffic arrives.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import Table, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import ProcessedUpdate

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
# A declarative model's __table__ is its Table (SQLAlchemy types it as the wider FromClause).
PROCESSED_UPDATES = cast(Table, ProcessedUpdate.__table__)


@pytest.fixture
async def pg(postgres_database: str) -> AsyncIterator[Database]:
    database = Database(postgres_database, pool_size=4, max_overflow=0)
    yield database
    await database.close()


async def _backends(db: Database) -> list[int]:
    """Process ids of this database's other connections, seen from a connection of its own."""
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        return [int(pid) for pid in rows.scalars()]


async def test_connections_the_server_closed_are_replaced_at_checkout(pg: Database) -> None:
    # Four connections in the pool, then the server ends every one of them: what a restart,
    # a failover or an idle timeout does. No pre-ping round trip is made, yet no caller sees it.
    assert await pg.warm_up(4) == 4
    admin = Database(pg.url)
    try:
        async with admin.engine.connect() as conn:
            ended = await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            assert len(ended.all()) >= 4
    finally:
        await admin.close()
    await asyncio.sleep(0.2)  # the goodbye reaches each socket

    async def read() -> int:
        async with pg.transaction() as session:
            return int(await session.scalar(text("SELECT 1")) or 0)

    assert await asyncio.gather(*(read() for _ in range(4))) == [1, 1, 1, 1]
    async with pg.autocommit() as session:
        assert await session.scalar(text("SELECT 2")) == 2


async def test_warm_up_opens_the_connections_before_any_traffic(pg: Database) -> None:
    observer = Database(pg.url)
    try:
        before = len(await _backends(observer))
        assert await pg.warm_up(4) == 4
        assert len(await _backends(observer)) - before == 4
        # Warm connections are reused, not opened again, by the next requests.
        async with pg.transaction() as session:
            await session.execute(text("SELECT 1"))
        assert len(await _backends(observer)) - before == 4
    finally:
        await observer.close()


async def test_warm_up_on_sqlite_opens_nothing(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'warm.db'}")
    try:
        assert await db.warm_up(10) == 0
    finally:
        await db.close()


async def test_autocommit_statements_stand_alone_and_transactions_still_roll_back(
    db: Database,
) -> None:
    # In autocommit a write is kept even though the block then fails...
    with pytest.raises(RuntimeError):
        async with db.autocommit() as session:
            await session.execute(PROCESSED_UPDATES.insert().values(update_id=1, processed_at=NOW))
            raise RuntimeError("after the write")
    # ...and the pooled connection it used goes back transactional: this write is undone.
    for _ in range(3):  # more checkouts than the pool could hand out without reuse
        with pytest.raises(RuntimeError):
            async with db.transaction() as session:
                await session.execute(
                    PROCESSED_UPDATES.insert().values(update_id=2, processed_at=NOW)
                )
                raise RuntimeError("after the write")
    async with db.transaction() as session:
        ids = (await session.scalars(select(ProcessedUpdate.update_id))).all()
    assert ids == [1]


async def test_autocommit_opens_no_transaction_around_a_statement(pg: Database) -> None:
    # PostgreSQL's now() is when the transaction began: the same for every statement of one
    # transaction, new for each statement in autocommit. The BEGIN and COMMIT round trips
    # this proves absent are what autocommit saves on every update.
    async def two_clock_readings(session: AsyncSession) -> tuple[datetime, datetime]:
        first = await session.scalar(text("SELECT now()"))
        await session.execute(text("SELECT pg_sleep(0.01)"))
        second = await session.scalar(text("SELECT now()"))
        assert first is not None and second is not None
        return first, second

    async with pg.autocommit() as session:
        first, second = await two_clock_readings(session)
        assert second > first
    async with pg.transaction() as session:
        first, second = await two_clock_readings(session)
        assert second == first
