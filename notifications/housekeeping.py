"""Keeping the outbox small: finished rows are deleted after a documented period.

- sent rows after BRITIZEN_OUTBOX_KEEP_SENT_DAYS (7 by default): long enough for a sponsor's
  per-minute chart of a recent broadcast and for support to see what went out last week;
- rows that ended any other way (failed, unreachable, uncertain, cancelled) after
  BRITIZEN_OUTBOX_KEEP_FAILED_DAYS (30 by default), counted from when they were queued:
  they are what someone investigates, so they stay longer.

A promotion's counts survive its rows: each batch's DELETE ... RETURNING says which
promotion and status every deleted row had, and the same transaction adds those to the
promotion's ``pruned_*`` counters, so the sponsor's sent / failed / … figures
(services.promotions) are the counters plus the rows still there, before and after. Batches
of `batch` rows, each its own transaction, so a prune of millions never holds one long lock.
The hourly housekeeping job (bot/service.py) runs it.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

from services.clock import Clock
from storage.db import Database
from storage.repositories import outbox, promotions

logger = logging.getLogger(__name__)

KEEP_SENT_DAYS = 7
KEEP_FAILED_DAYS = 30
PRUNE_BATCH = 10_000


class OutboxPruner:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        keep_sent_days: float = KEEP_SENT_DAYS,
        keep_failed_days: float = KEEP_FAILED_DAYS,
        batch: int = PRUNE_BATCH,
    ) -> None:
        self._db = db
        self._clock = clock
        self.keep_sent = timedelta(days=keep_sent_days)
        self.keep_failed = timedelta(days=keep_failed_days)
        self.batch = max(1, batch)

    async def prune(self) -> int:
        """Delete every finished row past its period; the number deleted."""
        now = self._clock()
        total = 0
        while True:
            async with self._db.transaction() as session:
                deleted = await outbox.prune_batch(
                    session,
                    sent_before=now - self.keep_sent,
                    failed_before=now - self.keep_failed,
                    limit=self.batch,
                )
                counts = Counter((pid, status) for pid, status in deleted if pid is not None)
                await promotions.add_pruned(session, dict(counts))
            total += len(deleted)
            if len(deleted) < self.batch:
                break
            logger.info("outbox pruning: %d rows deleted so far", total)
        if total:
            logger.info("outbox pruning: %d finished rows deleted", total)
        return total
