"""network roles: each citizen's estimated betweenness and role from the nightly pass

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scores") as batch:
        batch.add_column(sa.Column("betweenness", sa.Float(), nullable=True))
        batch.add_column(sa.Column("network_role", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scores") as batch:
        batch.drop_column("network_role")
        batch.drop_column("betweenness")
