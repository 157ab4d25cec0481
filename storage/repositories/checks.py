"""What the yes/no checks (services.checks) read beyond the citizen's and score's rows."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import PaymentEvent
from storage.repositories.event_batches import counted
from storage.statuses import PaymentOutcome


async def last_missed_payment(session: AsyncSession, citizen_id: int) -> date | None:
    """When the latest payment recorded as missed fell due, counting records as the score
    does (not disputed, not in a batch held for review)."""
    return await session.scalar(
        counted(select(func.max(PaymentEvent.occurred_on))).where(
            PaymentEvent.citizen_id == citizen_id,
            PaymentEvent.outcome == PaymentOutcome.MISSED,
        )
    )
