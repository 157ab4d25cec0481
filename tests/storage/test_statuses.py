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

VERSIONS = Path(__file__).parents[2] / "storage/migrations/versions"
# Migrations that add CHECK constraints each list theirs as CHECKS (0011 the first ones).
# A later migration's list for a column replaces an earlier one's (0016 adds a dispute kind).
MIGRATIONS = (
    "0011_status_check_constraints.py",
    "0012_live_invoices_and_overpayments.py",
    "0015_payment_plan_requests.py",
    "0016_event_batches_held_for_review.py",
    "0021_ni_claims.py",
    "0023_boost.py",
    "0026_entitlement_checks.py",
)


def test_the_migrations_list_exactly_the_enums_values() -> None:
    listed: dict[tuple[str, str], tuple[str, ...]] = {}
    for name in MIGRATIONS:
        spec = importlib.util.spec_from_file_location(name[:4], VERSIONS / name)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        listed.update({key: tuple(values) for key, values in module.CHECKS.items()})
    assert listed == {
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


def test_upgrading_an_existing_sqlite_database_keeps_every_row(tmp_path: Path) -> None:
    """Batch mode rebuilds each table on SQLite; with foreign keys on, dropping the old table
    would cascade-delete the rows that point at it. The migration env turns them off."""
    import sqlite3

    from storage.migrate import upgrade

    path = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url, "0010")
    when = "2026-12-05 12:00:00"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            f"""
            INSERT INTO citizens (id, telegram_id, chat_id, display_name, ni_hash, ni_masked,
                date_of_birth, registered_at)
                VALUES (1, 11, 11, 'A', '{"a" * 64}', 'QQ', '1990-01-01', '{when}'),
                       (2, 22, 22, 'B', '{"b" * 64}', 'QQ', '1990-01-01', '{when}');
            INSERT INTO friendships (low_id, high_id, requester_id, status, created_at)
                VALUES (1, 2, 1, 'accepted', '{when}');
            INSERT INTO outbox (chat_id, citizen_id, kind, priority, text, status, attempts,
                next_attempt_at, created_at)
                VALUES (11, 1, 'notice', 5, 'hi', 'sent', 1, '{when}', '{when}');
            INSERT INTO loans (id, citizen_id, application_key, principal_pence, term_months,
                annual_rate_bp, apr_bp, total_repayable_pence, status, created_at)
                VALUES (1, 1, 'k', 5000, 3, 2990, 3400, 5100, 'active', '{when}');
            INSERT INTO instalments (loan_id, number, due_on, amount_pence, principal_pence,
                late_fee_pence)
                VALUES (1, 1, '2027-01-05', 1700, 1650, 0);
            """
        )
    before = _counts(path)
    upgrade(url)
    assert _counts(path) == before
    assert all(before.values())


def _counts(path: Path) -> dict[str, int]:
    import sqlite3

    with sqlite3.connect(path) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("citizens", "friendships", "outbox", "loans", "instalments")
        }
