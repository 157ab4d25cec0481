"""Status columns accept only their enum's values, on both databases."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.statuses import CHECKED_COLUMNS, OutboxStatus

MIGRATION = (
    Path(__file__).parents[2] / "storage/migrations/versions/0011_status_check_constraints.py"
)


def test_the_migration_lists_exactly_the_enums_values() -> None:
    spec = importlib.util.spec_from_file_location("m0011", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert {key: tuple(values) for key, values in module.CHECKS.items()} == {
        key: tuple(member.value for member in enum) for key, enum in CHECKED_COLUMNS.items()
    }


async def _insert_outbox(db: Database, status: str) -> None:
    async with db.transaction() as session:
        await session.execute(
            text(
                "INSERT INTO outbox (chat_id, kind, priority, text, status, attempts, "
                "next_attempt_at, created_at) VALUES (1, 'notice', 5, 'hi', :status, 0, :now, :now)"
            ),
            {"status": status, "now": datetime(2026, 12, 5, tzinfo=UTC)},
        )


async def test_a_status_outside_its_enum_is_refused(db: Database) -> None:
    await _insert_outbox(db, OutboxStatus.PENDING)
    with pytest.raises(IntegrityError):
        await _insert_outbox(db, "delivered-ish")
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            await session.execute(text("UPDATE loans SET status = 'forgiven'"))
            await session.execute(
                text("UPDATE outbox SET status = 'maybe' WHERE status = 'pending'")
            )
