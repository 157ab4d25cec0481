"""NI-number claims: "someone registered with my NI number"

- ni_claims: the number's keyed hash (never the number), the claimant (Telegram id, chat,
  name), the account that held the number, an encrypted contact and an optional encrypted
  document photo (deleted after review), the holder's statement, status (open, moved,
  rejected), the decision and the reviewer's note; at most one open claim per NI hash (a
  partial unique index). An open claim freezes the holder's borrowing and sharing.
- ni_claim_events: each step, logged for the person it concerns (exported by /mydata).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A snapshot of the enum (storage/statuses.py), checked by tests/storage/test_statuses.py.
CHECKS: dict[tuple[str, str], tuple[str, ...]] = {
    ("ni_claims", "status"): ("open", "moved", "rejected"),
}
OPEN_ONLY = sa.text("status = 'open'")


def upgrade() -> None:
    listed = ", ".join(f"'{value}'" for value in CHECKS[("ni_claims", "status")])
    op.create_table(
        "ni_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ni_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimant_telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("claimant_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("claimant_name", sa.String(length=64), nullable=False),
        sa.Column("holder_citizen_id", sa.Integer(), nullable=True),
        sa.Column("holder_telegram_id", sa.BigInteger(), nullable=True),
        sa.Column("contact_kind", sa.String(length=8), nullable=True),
        sa.Column("contact_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("document_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("document_mime", sa.String(length=64), nullable=True),
        sa.Column("holder_statement", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewer_telegram_id", sa.BigInteger(), nullable=True),
        sa.Column("reviewer_note", sa.String(length=500), nullable=True),
        sa.Column("document_deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["holder_citizen_id"],
            ["citizens.id"],
            name="fk_ni_claims_holder_citizen_id_citizens",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_ni_claims"),
        sa.CheckConstraint(f"status IN ({listed})", name="ck_ni_claims_status_values"),
    )
    op.create_index("ix_ni_claims_claimant_telegram_id", "ni_claims", ["claimant_telegram_id"])
    op.create_index("ix_ni_claims_holder_citizen_id", "ni_claims", ["holder_citizen_id"])
    op.create_index(
        "uq_ni_claims_open_ni_hash",
        "ni_claims",
        ["ni_hash"],
        unique=True,
        sqlite_where=OPEN_ONLY,
        postgresql_where=OPEN_ONLY,
    )
    op.create_table(
        "ni_claim_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["ni_claims.id"],
            name="fk_ni_claim_events_claim_id_ni_claims",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_ni_claim_events"),
    )
    op.create_index("ix_ni_claim_events_telegram_id", "ni_claim_events", ["telegram_id"])


def downgrade() -> None:
    op.drop_index("ix_ni_claim_events_telegram_id", table_name="ni_claim_events")
    op.drop_table("ni_claim_events")
    op.drop_index("uq_ni_claims_open_ni_hash", table_name="ni_claims")
    op.drop_index("ix_ni_claims_holder_citizen_id", table_name="ni_claims")
    op.drop_index("ix_ni_claims_claimant_telegram_id", table_name="ni_claims")
    op.drop_table("ni_claims")
