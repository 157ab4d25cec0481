"""A promotion with N recipients, its outbox rows written in bulk: for the crash test and bench/.

This stands in for the real fan-out (notifications/promotions.py) and writes rows the way the
contract says it does: one outbox row per recipient, kind PROMOTION_KIND, priority
PROMOTION_PRIORITY, promotion_id and citizen_id set, text and keyboard from
services/promotion_messages.py, all in one ``INSERT ... SELECT``. Swap `fan_out` for the real
function once it lands; everything else here only makes the citizens, sponsor and promotion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, func, insert, literal, select

from services.promotion_messages import (
    PROMOTION_KIND,
    PROMOTION_PRIORITY,
    promotion_markup,
    promotion_text,
)
from storage.db import Database
from storage.models import Citizen, OutboxMessage, Promotion, Sponsor

FIRST_CHAT_ID = 5_000_000
CHUNK = 5_000


@dataclass(frozen=True)
class Broadcast:
    promotion_id: int
    recipients: int
    chat_ids: range


async def seed_broadcast(
    db: Database, recipients: int, *, now: datetime | None = None
) -> Broadcast:
    """Opted-in citizens, a sponsor and a promotion in `sending`, with its outbox rows queued."""
    now = now or datetime.now(UTC)
    chat_ids = range(FIRST_CHAT_ID, FIRST_CHAT_ID + recipients)
    async with db.transaction() as session:
        for start in range(0, recipients, CHUNK):
            await session.execute(
                insert(Citizen),
                [
                    {
                        "telegram_id": chat_id,
                        "chat_id": chat_id,
                        "display_name": f"Citizen {chat_id}",
                        "ni_hash": f"{chat_id:064x}",
                        "ni_masked": "QQ •• •• •• C",
                        "date_of_birth": date(1990, 1, 1),
                        "postcode_district": "SO17",
                        "registered_at": now,
                        "marketing_opt_in": True,
                        "marketing_asked_at": now,
                    }
                    for chat_id in chat_ids[start : start + CHUNK]
                ],
            )
        sponsor = Sponsor(name="Bench Coffee", api_key_hash="b" * 64, created_at=now)
        session.add(sponsor)
        await session.flush()
        promotion = Promotion(
            sponsor_id=sponsor.id, title="2-for-1 flat whites", text="Bring a friend this week.",
            button_label="Find a shop", button_url="https://example.com/shops",
            starts_at=now, expires_at=now + timedelta(days=7), voucher_kind="shared",
            voucher_code="FLAT2FOR1", status="sending", targeted=recipients, fanned_out_at=now,
            created_at=now,
        )  # fmt: skip
        session.add(promotion)
        await session.flush()
        promotion_id = promotion.id
    await fan_out(db, promotion_id, now)
    return Broadcast(promotion_id, recipients, chat_ids)


async def fan_out(db: Database, promotion_id: int, now: datetime) -> int:
    """One outbox row per opted-in, reachable citizen, in one INSERT ... SELECT."""
    async with db.transaction() as session:
        promotion = await session.get(Promotion, promotion_id)
        assert promotion is not None
        sponsor = await session.get(Sponsor, promotion.sponsor_id)
        assert sponsor is not None
        has_voucher = promotion.voucher_kind != "none"
        text = promotion_text(
            sponsor.name, promotion.title, promotion.text, promotion.expires_at,
            ZoneInfo("Europe/London"), has_voucher=has_voucher,
        )  # fmt: skip
        markup = promotion_markup(
            promotion.id, button_label=promotion.button_label,
            button_url=promotion.button_url, has_voucher=has_voucher,
        )  # fmt: skip
        recipients = (
            select(
                Citizen.chat_id,
                Citizen.id,
                literal(PROMOTION_KIND),
                literal(PROMOTION_PRIORITY),
                literal(text),
                literal(markup, JSON),
                literal("pending"),
                literal(0),
                literal(now),
                literal(now),
                literal(promotion.id),
            )
            .where(Citizen.marketing_opt_in.is_(True), Citizen.unreachable_at.is_(None))
            .order_by(Citizen.id)
        )
        columns = [
            "chat_id", "citizen_id", "kind", "priority", "text", "reply_markup", "status",
            "attempts", "next_attempt_at", "created_at", "promotion_id",
        ]  # fmt: skip
        await session.execute(insert(OutboxMessage).from_select(columns, recipients))
        count = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.promotion_id == promotion.id)
        )
    return int(count or 0)
