"""Promotion fan-out and expiry: due promotions become outbox rows, past ones stop.

Fan-out of one promotion is one transaction of three statements:

1. ``UPDATE promotions SET status = 'sending' WHERE id = ? AND status = 'scheduled'``: the
   transition is the claim. A second run (a retry, a restart, another instance) finds the status
   already moved and does nothing; on PostgreSQL it waits for the row lock and then sees that.
2. ``INSERT INTO outbox (...) SELECT ... FROM citizens [JOIN scores] WHERE <audience>`` with the
   message text and keyboard as constants: one row per recipient, built by the database, so
   100,000 recipients never pass through Python and memory stays flat. The unique
   (promotion_id, citizen_id) pair is the last line of defence against a double fan-out.
3. ``UPDATE promotions SET targeted = <rows inserted>``: the count the sponsor sees is the
   number actually queued.

The statements are storage.repositories' (promotions, outbox); this module runs them in order,
in one transaction. A crash before the commit leaves nothing behind (the promotion is still
scheduled and the next tick does it again); after it, the dispatcher owns delivery.

Expiry: promotions past ``expires_at`` become ``expired`` and their still-pending rows are
cancelled (last_error "expired"); rows already in flight finish normally.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from services.clock import Clock, as_aware_utc
from services.promotion_messages import (
    PROMOTION_KIND,
    PROMOTION_PRIORITY,
    promotion_markup,
    promotion_text,
)
from services.promotions import promotion_audience
from storage.db import Database
from storage.repositories import outbox, promotions
from storage.statuses import VoucherKind
from texts.i18n import ENGLISH, WELSH, worded_in

logger = logging.getLogger(__name__)


@dataclass
class FanoutSummary:
    expired: list[int] = field(default_factory=list)
    fanned_out: dict[int, int] = field(default_factory=dict)  # promotion id -> rows queued


class PromotionFanout:
    """Run ``run_once`` on a tick (and right after a promotion starting now is created)."""

    def __init__(self, db: Database, clock: Clock, timezone: ZoneInfo) -> None:
        self._db = db
        self._clock = clock
        self._timezone = timezone

    async def run_once(self) -> FanoutSummary:
        summary = FanoutSummary(expired=await self.expire_due())
        now = self._clock()
        async with self._db.transaction() as session:
            due = await promotions.due_ids(session, now)
        for promotion_id in due:
            queued = await self.fan_out(promotion_id)
            if queued is not None:
                summary.fanned_out[promotion_id] = queued
        return summary

    async def fan_out(self, promotion_id: int) -> int | None:
        """Queue one promotion to its audience; the rows queued, or None if it was not due
        (already fanned out, cancelled, expired or not started)."""
        started = time.perf_counter()
        now = self._clock()
        async with self._db.transaction() as session:
            if not await promotions.claim_for_fan_out(session, promotion_id, now):
                return None
            promotion, sponsor_name = await promotions.with_sponsor_name(session, promotion_id)
            has_voucher = promotion.voucher_kind != VoucherKind.NONE

            def framed(language: str) -> tuple[str, dict[str, Any]]:
                # The sponsor's own words as written; Britizen's frame in the reader's language.
                text = worded_in(
                    language,
                    promotion_text,
                    sponsor_name,
                    promotion.title,
                    promotion.text,
                    as_aware_utc(promotion.expires_at),
                    self._timezone,
                    has_voucher=has_voucher,
                    button_url=promotion.button_url,
                )
                buttons = worded_in(
                    language,
                    promotion_markup,
                    promotion.id,
                    button_label=promotion.button_label,
                    button_url=promotion.button_url,
                    has_voucher=has_voucher,
                )
                return text, buttons

            message, markup = framed(ENGLISH)
            queued = await outbox.enqueue_audience(
                session,
                partial(promotion_audience, promotion),
                kind=PROMOTION_KIND,
                priority=PROMOTION_PRIORITY,
                text=message,
                markup=markup,
                now=now,
                promotion_id=promotion.id,
                by_language={WELSH: framed(WELSH)},
            )
            await promotions.set_targeted(session, promotion_id, queued)
        logger.info(
            "promotion %d fanned out: %d recipients queued in %.2f s",
            promotion_id,
            queued,
            time.perf_counter() - started,
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
