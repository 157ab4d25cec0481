"""Promotion fan-out and expiry: due promotions become outbox rows, past ones stop.

The fan-out of one promotion is a claim, then chunks of citizen ids, each its own transaction:

1. ``UPDATE promotions SET status = 'sending', fanout_cursor = 0 WHERE id = ? AND status =
   'scheduled'``: the transition is the claim. A second run (a retry, a restart, another
   instance) finds the status already moved; on PostgreSQL it waits for the row lock and then
   sees that.
2. Per chunk (BRITIZEN_FANOUT_CHUNK citizen ids, 50,000 by default), in one transaction:
   ``UPDATE promotions SET fanout_cursor = <hi> WHERE id = ? AND fanout_cursor = <lo> AND
   status = 'sending'`` (the chunk's claim: nobody else can queue the same range, and a cancel
   or expiry stops the next chunk), then ``INSERT INTO outbox (...) SELECT ... FROM citizens
   WHERE id > <lo> AND id <= <hi> AND <audience>`` (rows built by the database, carrying no
   text: the dispatcher renders them from the promotion), then ``targeted += <rows>``. The
   last chunk also sets ``fanout_finished_at``.

A crash between chunks leaves the cursor at the last committed chunk: the next tick (on any
instance) finds the promotion sending and unfinished and carries on from there. A crash inside
a chunk rolls that chunk back whole. So nobody is skipped and nobody queued twice; the unique
(promotion_id, citizen_id) pair is the last line of defence. Each commit is small, so a fan-out
to millions never holds one long transaction (or its locks, or its WAL) open.

Expiry: promotions past ``expires_at`` become ``expired`` and their still-pending rows are
cancelled (last_error "expired"); rows already in flight finish normally.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from zoneinfo import ZoneInfo

from services.clock import Clock
from services.promotion_messages import (
    PAID_PROMOTION_PRIORITY,
    PROMOTION_KIND,
    PROMOTION_PRIORITY,
)
from services.promotions import promotion_audience_chunk
from storage.db import Database
from storage.repositories import outbox, promotions

logger = logging.getLogger(__name__)

FANOUT_CHUNK = 50_000
PROGRESS_EVERY_SECONDS = 5.0

# Called inside each chunk's transaction just before it commits, with the chunk's number
# (0, 1, …): raising there rolls the chunk back, which is how tests crash a fan-out midway.
ChunkHook = Callable[[int], Awaitable[None]]


@dataclass
class FanoutSummary:
    expired: list[int] = field(default_factory=list)
    fanned_out: dict[int, int] = field(default_factory=dict)  # promotion id -> rows queued


class PromotionFanout:
    """Run ``run_once`` on a tick (and right after a promotion starting now is created)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        timezone: ZoneInfo,
        *,
        chunk: int = FANOUT_CHUNK,
        chunk_hook: ChunkHook | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._timezone = timezone
        self.chunk = max(1, chunk)
        self._chunk_hook = chunk_hook

    async def run_once(self) -> FanoutSummary:
        summary = FanoutSummary(expired=await self.expire_due())
        now = self._clock()
        async with self._db.transaction() as session:
            unfinished = await promotions.unfinished_fan_out_ids(session, now)
            due = await promotions.due_ids(session, now)
        for promotion_id in unfinished:
            queued = await self.resume(promotion_id)
            if queued is not None:
                summary.fanned_out[promotion_id] = queued
        for promotion_id in due:
            queued = await self.fan_out(promotion_id)
            if queued is not None:
                summary.fanned_out[promotion_id] = queued
        return summary

    async def fan_out(self, promotion_id: int) -> int | None:
        """Queue one promotion to its audience; the rows queued (in all, counting chunks a
        previous run committed), or None if it was not due (already fanned out, cancelled,
        expired or not started)."""
        async with self._db.transaction() as session:
            if not await promotions.claim_for_fan_out(session, promotion_id, self._clock()):
                return None
        return await self.resume(promotion_id)

    async def resume(self, promotion_id: int) -> int | None:
        """Queue the chunks of a claimed promotion from its cursor on; None if it is not
        fanning out any more (finished by someone else, cancelled, expired)."""
        started = last_report = time.perf_counter()
        async with self._db.transaction() as session:
            highest = await promotions.highest_citizen_id(session)
        number = 0
        while True:
            now = self._clock()
            async with self._db.transaction() as session:
                state = await promotions.fan_out_cursor(session, promotion_id)
                if state is None:
                    return None
                cursor, queued = state
                promotion, _ = await promotions.with_sponsor_name(session, promotion_id)
                # Chunks start at the next citizen id: gaps in the ids cost no empty chunks.
                following = await promotions.next_citizen_id(session, cursor)
                start = cursor if following is None else max(cursor, following - 1)
                cap = promotion.audience_max_recipients
                room = None if cap is None else max(0, cap - queued)
                last = room == 0 or following is None or start + self.chunk >= highest
                upper = max(highest, cursor) if last else start + self.chunk
                if not await promotions.advance_fan_out(
                    session, promotion_id, cursor=cursor, to=upper, now=now
                ):
                    continue  # another run moved it (or it stopped): look again
                added = 0
                if room != 0:
                    added = await outbox.enqueue_audience(
                        session,
                        partial(promotion_audience_chunk, promotion, (cursor, upper), room),
                        kind=PROMOTION_KIND,
                        priority=(
                            PAID_PROMOTION_PRIORITY
                            if promotion.paid_broadcast
                            else PROMOTION_PRIORITY
                        ),
                        text=None,  # rendered from the promotion at send time
                        markup=None,
                        now=now,
                        promotion_id=promotion_id,
                    )
                finished = last or (room is not None and added >= room)
                await promotions.add_fanned_out(
                    session, promotion_id, added, finished_at=now if finished else None
                )
                if self._chunk_hook is not None:
                    await self._chunk_hook(number)
            number += 1
            queued += added
            if finished:
                break
            if time.perf_counter() - last_report >= PROGRESS_EVERY_SECONDS:
                last_report = time.perf_counter()
                logger.info(
                    "promotion %d fan-out: %d queued, citizen ids up to %d of %d (%.0f%%)",
                    promotion_id,
                    queued,
                    upper,
                    highest,
                    100.0 * upper / highest if highest else 100.0,
                )
        logger.info(
            "promotion %d fanned out: %d recipients queued in %.2f s (%d chunks this run)",
            promotion_id,
            queued,
            time.perf_counter() - started,
            number,
        )
        return queued

    async def expire_due(self) -> list[int]:
        """Mark promotions past their expiry expired and cancel what they still had queued."""
        now = self._clock()
        async with self._db.transaction() as session:
            expired = await promotions.expire_due(session, now)
            if expired:
                await outbox.cancel_pending(session, expired, "expired")
        for promotion_id in expired:
            logger.info("promotion %d expired: anything still queued was cancelled", promotion_id)
        return expired
