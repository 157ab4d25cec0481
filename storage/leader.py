"""Which instance runs the scheduled jobs and the outbox sender: one at a time, elected by the
database.

PostgreSQL: the leader holds a session-level advisory lock on a connection of its own. If the
process dies the connection drops and PostgreSQL releases the lock at once; if the whole host
vanishes, TCP keepalives on that connection (set below) let the server notice within about
half a minute. Every other instance retries every ``retry_seconds``, so the jobs move to a
survivor within a minute either way. The leader checks its connection on the same beat and
steps down the moment it can't prove it still holds the lock.

SQLite is one machine and one instance: there is nothing to elect, so the instance always
leads (the per-job file locks in storage.locks still keep a CLI `britizen score` and the
service's own pass apart).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database
from storage.locks import advisory_key

logger = logging.getLogger(__name__)

LEADER_LOCK_NAME = "scheduler"
DEFAULT_RETRY_SECONDS = 10.0
# Server-side keepalives for the lock's connection: idle 10 s, then a probe every 5 s, dead
# after 3 misses. Without them a leader whose host lost power keeps the lock until the
# kernel's default (two hours).
_KEEPALIVE_SETTINGS = {
    "tcp_keepalives_idle": "10",
    "tcp_keepalives_interval": "5",
    "tcp_keepalives_count": "3",
}

Callback = Callable[[], Awaitable[None]]


class LeaderElection:
    """Campaigns in the background; ``is_leader`` says whether this instance leads right now.

    ``on_elected`` / ``on_deposed`` run on each change (the service starts and stops the
    outbox sender there). They are awaited in order, never concurrently.
    """

    def __init__(
        self,
        db: Database,
        *,
        retry_seconds: float = DEFAULT_RETRY_SECONDS,
        name: str = LEADER_LOCK_NAME,
        on_elected: Callback | None = None,
        on_deposed: Callback | None = None,
    ) -> None:
        self._db = db
        self._retry = retry_seconds
        self._key = advisory_key(name)
        self._on_elected = on_elected
        self._on_deposed = on_deposed
        self._connection: AsyncConnection | None = None
        self._leader = False
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._first_round = asyncio.Event()

    @property
    def is_leader(self) -> bool:
        return self._leader

    @property
    def uses_lock(self) -> bool:
        return not self._db.is_sqlite

    async def start(self) -> None:
        """Begin campaigning; returns once the first attempt has been decided."""
        self._task = asyncio.create_task(self._campaign(), name="leader-election")
        await self._first_round.wait()

    async def stop(self) -> None:
        """Step down (releasing the lock at once, so a survivor needn't wait) and stop."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _campaign(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    if self._leader:
                        if not await self._still_holding():
                            logger.error("lost the scheduler lock: stepping down")
                            await self._step_down()
                    elif await self._try_acquire():
                        await self._become_leader()
                except Exception:
                    logger.exception("leader election round failed; retrying")
                    if self._leader:
                        await self._step_down()
                self._first_round.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self._retry)
        finally:
            self._first_round.set()
            if self._leader:
                await self._step_down()

    async def _try_acquire(self) -> bool:
        if not self.uses_lock:
            return True
        conn = await self._db.engine.connect()
        try:
            for setting, value in _KEEPALIVE_SETTINGS.items():
                # Session-level SET; the values are ours, never user input.
                await conn.execute(text(f"SET {setting} = {value}"))
            acquired = bool(
                await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key})
            )
            await conn.commit()
        except Exception:
            await conn.close()
            raise
        if not acquired:
            await conn.close()
            return False
        self._connection = conn
        return True

    async def _still_holding(self) -> bool:
        if self._connection is None:
            return not self.uses_lock
        try:
            held = await self._connection.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND objid = :key AND pid = pg_backend_pid() AND granted"
                ),
                {"key": self._key},
            )
            await self._connection.commit()
        except Exception:
            logger.exception("the scheduler lock's connection failed")
            return False
        return bool(held)

    async def _become_leader(self) -> None:
        self._leader = True
        logger.info("this instance now holds the scheduler lock: running jobs and the sender")
        if self._on_elected is not None:
            await self._on_elected()

    async def _step_down(self) -> None:
        self._leader = False
        try:
            if self._on_deposed is not None:
                await self._on_deposed()
        finally:
            conn, self._connection = self._connection, None
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
                    await conn.commit()
                with contextlib.suppress(Exception):
                    await conn.close()
