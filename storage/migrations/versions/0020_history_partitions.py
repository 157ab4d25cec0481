"""score history that lasts: monthly partitions on PostgreSQL, a row only on change or weekly,
and a record of each scoring pass for its resumable write

- scores.history_on: the day of the person's newest history row;
- scoring_runs: one row per pass (as_of, how far its chunked write got, when it finished);
- PostgreSQL: score_history becomes a table partitioned by month of computed_at (primary key
  (id, computed_at), id 64-bit), with a partition per month from the oldest row to two months
  ahead and a default partition so an insert never fails; services/score_history.py keeps
  creating months ahead and drops months past the retention rule.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 21:40:00
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONTHS_AHEAD = 2


def _month_start(day: date, plus: int = 0) -> date:
    months = day.year * 12 + day.month - 1 + plus
    return date(months // 12, months % 12 + 1, 1)


def _partition_pg() -> None:
    bind = op.get_bind()
    oldest = bind.execute(sa.text("SELECT MIN(computed_at) FROM score_history")).scalar()
    today = datetime.now(UTC).date()
    first = _month_start(oldest.astimezone(UTC).date() if oldest else today)
    last = _month_start(today, MONTHS_AHEAD)
    op.execute("ALTER TABLE score_history RENAME TO score_history_unpartitioned")
    op.execute("ALTER INDEX ix_score_history_citizen_time RENAME TO ix_score_history_unpart")
    op.execute(
        "ALTER TABLE score_history_unpartitioned "
        "RENAME CONSTRAINT pk_score_history TO pk_score_history_unpart"
    )
    op.execute(
        "ALTER TABLE score_history_unpartitioned "
        "RENAME CONSTRAINT fk_score_history_citizen_id_citizens TO fk_score_history_unpart"
    )
    # Keep the id sequence (ids stay unique across the copy), widened to 64 bits.
    op.execute("ALTER SEQUENCE score_history_id_seq OWNED BY NONE")
    op.execute("ALTER SEQUENCE score_history_id_seq AS BIGINT")
    op.execute(
        """CREATE TABLE score_history (
            id BIGINT NOT NULL DEFAULT nextval('score_history_id_seq'),
            citizen_id INTEGER NOT NULL,
            score INTEGER NOT NULL,
            band VARCHAR(16) NOT NULL,
            computed_at TIMESTAMP WITH TIME ZONE NOT NULL,
            CONSTRAINT pk_score_history PRIMARY KEY (id, computed_at),
            CONSTRAINT fk_score_history_citizen_id_citizens FOREIGN KEY (citizen_id)
                REFERENCES citizens (id) ON DELETE CASCADE
        ) PARTITION BY RANGE (computed_at)"""
    )
    op.execute("ALTER SEQUENCE score_history_id_seq OWNED BY score_history.id")
    month = first
    while month <= last:
        following = _month_start(month, 1)
        op.execute(
            f"CREATE TABLE score_history_y{month.year}m{month.month:02d} "
            f"PARTITION OF score_history FOR VALUES FROM ('{month.isoformat()} 00:00:00+00') "
            f"TO ('{following.isoformat()} 00:00:00+00')"
        )
        month = following
    op.execute("CREATE TABLE score_history_default PARTITION OF score_history DEFAULT")
    op.execute(
        "INSERT INTO score_history (id, citizen_id, score, band, computed_at) "
        "SELECT id, citizen_id, score, band, computed_at FROM score_history_unpartitioned"
    )
    op.execute("DROP TABLE score_history_unpartitioned")
    op.create_index("ix_score_history_citizen_time", "score_history", ["citizen_id", "computed_at"])


def _unpartition_pg() -> None:
    op.execute("ALTER TABLE score_history RENAME TO score_history_partitioned")
    op.execute("ALTER INDEX ix_score_history_citizen_time RENAME TO ix_score_history_part")
    op.execute(
        "ALTER TABLE score_history_partitioned "
        "RENAME CONSTRAINT pk_score_history TO pk_score_history_part"
    )
    op.execute(
        "ALTER TABLE score_history_partitioned "
        "RENAME CONSTRAINT fk_score_history_citizen_id_citizens TO fk_score_history_part"
    )
    op.execute("ALTER SEQUENCE score_history_id_seq OWNED BY NONE")
    op.execute(
        """CREATE TABLE score_history (
            id INTEGER NOT NULL DEFAULT nextval('score_history_id_seq'),
            citizen_id INTEGER NOT NULL,
            score INTEGER NOT NULL,
            band VARCHAR(16) NOT NULL,
            computed_at TIMESTAMP WITH TIME ZONE NOT NULL,
            CONSTRAINT pk_score_history PRIMARY KEY (id),
            CONSTRAINT fk_score_history_citizen_id_citizens FOREIGN KEY (citizen_id)
                REFERENCES citizens (id) ON DELETE CASCADE
        )"""
    )
    op.execute(
        "INSERT INTO score_history (id, citizen_id, score, band, computed_at) "
        "SELECT id, citizen_id, score, band, computed_at FROM score_history_partitioned"
    )
    op.execute("DROP TABLE score_history_partitioned")
    op.execute("ALTER SEQUENCE score_history_id_seq AS INTEGER")
    op.execute("ALTER SEQUENCE score_history_id_seq OWNED BY score_history.id")
    op.create_index("ix_score_history_citizen_time", "score_history", ["citizen_id", "computed_at"])


def upgrade() -> None:
    with op.batch_alter_table("scores") as batch:
        batch.add_column(sa.Column("history_on", sa.Date(), nullable=True))
    op.create_table(
        "scoring_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("written_through", sa.BigInteger(), nullable=False),
        sa.Column("users", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_scoring_runs"),
    )
    if op.get_bind().dialect.name == "postgresql":
        _partition_pg()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _unpartition_pg()
    op.drop_table("scoring_runs")
    with op.batch_alter_table("scores") as batch:
        batch.drop_column("history_on")
