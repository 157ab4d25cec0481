"""Engine and session set-up for SQLite (default) and PostgreSQL.

SQLite gets WAL (readers never block the writer), a busy timeout (a second writer waits instead of
failing with "database is locked") and enforced foreign keys on every connection.

PostgreSQL: every round trip to the server costs more CPU in this process than the query costs
the server, so the hot paths count them. A pooled connection is checked for a server-side close
without one (see `_drop_closed_connection`), and statements that stand alone can run in
autocommit (`Database.autocommit`): no BEGIN and COMMIT around them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Connections older than this are replaced at their next checkout, so a server or proxy that
# drops idle connections after a while never hands the pool a dead one.
POOL_RECYCLE_SECONDS = 1800
# PostgreSQL connections kept open, and extra ones allowed for a burst (closed again after it).
# Opening one costs far more CPU than a query, so a pool sized for the average churns under
# the bursts a short stall leaves behind: connections opened, closed, opened again.
DEFAULT_POOL_SIZE = 20
DEFAULT_MAX_OVERFLOW = 10


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    # NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the
    # last transactions, which is the usual trade-off for a 10x faster commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _drop_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """On checkout: refuse a connection the server has closed, so the pool opens a new one.

    asyncpg marks a connection closed as soon as its socket reports the server's goodbye (a
    restart, a failover, `pg_terminate_backend`, an idle timeout), so this costs no round trip.
    SQLAlchemy's `pool_pre_ping` would find the same thing with BEGIN; SELECT; ROLLBACK on
    every checkout: three round trips, which at 200 updates/s were most of the database work.
    A connection that dies silently mid-use fails that one statement either way, and
    SQLAlchemy then invalidates the rest of the pool.
    """
    raw = getattr(dbapi_connection, "_connection", None)
    is_closed = getattr(raw, "is_closed", None)
    if is_closed is not None and is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def ensure_sqlite_directory(url: str) -> None:
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    ensure_sqlite_directory(url)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", DEFAULT_POOL_SIZE)
    kwargs.setdefault("max_overflow", DEFAULT_MAX_OVERFLOW)
    kwargs.setdefault("pool_recycle", POOL_RECYCLE_SECONDS)
    engine = create_async_engine(url, **kwargs)
    event.listen(engine.sync_engine, "checkout", _drop_closed_connection)
    return engine


class Database:
    """Owns the engine; services open one session per use case and commit it themselves."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = create_engine(url, **engine_kwargs)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        # The same pool; each statement is its own transaction (the isolation level is set on
        # checkout and reset on return, locally, without a round trip).
        self._autocommit_sessionmaker = async_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"),
            expire_on_commit=False,
        )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on any error."""
        async with self.sessionmaker() as session, session.begin():
            yield session

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncSession]:
        """A session whose every statement commits on its own: no BEGIN, no COMMIT.

        Only for work that is one statement, or several that need not agree with each other:
        a single read, an idempotent single-row write. On PostgreSQL it saves two of a
        transaction's three round trips; anything that reads and then writes on what it read
        belongs in `transaction()`.
        """
        async with self._autocommit_sessionmaker() as session:
            yield session

    async def warm_up(self, connections: int) -> int:
        """Open up to `connections` pooled connections now, so the first burst of traffic
        doesn't pay for opening them (PostgreSQL only). Returns how many opened; a failure
        is left to the pool, which opens connections on demand anyway."""
        if self.is_sqlite or connections <= 0:
            return 0
        # All at once and held together: one at a time, the pool would hand back the first.
        opened = await asyncio.gather(
            *(self.engine.connect().start() for _ in range(connections)), return_exceptions=True
        )
        held = [conn for conn in opened if isinstance(conn, AsyncConnection)]
        for conn in held:
            await conn.close()  # back into the pool, still open
        failed = [error for error in opened if isinstance(error, BaseException)]
        if failed:
            logger.warning(
                "opened %d of %d database connections ahead of traffic: %s",
                len(held), connections, failed[0],
            )  # fmt: skip
        return len(held)

    async def ping(self) -> bool:
        from sqlalchemy import text

        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def close(self) -> None:
        await self.engine.dispose()
