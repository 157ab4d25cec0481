"""retained records and partner blocks: what an erasure keeps, and who may not ask again

- retained_records: an erased account's late and missed payment records, by NI hash, kept six
  years from each event (restored if the person rejoins);
- partner_blocks: a citizen's "never ask me again" for a partner.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "retained_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ni_hash", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("keep_until", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_retained_records"),
    )
    op.create_index("ix_retained_records_ni_hash", "retained_records", ["ni_hash"])
    op.create_index("ix_retained_records_keep_until", "retained_records", ["keep_until"])
    op.create_table(
        "partner_blocks",
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name="fk_partner_blocks_citizen_id_citizens",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name="fk_partner_blocks_partner_id_partners",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("citizen_id", "partner_id", name="pk_partner_blocks"),
    )


def downgrade() -> None:
    op.drop_table("partner_blocks")
    op.drop_index("ix_retained_records_keep_until", table_name="retained_records")
    op.drop_index("ix_retained_records_ni_hash", table_name="retained_records")
    op.drop_table("retained_records")
