"""entitlement checks: yes/no answers instead of the score (issue 20)

- share_codes.scope: what a /share code lets its holder learn, "checks" (one yes/no answer,
  the default, also for codes made before this) or "score" (the citizen chose to share it);
- access_requests.check_name / check_value: the one question a partner's request asks (NULL:
  the score itself), shown on the citizen's Allow prompt;
- score_accesses.check_name / check_value / answer: which question was asked and the answer,
  for the citizen's access log (NULL: the score was read).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A snapshot of the enums (storage/statuses.py), checked by tests/storage/test_statuses.py.
_CHECK_NAMES = ("band_at_least", "no_missed_payments_months", "verified_identity", "age_at_least")
CHECKS: dict[tuple[str, str], tuple[str, ...]] = {
    ("share_codes", "scope"): ("checks", "score"),
    ("access_requests", "check_name"): _CHECK_NAMES,
    ("score_accesses", "check_name"): _CHECK_NAMES,
}


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def upgrade() -> None:
    with op.batch_alter_table("share_codes") as batch:
        batch.add_column(
            sa.Column("scope", sa.String(length=16), nullable=False, server_default="checks")
        )
        batch.create_check_constraint(
            "ck_share_codes_scope_values", f"scope IN ({_listed(CHECKS[('share_codes', 'scope')])})"
        )
    for table in ("access_requests", "score_accesses"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("check_name", sa.String(length=32), nullable=True))
            batch.add_column(sa.Column("check_value", sa.String(length=16), nullable=True))
            if table == "score_accesses":
                batch.add_column(sa.Column("answer", sa.Boolean(), nullable=True))
            batch.create_check_constraint(
                f"ck_{table}_check_name_values",
                f"check_name IN ({_listed(CHECKS[(table, 'check_name')])})",
            )


def downgrade() -> None:
    for table in ("score_accesses", "access_requests"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"ck_{table}_check_name_values", type_="check")
            if table == "score_accesses":
                batch.drop_column("answer")
            batch.drop_column("check_value")
            batch.drop_column("check_name")
    with op.batch_alter_table("share_codes") as batch:
        batch.drop_constraint("ck_share_codes_scope_values", type_="check")
        batch.drop_column("scope")
