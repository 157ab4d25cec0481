"""Loans' SQL for repayments: the instalment an invoice is for, the loan's lock, the one
approved checkout per instalment, and overpayments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Citizen, Instalment, Loan, LoanPayment, Overpayment
from storage.statuses import RefundStatus


async def lock_loan_of_instalment(session: AsyncSession, instalment_id: int) -> None:
    """The loan's write lock, taken first: payments for any of its instalments (a double
    delivery, two invoices paid at once) are applied one after the other."""
    await session.execute(
        update(Loan)
        .where(
            Loan.id
            == select(Instalment.loan_id).where(Instalment.id == instalment_id).scalar_subquery()
        )
        .values(status=Loan.status)
    )


async def instalment_with_borrower(
    session: AsyncSession, instalment_id: int
) -> tuple[Instalment, Loan, Citizen] | None:
    row = (
        await session.execute(
            select(Instalment, Loan, Citizen)
            .join(Loan, Loan.id == Instalment.loan_id)
            .join(Citizen, Citizen.id == Loan.citizen_id)
            .where(Instalment.id == instalment_id)
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1], row[2])


async def unpaid_instalments(session: AsyncSession, loan_id: int) -> list[Instalment]:
    return list(
        (
            await session.scalars(
                select(Instalment)
                .where(Instalment.loan_id == loan_id, Instalment.paid_at.is_(None))
                .order_by(Instalment.number)
            )
        ).all()
    )


async def claim_checkout(
    session: AsyncSession, instalment_id: int, now: datetime, until: datetime
) -> bool:
    """Approve one checkout: True unless another approved one is still going through."""
    claimed = await session.execute(
        update(Instalment)
        .where(
            Instalment.id == instalment_id,
            Instalment.paid_at.is_(None),
            or_(Instalment.checkout_until.is_(None), Instalment.checkout_until < now),
        )
        .values(checkout_until=until)
        # No in-Python re-evaluation against loaded rows (SQLite hands back naive datetimes).
        .execution_options(synchronize_session=False)
    )
    return getattr(claimed, "rowcount", 0) == 1


async def overpayments_of(session: AsyncSession, citizen_id: int) -> list[Overpayment]:
    return list(
        (
            await session.scalars(
                select(Overpayment)
                .where(Overpayment.citizen_id == citizen_id)
                .order_by(Overpayment.id)
            )
        ).all()
    )


async def charge_recorded(session: AsyncSession, charge_id: str) -> bool:
    """Whether a Telegram charge was counted already, as a repayment or as a refund."""
    for column in (LoanPayment.charge_id, Overpayment.charge_id):
        if await session.scalar(select(column).where(column == charge_id).limit(1)) is not None:
            return True
    return False


async def refunds_due(session: AsyncSession) -> list[Overpayment]:
    return list(
        (
            await session.scalars(
                select(Overpayment)
                .where(Overpayment.refund_status == RefundStatus.DUE)
                .order_by(Overpayment.id)
            )
        ).all()
    )


async def mark_refunded(session: AsyncSession, overpayment_id: int, now: datetime) -> bool:
    done = await session.execute(
        update(Overpayment)
        .where(Overpayment.id == overpayment_id, Overpayment.refund_status == RefundStatus.DUE)
        .values(refund_status=RefundStatus.REFUNDED, refunded_at=now)
        .execution_options(synchronize_session=False)
    )
    return getattr(done, "rowcount", 0) == 1
