"""growth outreach on consent: the "Help Britizen grow" opt-in, ambassador invitations,
area campaigns and referral contests

- citizens.growth_opt_in: off unless the citizen opts in (/settings).
- growth_campaigns: each `britizen growth campaign` run (areas, text, recipients).
- referral_contests, contest_entries: time-bound contests and who joined (listed or not).
- growth_messages: each growth message queued for a person: the 30-day rule for ambassador
  invitations, and one message per person per campaign or contest result (unique pairs).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("citizens") as batch:
        batch.add_column(
            sa.Column("growth_opt_in", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "growth_campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("areas", sa.String(length=200), nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_growth_campaigns"),
    )
    op.create_table(
        "referral_contests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_referral_contests"),
    )
    op.create_table(
        "contest_entries",
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column("listed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("final_count", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["referral_contests.id"],
            name="fk_contest_entries_contest_id_referral_contests",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name="fk_contest_entries_citizen_id_citizens",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contest_id", "citizen_id", name="pk_contest_entries"),
    )
    op.create_index("ix_contest_entries_citizen_id", "contest_entries", ["citizen_id"])
    op.create_table(
        "growth_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("contest_id", sa.Integer(), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name="fk_growth_messages_citizen_id_citizens",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["growth_campaigns.id"],
            name="fk_growth_messages_campaign_id_growth_campaigns",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["referral_contests.id"],
            name="fk_growth_messages_contest_id_referral_contests",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_growth_messages"),
        sa.UniqueConstraint(
            "campaign_id", "citizen_id", name="uq_growth_messages_campaign_citizen"
        ),
        sa.UniqueConstraint("contest_id", "citizen_id", name="uq_growth_messages_contest_citizen"),
    )
    op.create_index(
        "ix_growth_messages_citizen_kind",
        "growth_messages",
        ["citizen_id", "kind", "queued_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_growth_messages_citizen_kind", table_name="growth_messages")
    op.drop_table("growth_messages")
    op.drop_index("ix_contest_entries_citizen_id", table_name="contest_entries")
    op.drop_table("contest_entries")
    op.drop_table("referral_contests")
    op.drop_table("growth_campaigns")
    with op.batch_alter_table("citizens") as batch:
        batch.drop_column("growth_opt_in")
