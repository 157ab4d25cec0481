"""payment plan requests: "I can't pay this" asks for a payment plan

- payment_plan_requests: the borrower, the loan and the instalment the button was on, its status
  (open, agreed, declined), when it was made and decided, the reviewer and their note; at most
  one open request per loan (a partial unique index). While a loan has an open or agreed
  request its reminders pause and no late fee is added.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A snapshot of the enum (storage/statuses.py), checked by tests/storage/test_statuses.py.
CHECKS: dict[tuple[str, str], tuple[str, ...]] = {
    ("payment_plan_requests", "status"): ("open", "agreed", "declined"),
}
OPEN_ONLY = sa.text("status = 'open'")


def upgrade() -> None:
    listed = ", ".join(f"'{value}'" for value in CHECKS[("payment_plan_requests", "status")])
    op.create_table(
        "payment_plan_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("instalment_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewer_telegram_id", sa.BigInteger(), nullable=True),
        sa.Column("reviewer_note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name="fk_payment_plan_requests_citizen_id_citizens",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"],
            ["loans.id"],
            name="fk_payment_plan_requests_loan_id_loans",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["instalment_id"],
            ["instalments.id"],
            name="fk_payment_plan_requests_instalment_id_instalments",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_payment_plan_requests"),
        sa.CheckConstraint(
            f"status IN ({listed})", name="ck_payment_plan_requests_status_values"
        ),
    )
    op.create_index(
        "ix_payment_plan_requests_citizen_id", "payment_plan_requests", ["citizen_id"]
    )
    op.create_index(
        "uq_payment_plan_requests_open_loan",
        "payment_plan_requests",
        ["loan_id"],
        unique=True,
        sqlite_where=OPEN_ONLY,
        postgresql_where=OPEN_ONLY,
    )


def downgrade() -> None:
    op.drop_index("uq_payment_plan_requests_open_loan", table_name="payment_plan_requests")
    op.drop_index("ix_payment_plan_requests_citizen_id", table_name="payment_plan_requests")
    op.drop_table("payment_plan_requests")
