"""Storage on both backends: migrations, constraints, the update ledger and dialog state."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from services.clock import ManualClock, as_aware_utc
from services.dialogs import Dialog, DialogService
from services.updates import UpdateLedger
from storage.db import Database
from storage.models import Base, Citizen

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _citizen(telegram_id: int, ni_hash: str) -> Citizen:
    return Citizen(
        telegram_id=telegram_id,
        chat_id=telegram_id,
        display_name="Test",
        ni_hash=ni_hash,
        ni_masked="AB •• •• •• C",
        date_of_birth=date(1990, 3, 14),
        registered_at=NOW,
    )


async def test_migrations_create_every_model_table(db: Database) -> None:
    async with db.engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


async def test_sqlite_runs_in_wal_mode_with_busy_timeout(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'b.db'}")
    try:
        async with db.engine.connect() as conn:
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
            timeout = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar()
    finally:
        await db.close()
    assert mode == "wal"
    assert timeout and timeout >= 5000


async def test_one_ni_hash_one_account(db: Database) -> None:
    async with db.transaction() as session:
        session.add(_citizen(1, "a" * 64))
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            session.add(_citizen(2, "a" * 64))
    async with db.transaction() as session:
        count = len((await session.scalars(select(Citizen))).all())
    assert count == 1


async def test_datetimes_round_trip_as_utc(db: Database) -> None:
    async with db.transaction() as session:
        session.add(_citizen(1, "b" * 64))
    async with db.transaction() as session:
        stored = await session.scalar(select(Citizen.registered_at))
    assert stored is not None
    assert as_aware_utc(stored) == NOW


async def test_update_ledger_claims_each_update_once_and_prunes(db: Database) -> None:
    clock = ManualClock(NOW)
    ledger = UpdateLedger(db, clock)
    assert await ledger.claim(100) is True
    assert await ledger.claim(100) is False
    assert await ledger.claim(101) is True
    clock.advance(days=8)
    assert await ledger.prune() == 2
    assert await ledger.claim(100) is True


async def test_dialog_state_survives_a_new_database_object(db_url: str) -> None:
    first = Database(db_url)
    await DialogService(first).set(42, Dialog("registration", "date_of_birth", {"ni_masked": "x"}))
    await first.close()
    second = Database(db_url)
    try:
        dialogs = DialogService(second)
        assert await dialogs.get(42) == Dialog("registration", "date_of_birth", {"ni_masked": "x"})
        assert await dialogs.clear(42) is not None
        assert await dialogs.get(42) is None
        assert await dialogs.clear(42) is None
    finally:
        await second.close()


def test_clock_advances() -> None:
    clock = ManualClock(NOW)
    assert clock.advance(hours=1) - NOW == timedelta(hours=1)


async def test_migrations_match_the_models(db: Database) -> None:
    """A model change without a migration (or the reverse) fails here, on both backends."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from storage.migrate import include_name

    def diff(sync_conn: object) -> list[object]:
        context = MigrationContext.configure(
            sync_conn,  # type: ignore[arg-type]
            opts={"include_name": include_name},
        )
        return list(compare_metadata(context, Base.metadata))

    async with db.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []
