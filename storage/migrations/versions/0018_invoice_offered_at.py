"""invoice offered at: a payment button works only for a few minutes after it was tapped

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 19:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("instalments") as batch:
        batch.add_column(
            sa.Column("invoice_offered_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("instalments") as batch:
        batch.drop_column("invoice_offered_at")
