"""NI check before borrowing: wrong tries in a row and the lock three of them put on borrowing

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 18:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("citizens") as batch:
        batch.add_column(
            sa.Column("ni_check_failures", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("borrowing_locked_until", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("citizens") as batch:
        batch.drop_column("borrowing_locked_until")
        batch.drop_column("ni_check_failures")
