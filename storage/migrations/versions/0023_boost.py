"""boost: rent and council tax, reported by the landlord, agent or council a citizen invited

- payment kinds "rent" and "council_tax" (payment_events, held_payment_events);
- boost_partners: partners that signed up through a citizen's invitation (restricted);
- boost_invites: one-time sign-up links (hashed token, expiry, single use);
- boost_links: which citizens a Boost partner may report about;
- boost_reviews: a Boost partner's late or missed payment, waiting for the citizen.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAYMENT_KINDS = ("bill", "loan_instalment", "rent", "council_tax")
OLD_PAYMENT_KINDS = ("bill", "loan_instalment")
# A snapshot of the enums (storage/statuses.py), checked by tests/storage/test_statuses.py;
# the kinds replace migration 0011's lists.
CHECKS: dict[tuple[str, str], tuple[str, ...]] = {
    ("payment_events", "kind"): PAYMENT_KINDS,
    ("held_payment_events", "kind"): PAYMENT_KINDS,
    ("boost_reviews", "status"): ("pending", "confirmed", "disputed"),
}


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def _kinds(values: tuple[str, ...]) -> None:
    for table in ("payment_events", "held_payment_events"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"ck_{table}_kind_values", type_="check")
            batch.create_check_constraint(f"ck_{table}_kind_values", f"kind IN ({_listed(values)})")


def upgrade() -> None:
    _kinds(PAYMENT_KINDS)
    op.create_table(
        "boost_partners",
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name="fk_boost_partners_partner_id_partners",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("partner_id", name="pk_boost_partners"),
    )
    op.create_table(
        "boost_invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name="fk_boost_invites_citizen_id_citizens",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name="fk_boost_invites_partner_id_partners",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_boost_invites"),
        sa.UniqueConstraint("token_hash", name="uq_boost_invites_token_hash"),
    )
    op.create_index("ix_boost_invites_citizen_id", "boost_invites", ["citizen_id"])
    op.create_table(
        "boost_links",
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name="fk_boost_links_partner_id_partners",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name="fk_boost_links_citizen_id_citizens",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("partner_id", "citizen_id", name="pk_boost_links"),
    )
    op.create_index("ix_boost_links_citizen_id", "boost_links", ["citizen_id"])
    op.create_table(
        "boost_reviews",
        sa.Column("payment_event_id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("counts_from", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["payment_event_id"],
            ["payment_events.id"],
            name="fk_boost_reviews_payment_event_id_payment_events",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name="fk_boost_reviews_citizen_id_citizens",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("payment_event_id", name="pk_boost_reviews"),
        sa.CheckConstraint(
            f"status IN ({_listed(CHECKS[('boost_reviews', 'status')])})",
            name="ck_boost_reviews_status_values",
        ),
    )
    op.create_index("ix_boost_reviews_citizen_id", "boost_reviews", ["citizen_id"])


def downgrade() -> None:
    op.drop_index("ix_boost_reviews_citizen_id", table_name="boost_reviews")
    op.drop_table("boost_reviews")
    op.drop_index("ix_boost_links_citizen_id", table_name="boost_links")
    op.drop_table("boost_links")
    op.drop_index("ix_boost_invites_citizen_id", table_name="boost_invites")
    op.drop_table("boost_invites")
    op.drop_table("boost_partners")
    # Rent and council tax events would break the old constraint: they go first.
    for table in ("payment_events", "held_payment_events"):
        op.execute(
            sa.text(f"DELETE FROM {table} WHERE kind NOT IN ({_listed(OLD_PAYMENT_KINDS)})")
        )
    _kinds(OLD_PAYMENT_KINDS)
