"""Exactly-once handling of Telegram updates across restarts and webhook retries."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError

from services.clock import Clock
from storage.db import Database
from storage.models import ProcessedUpdate

# Telegram keeps an unconfirmed update for 24 hours; a week of ids is ample to catch any redelivery.
KEEP_PROCESSED_FOR = timedelta(days=7)


class UpdateLedger:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def claim(self, update_id: int) -> bool:
        """True the first time an update id is seen, False for a redelivery."""
        # One INSERT on every update, so no BEGIN and COMMIT around it: the statement is atomic
        # by itself, and the primary key is what makes a redelivery lose.
        try:
            async with self._db.autocommit() as session:
                await session.execute(
                    insert(ProcessedUpdate).values(update_id=update_id, processed_at=self._clock())
                )
        except IntegrityError:
            return False
        return True

    async def prune(self, now: datetime | None = None) -> int:
        cutoff = (now or self._clock()) - KEEP_PROCESSED_FOR
        async with self._db.transaction() as session:
            result = await session.execute(
                delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < cutoff)
            )
            return int(getattr(result, "rowcount", 0) or 0)
