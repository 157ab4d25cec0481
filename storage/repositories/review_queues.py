"""The reviewers' queues (/review): disputes, payment-plan requests and NI-number claims are each
a table of rows that wait with status ``open``, oldest first. One way to read any of them."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Dispute, NiClaim, PaymentPlanRequest
from storage.statuses import DisputeStatus, NiClaimStatus, PaymentPlanStatus

OPEN = "open"
"""Every queue's waiting status (DisputeStatus, PaymentPlanStatus and NiClaimStatus .OPEN)."""
assert DisputeStatus.OPEN == PaymentPlanStatus.OPEN == NiClaimStatus.OPEN == OPEN

Row = TypeVar("Row", Dispute, PaymentPlanRequest, NiClaim)


async def oldest_open(session: AsyncSession, model: type[Row]) -> Row | None:
    """The row that has waited longest (ties by id), or None when the queue is empty."""
    return await session.scalar(
        select(model).where(model.status == OPEN).order_by(model.created_at, model.id).limit(1)
    )


async def count_open(session: AsyncSession, model: type[Row]) -> int:
    """How many rows wait in the queue."""
    waiting = await session.scalar(
        select(func.count()).select_from(model).where(model.status == OPEN)
    )
    return int(waiting or 0)
