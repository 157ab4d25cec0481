"""A promotion with N recipients for the broadcast benchmark and the crash test.

The citizens, sponsor and promotion are written in bulk; the outbox rows come from the real
fan-out (notifications/promotions.py), the same ``INSERT ... SELECT`` the service runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from notifications.promotions import PromotionFanout
from services.clock import ManualClock
from storage.db import Database
from storage.models import Citizen, Promotion, Sponsor

LONDON = ZoneInfo("Europe/London")
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
            voucher_code="FLAT2FOR1", status="scheduled", created_at=now,
        )  # fmt: skip
        session.add(promotion)
        await session.flush()
        promotion_id = promotion.id
    queued = await PromotionFanout(db, ManualClock(now), LONDON).fan_out(promotion_id)
    assert queued == recipients, f"the fan-out queued {queued} of {recipients}"
    return Broadcast(promotion_id, recipients, chat_ids)
