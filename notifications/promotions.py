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

A crash before the commit leaves nothing behind (the promotion is still scheduled and the next
tick does it again); after it, the dispatcher owns delivery.

Expiry: promotions past ``expires_at`` become ``expired`` and their still-pending rows are
cancelled (last_error "expired"); rows already in flight finish normally.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, BigInteger, DateTime, Integer, Select, String, insert, literal, select
from sqlalchemy import update as sql_update

from services.clock import Clock, as_aware_utc
from services.promotion_messages import (
    PROMOTION_KIND,
    PROMOTION_PRIORITY,
    promotion_markup,
    promotion_text,
)
from services.promotions import promotion_audience
from storage.db import Database
from storage.models import Citizen, OutboxMessage, Promotion, Sponsor

logger = logging.getLogger(__name__)

OUTBOX_COLUMNS = (
    "chat_id",
    "citizen_id",
    "kind",
    "priority",
    "text",
    "reply_markup",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
    "promotion_id",
)


@dataclass
class FanoutSummary:
    expired: list[int] = field(default_factory=list)
    fanned_out: dict[int, int] = field(default_factory=dict)  # promotion id -> rows queued


def outbox_rows(
    promotion: Promotion, *, text: str, markup: dict[str, Any], now: datetime
) -> Select[Any]:
    """The promotion's audience as outbox rows, in OUTBOX_COLUMNS order."""
    moment = DateTime(timezone=True)
    return promotion_audience(
        promotion,
        Citizen.chat_id,
        Citizen.id,
        literal(PROMOTION_KIND, String),
        literal(PROMOTION_PRIORITY, Integer),
        literal(text, String),
        literal(markup, JSON),
        literal("pending", String),
        literal(0, Integer),
        literal(now, moment),
        literal(now, moment),
        literal(promotion.id, BigInteger),
    )


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
            due = list(
                (
                    await session.scalars(
                        select(Promotion.id)
                        .where(
                            Promotion.status == "scheduled",
                            Promotion.starts_at <= now,
                            Promotion.expires_at > now,
                        )
                        .order_by(Promotion.starts_at, Promotion.id)
                    )
                ).all()
            )
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
            claimed = await session.execute(
                sql_update(Promotion)
                .where(
                    Promotion.id == promotion_id,
                    Promotion.status == "scheduled",
                    Promotion.starts_at <= now,
                    Promotion.expires_at > now,
                )
                .values(status="sending", fanned_out_at=now)
                .execution_options(synchronize_session=False)
            )
            if not getattr(claimed, "rowcount", 0):
                return None
            row = (
                await session.execute(
                    select(Promotion, Sponsor.name)
                    .join(Sponsor, Sponsor.id == Promotion.sponsor_id)
                    .where(Promotion.id == promotion_id)
                )
            ).one()
            promotion, sponsor_name = row[0], str(row[1])
            has_voucher = promotion.voucher_kind != "none"
            message = promotion_text(
                sponsor_name,
                promotion.title,
                promotion.text,
                as_aware_utc(promotion.expires_at),
                self._timezone,
                has_voucher=has_voucher,
            )
            markup = promotion_markup(
                promotion.id,
                button_label=promotion.button_label,
                button_url=promotion.button_url,
                has_voucher=has_voucher,
            )
            inserted = await session.execute(
                insert(OutboxMessage).from_select(
                    list(OUTBOX_COLUMNS),
                    outbox_rows(promotion, text=message, markup=markup, now=now),
                )
            )
            queued = int(getattr(inserted, "rowcount", 0) or 0)
            await session.execute(
                sql_update(Promotion)
                .where(Promotion.id == promotion_id)
                .values(targeted=queued)
                .execution_options(synchronize_session=False)
            )
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
            expired = list(
                (
                    await session.scalars(
                        sql_update(Promotion)
                        .where(
                            Promotion.status.in_(("scheduled", "sending")),
                            Promotion.expires_at <= now,
                        )
                        .values(status="expired")
                        .returning(Promotion.id)
                        .execution_options(synchronize_session=False)
                    )
                ).all()
            )
            if expired:
                await session.execute(
                    sql_update(OutboxMessage)
                    .where(
                        OutboxMessage.promotion_id.in_(expired),
                        OutboxMessage.status == "pending",
                    )
                    .values(status="cancelled", last_error="expired")
                    .execution_options(synchronize_session=False)
                )
        for promotion_id in expired:
            logger.info("promotion %d expired: anything still queued was cancelled", promotion_id)
        return expired
