"""operator growth: operators (API clients for the growth report), invite-link counters and
an index on citizens (postcode_district, registered_at) for the report

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("api_key_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operators")),
        sa.UniqueConstraint("api_key_hash", name=op.f("uq_operators_api_key_hash")),
        sa.UniqueConstraint("name", name=op.f("uq_operators_name")),
    )
    op.create_index(
        "ix_citizens_district_registered", "citizens", ["postcode_district", "registered_at"]
    )
    with op.batch_alter_table("invite_codes") as batch:
        batch.add_column(
            sa.Column("opened_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("last_opened_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("registered_count", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("invite_codes") as batch:
        batch.drop_column("registered_count")
        batch.drop_column("last_opened_at")
        batch.drop_column("opened_count")
    op.drop_index("ix_citizens_district_registered", table_name="citizens")
    op.drop_table("operators")
