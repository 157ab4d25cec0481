"""Payment plan requests' SQL: which loans are held (reminders paused, no late fee), a loan's
current request, a borrower's requests and the reviewers' queue."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from storage.models import PaymentPlanRequest
from storage.repositories import review_queues as queues
from storage.statuses import PaymentPlanStatus

HOLDING = (PaymentPlanStatus.OPEN, PaymentPlanStatus.AGREED)
"""A request in one of these states holds its loan's reminders and late fees."""


def loan_is_held(loan_id: InstrumentedAttribute[int]) -> ColumnElement[bool]:
    """For a WHERE clause: the loan has an open or agreed payment plan request."""
    return exists().where(
        PaymentPlanRequest.loan_id == loan_id, PaymentPlanRequest.status.in_(HOLDING)
    )


async def holds(session: AsyncSession, loan_id: int) -> bool:
    found = await session.scalar(
        select(PaymentPlanRequest.id)
        .where(PaymentPlanRequest.loan_id == loan_id, PaymentPlanRequest.status.in_(HOLDING))
        .limit(1)
    )
    return found is not None


async def holding_request(session: AsyncSession, loan_id: int) -> PaymentPlanRequest | None:
    """The loan's open request, else its agreed one (the newest), else None."""
    rows = (
        await session.scalars(
            select(PaymentPlanRequest)
            .where(PaymentPlanRequest.loan_id == loan_id, PaymentPlanRequest.status.in_(HOLDING))
            .order_by(PaymentPlanRequest.id.desc())
        )
    ).all()
    return next((r for r in rows if r.status == PaymentPlanStatus.OPEN), None) or next(
        iter(rows), None
    )


async def holding_by_loan(session: AsyncSession, citizen_id: int) -> dict[int, str]:
    """The citizen's held loans: loan id -> 'open' or 'agreed' (open wins)."""
    rows = (
        await session.execute(
            select(PaymentPlanRequest.loan_id, PaymentPlanRequest.status).where(
                PaymentPlanRequest.citizen_id == citizen_id,
                PaymentPlanRequest.status.in_(HOLDING),
            )
        )
    ).all()
    held: dict[int, str] = {}
    for loan_id, status in rows:
        if held.get(loan_id) != PaymentPlanStatus.OPEN:
            held[loan_id] = status
    return held


async def count_open(session: AsyncSession) -> int:
    return await queues.count_open(session, PaymentPlanRequest)


async def oldest_open(session: AsyncSession) -> PaymentPlanRequest | None:
    return await queues.oldest_open(session, PaymentPlanRequest)
