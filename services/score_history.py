"""How long score history lasts, and what a pass that changed nothing means for a score's date.

The rule (documented in the README, "Score history"):

- The nightly pass records a history row when a person's score or any dimension's points
  changed, and otherwise at least once every HISTORY_AT_LEAST_EVERY_DAYS, so a chart always
  reaches the last week. (Before, every pass wrote a row for everyone: 420 GB a year at 10M.)
- History is kept for HISTORY_KEEP_MONTHS whole months before the current one; older months are
  deleted by the housekeeping job. On PostgreSQL the table is partitioned by month, so that is a
  DROP of the month's partition, and the job also creates partitions MONTHS_AHEAD ahead.
  The charts and the data export show everything the rule keeps.
- Erasure deletes a person's history at once (it is not an adverse record: services.retention).

A scores row the pass left alone was confirmed by it: its effective "as of" day and time are the
newest finished pass's (effective_stamp), so /score, /why and partners see when it was checked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime

from services.clock import Clock, as_aware_utc
from storage.db import Database
from storage.repositories import score_history as repo
from storage.repositories.score_history import PassStamp, month_start

logger = logging.getLogger(__name__)

HISTORY_AT_LEAST_EVERY_DAYS = 7
HISTORY_KEEP_MONTHS = 24
MONTHS_AHEAD = 2


def retention_cutoff(now: datetime) -> datetime:
    """History before this instant is past the rule: the first day of the month
    HISTORY_KEEP_MONTHS before the current one (UTC)."""
    first = month_start(now.astimezone(UTC).date(), -HISTORY_KEEP_MONTHS)
    return datetime(first.year, first.month, 1, tzinfo=UTC)


def effective_stamp(
    as_of: date | None, computed_at: datetime, latest: PassStamp | None
) -> tuple[date | None, datetime]:
    """A scored row's (as_of, computed_at), moved up to the newest finished pass when that
    pass is later: it recomputed the row and found nothing to change. A starting score (as_of
    None) was never scored and stays as it is."""
    computed_at = as_aware_utc(computed_at)
    if as_of is None or latest is None or latest.as_of <= as_of:
        return as_of, computed_at
    return latest.as_of, max(computed_at, as_aware_utc(latest.computed_at))


@dataclass(frozen=True)
class HistoryUpkeep:
    partitions_added: int
    partitions_dropped: int
    rows_deleted: int


class ScoreHistoryService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def latest_pass(self) -> PassStamp | None:
        async with self._db.autocommit() as session:
            return await repo.latest_finished_pass(session)

    async def upkeep(self) -> HistoryUpkeep:
        """Apply the retention rule and (PostgreSQL) keep partitions ready ahead."""
        now = self._clock().astimezone(UTC)
        cutoff = retention_cutoff(now)
        added = dropped = deleted = 0
        async with self._db.transaction() as session:
            if not self._db.is_sqlite:
                months = set(await repo.partition_months(session))
                this_month = month_start(now.date())
                for ahead in range(MONTHS_AHEAD + 1):
                    month = month_start(this_month, ahead)
                    if month not in months:
                        await repo.add_partition(session, month)
                        added += 1
                for month in sorted(months):
                    if month_start(month, 1) <= cutoff.date():
                        deleted += await repo.drop_partition(session, month)
                        dropped += 1
            deleted += await repo.delete_before(session, cutoff)
        if added or dropped or deleted:
            logger.info(
                "score history: %d partitions added, %d dropped, %d rows past the rule deleted",
                added, dropped, deleted,
            )  # fmt: skip
        return HistoryUpkeep(added, dropped, deleted)
