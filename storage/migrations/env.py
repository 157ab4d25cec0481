"""Alembic environment: runs migrations over the async engine the service itself uses."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.db import create_engine
from storage.locks import advisory_key
from storage.migrate import include_name
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode rebuilds a SQLite table by copying it and dropping the original; with
        # foreign keys on, that DROP would fire every ON DELETE CASCADE pointing at it and
        # empty the referencing tables. The pragma only takes effect outside a transaction,
        # so it is set here, before the migrations' transaction, and checked after it.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds tables when needed.
        render_as_batch=sqlite,
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # N instances starting together all migrate: the first takes this lock and
            # migrates; the others wait, then find the database at head. Released at commit.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": advisory_key("migrations")}
            )
        context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration left rows with dangling foreign keys: {broken[:5]}")
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")


async def _run_async(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


url: str = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url") or ""
if context.is_offline_mode():
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async(url))
