"""send seats: the bot's rolling second as one row per seat, shared by every instance

Replaces the send_budgets token bucket, which held the rate on average but let a rolling
second carry up to twice it (issue 21). send_budgets stays for one release, for instances of
the previous version still running during a rolling deploy.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 01:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "send_seats",
        sa.Column("bot_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seat", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("released_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("bot_id", "seat", name=op.f("pk_send_seats")),
    )


def downgrade() -> None:
    op.drop_table("send_seats")
