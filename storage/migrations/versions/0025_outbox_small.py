"""outbox that stays small: promotion rows reference their promotion's text, a resumable
chunked fan-out, counters kept when sent and failed rows are pruned, paid broadcasts

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTERS = ("pruned_sent", "pruned_failed", "pruned_unreachable", "pruned_uncertain", "pruned_cancelled")


def upgrade() -> None:
    with op.batch_alter_table("promotions") as batch:
        batch.add_column(
            sa.Column("paid_broadcast", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("fanout_cursor", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("fanout_finished_at", sa.DateTime(timezone=True), nullable=True))
        for name in _COUNTERS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    # Promotions fanned out before this revision did it in one transaction: they are complete.
    op.execute("UPDATE promotions SET fanout_finished_at = fanned_out_at WHERE fanned_out_at IS NOT NULL")
    # Promotion rows leave their text empty (it is the promotion's, rendered at send time).
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("text", existing_type=sa.String(4096), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE text IS NULL")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("text", existing_type=sa.String(4096), nullable=False)
    with op.batch_alter_table("promotions") as batch:
        for name in reversed(_COUNTERS):
            batch.drop_column(name)
        batch.drop_column("fanout_finished_at")
        batch.drop_column("fanout_cursor")
        batch.drop_column("paid_broadcast")
