"""One holder at a time for a named job, using what the database already provides.

PostgreSQL: a session-level advisory lock on a dedicated connection; if the process dies the
connection drops and PostgreSQL releases the lock by itself. SQLite (one machine): an exclusive
`flock` on a file beside the database, which the kernel releases when the process dies.
"""

from __future__ import annotations

import fcntl
import os
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import Database


def advisory_key(name: str) -> int:
    """A stable 32-bit key per job name (crc32 is the same in every process and version)."""
    return zlib.crc32(f"britizen:{name}".encode())


@asynccontextmanager
async def job_lock(db: Database, name: str) -> AsyncIterator[bool]:
    """Yields True if this caller now holds the lock, False if someone else does."""
    if db.is_sqlite:
        database = make_url(db.url).database or "britizen.db"
        path = Path(f"{database}.{name}.lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        return
    key = advisory_key(name)
    async with db.engine.connect() as conn:
        acquired = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}))
        await conn.commit()
        try:
            yield acquired
        finally:
            if acquired:
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                await conn.commit()
