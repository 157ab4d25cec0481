"""status check constraints: every status, kind and outcome column accepts only its values

The values are written out here (a migration is a snapshot); storage/statuses.py holds the
enums the code uses, and tests/storage/test_statuses.py checks the two agree.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 09:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAYMENT_KINDS = ("bill", "loan_instalment")
PAYMENT_OUTCOMES = ("on_time", "late", "missed")

CHECKS: dict[tuple[str, str], tuple[str, ...]] = {
    ("friendships", "status"): ("pending", "accepted", "declined", "removed", "blocked"),
    ("friend_requests", "via"): ("contacts", "link", "invite"),
    ("payment_events", "kind"): PAYMENT_KINDS,
    ("payment_events", "outcome"): PAYMENT_OUTCOMES,
    ("held_payment_events", "kind"): PAYMENT_KINDS,
    ("held_payment_events", "outcome"): PAYMENT_OUTCOMES,
    ("outbox", "status"): (
        "pending",
        "sending",
        "sent",
        "failed",
        "unreachable",
        "cancelled",
        "uncertain",
    ),
    ("loans", "status"): ("active", "repaid", "defaulted"),
    ("reminders", "outcome"): (
        "queued",
        "skipped_stale",
        "skipped_opted_out",
        "skipped_unreachable",
    ),
    ("promotions", "status"): ("scheduled", "sending", "cancelled", "expired"),
    ("promotions", "voucher_kind"): ("none", "shared", "unique"),
    ("access_requests", "status"): ("pending", "allowed", "denied", "used", "expired"),
    ("disputes", "kind"): ("dimension", "event", "decision"),
    ("disputes", "status"): ("open", "upheld", "rejected"),
}


def _by_table() -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    tables: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for (table, column), values in CHECKS.items():
        tables.setdefault(table, []).append((column, values))
    return tables


def upgrade() -> None:
    # Batch mode: SQLite can only add a constraint by copying the table; PostgreSQL alters it.
    for table, columns in _by_table().items():
        with op.batch_alter_table(table) as batch:
            for column, values in columns:
                listed = ", ".join(f"'{value}'" for value in values)
                batch.create_check_constraint(
                    f"ck_{table}_{column}_values", f"{column} IN ({listed})"
                )


def downgrade() -> None:
    for table, columns in _by_table().items():
        with op.batch_alter_table(table) as batch:
            for column, _ in columns:
                batch.drop_constraint(f"ck_{table}_{column}_values", type_="check")
