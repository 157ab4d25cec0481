"""live invoices and overpayments: one payable invoice per instalment, credit for money that
arrives twice

- instalments: credit_pence (paid towards it already), invoice_token and invoice_amount_pence
  (the one live invoice), checkout_until (an approved checkout holds off a second one);
- overpayments: money beyond what its instalment needed, once per charge, used for later
  instalments or listed for refund.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A snapshot of the enums (storage/statuses.py), checked by tests/storage/test_statuses.py.
CHECKS: dict[tuple[str, str], tuple[str, ...]] = {
    ("overpayments", "reason"): (
        "already_paid",
        "more_than_due",
        "not_the_borrower",
        "loan_closed",
        "unknown_invoice",
    ),
    ("overpayments", "refund_status"): ("none", "due", "refunded"),
}


def _check(column: str) -> sa.CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in CHECKS[("overpayments", column)])
    return sa.CheckConstraint(f"{column} IN ({listed})", name=f"ck_overpayments_{column}_values")


def upgrade() -> None:
    with op.batch_alter_table("instalments") as batch:
        batch.add_column(
            sa.Column("credit_pence", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("invoice_token", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("invoice_amount_pence", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("checkout_until", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "overpayments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("charge_id", sa.String(length=128), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=True),
        sa.Column("payer_telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("instalment_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("applied_pence", sa.Integer(), nullable=False),
        sa.Column("refund_pence", sa.Integer(), nullable=False),
        sa.Column("refund_status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name="fk_overpayments_citizen_id_citizens",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["instalment_id"],
            ["instalments.id"],
            name="fk_overpayments_instalment_id_instalments",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_overpayments"),
        sa.UniqueConstraint("charge_id", name="uq_overpayments_charge_id"),
        _check("reason"),
        _check("refund_status"),
    )
    op.create_index("ix_overpayments_citizen_id", "overpayments", ["citizen_id"])


def downgrade() -> None:
    op.drop_index("ix_overpayments_citizen_id", table_name="overpayments")
    op.drop_table("overpayments")
    with op.batch_alter_table("instalments") as batch:
        batch.drop_column("checkout_until")
        batch.drop_column("invoice_amount_pence")
        batch.drop_column("invoice_token")
        batch.drop_column("credit_pence")
