"""event batches: a partner's request about one person, held for review when implausible

- event_batches: one partner request's events about one person (counted, held, released);
- payment_events.batch_id and held_payment_events.batch_id: the batch each event came in;
- disputes.batch_id, and "batch" as a dispute kind: a citizen contests a whole batch at once.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A snapshot of the enums (storage/statuses.py), checked by tests/storage/test_statuses.py.
# ("disputes", "kind") replaces migration 0011's list.
CHECKS: dict[tuple[str, str], tuple[str, ...]] = {
    ("event_batches", "status"): ("counted", "held", "released"),
    ("disputes", "kind"): ("dimension", "event", "decision", "batch"),
}
OLD_DISPUTE_KINDS = ("dimension", "event", "decision")


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def upgrade() -> None:
    op.create_table(
        "event_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name="fk_event_batches_citizen_id_citizens",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_event_batches"),
        sa.CheckConstraint(
            f"status IN ({_listed(CHECKS[('event_batches', 'status')])})",
            name="ck_event_batches_status_values",
        ),
    )
    op.create_index("ix_event_batches_citizen_id", "event_batches", ["citizen_id"])
    op.create_index("ix_event_batches_status", "event_batches", ["status", "received_at"])
    with op.batch_alter_table("payment_events") as batch:
        batch.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_payment_events_batch_id_event_batches",
            "event_batches",
            ["batch_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_payment_events_batch", ["batch_id"])
    with op.batch_alter_table("held_payment_events") as batch:
        batch.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_held_payment_events_batch_id_event_batches",
            "event_batches",
            ["batch_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_held_payment_events_batch_id", ["batch_id"])
    with op.batch_alter_table("disputes") as batch:
        batch.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_disputes_batch_id_event_batches",
            "event_batches",
            ["batch_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.drop_constraint("ck_disputes_kind_values", type_="check")
        batch.create_check_constraint(
            "ck_disputes_kind_values", f"kind IN ({_listed(CHECKS[('disputes', 'kind')])})"
        )


def downgrade() -> None:
    with op.batch_alter_table("disputes") as batch:
        batch.drop_constraint("ck_disputes_kind_values", type_="check")
        batch.create_check_constraint(
            "ck_disputes_kind_values", f"kind IN ({_listed(OLD_DISPUTE_KINDS)})"
        )
        batch.drop_constraint("fk_disputes_batch_id_event_batches", type_="foreignkey")
        batch.drop_column("batch_id")
    with op.batch_alter_table("held_payment_events") as batch:
        batch.drop_index("ix_held_payment_events_batch_id")
        batch.drop_constraint("fk_held_payment_events_batch_id_event_batches", type_="foreignkey")
        batch.drop_column("batch_id")
    with op.batch_alter_table("payment_events") as batch:
        batch.drop_index("ix_payment_events_batch")
        batch.drop_constraint("fk_payment_events_batch_id_event_batches", type_="foreignkey")
        batch.drop_column("batch_id")
    op.drop_index("ix_event_batches_status", table_name="event_batches")
    op.drop_index("ix_event_batches_citizen_id", table_name="event_batches")
    op.drop_table("event_batches")
