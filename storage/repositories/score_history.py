"""Score history's storage: monthly partitions on PostgreSQL, deleting past the retention rule,
and the newest finished scoring pass (which confirms every row it left unchanged)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ScoreHistory, ScoringRun

PARTITION_NAME = re.compile(r"^score_history_y(\d{4})m(\d{2})$")


@dataclass(frozen=True)
class PassStamp:
    as_of: date
    computed_at: datetime


def month_start(day: date, plus: int = 0) -> date:
    months = day.year * 12 + day.month - 1 + plus
    return date(months // 12, months % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"score_history_y{month.year}m{month.month:02d}"


async def latest_finished_pass(session: AsyncSession) -> PassStamp | None:
    row = (
        await session.execute(
            select(ScoringRun.as_of, ScoringRun.computed_at)
            .where(ScoringRun.finished_at.is_not(None))
            .order_by(ScoringRun.id.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else PassStamp(row[0], row[1])


async def partition_months(session: AsyncSession) -> list[date]:
    """The months score_history has a partition for (PostgreSQL only), oldest first."""
    names = await session.scalars(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'score_history'::regclass"
        )
    )
    months = []
    for name in names:
        found = PARTITION_NAME.match(name)
        if found:
            months.append(date(int(found[1]), int(found[2]), 1))
    return sorted(months)


async def add_partition(session: AsyncSession, month: date) -> None:
    """A partition for `month`. Rows that landed in the default partition meanwhile (the job
    did not run for months) move into it first, or PostgreSQL would refuse to attach it."""
    name = partition_name(month)
    low = f"{month.isoformat()} 00:00:00+00"
    high = f"{month_start(month, 1).isoformat()} 00:00:00+00"
    await session.execute(
        text(f"CREATE TABLE {name} (LIKE score_history INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    )
    await session.execute(
        text(
            f"WITH moved AS (DELETE FROM score_history_default "
            f"WHERE computed_at >= '{low}' AND computed_at < '{high}' RETURNING *) "
            f"INSERT INTO {name} SELECT * FROM moved"
        )
    )
    await session.execute(
        text(
            f"ALTER TABLE score_history ATTACH PARTITION {name} "
            f"FOR VALUES FROM ('{low}') TO ('{high}')"
        )
    )


async def drop_partition(session: AsyncSession, month: date) -> int:
    """Drop a whole month (cheap: no row-by-row delete); returns how many rows it held."""
    name = partition_name(month)
    count = int(await session.scalar(text(f"SELECT COUNT(*) FROM {name}")) or 0)
    await session.execute(text(f"DROP TABLE {name}"))
    return count


async def delete_before(session: AsyncSession, cutoff: datetime) -> int:
    """Rows older than `cutoff` (SQLite, and PostgreSQL's default partition)."""
    result = await session.execute(delete(ScoreHistory).where(ScoreHistory.computed_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
