"""Wait for a running service's outbox to have nothing due: the settle hook for the stand-in."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy import func, select

from bot.service import BritizenService
from notifications.send_budget import BudgetRateLimiter
from storage.models import OutboxMessage
from storage.statuses import OutboxStatus

POLL_SECONDS = 0.05


async def due_rows(service: BritizenService) -> int:
    """Rows the dispatcher would send now (pending and due) or is sending."""
    now = service.services.clock()
    async with service.db.autocommit() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                (OutboxMessage.status == OutboxStatus.SENDING)
                | (
                    (OutboxMessage.status == OutboxStatus.PENDING)
                    & (OutboxMessage.next_attempt_at <= now)
                )
            )
        )
    return int(count or 0)


def replies_in_hand(service: BritizenService) -> int:
    limiter = service.application.bot.rate_limiter
    return limiter.in_hand if isinstance(limiter, BudgetRateLimiter) else 0


def settle_hook(service: BritizenService) -> Callable[[], Awaitable[bool]]:
    async def settle() -> bool:
        """Wait until nothing is due; True if something was (so the caller waits for quiet
        again after those sends)."""
        waited = False
        # A stopped instance sends nothing more; what it left is another instance's to send.
        # A reply waiting for its chat's room (or out a 429) is as good as due.
        while not service.stopped and (replies_in_hand(service) or await due_rows(service)):
            waited = True
            await asyncio.sleep(POLL_SECONDS)
        return waited

    return settle
