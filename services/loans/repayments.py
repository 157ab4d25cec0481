"""Repayments: the Pay button's instalment, Telegram's pre-checkout, the receipt, overdue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.loan_terms import (
    LATE_FEE_PENCE,
)
from services.loans.lending import (
    LoanLending,
)
from services.loans.model import (
    CURRENCY,
    LOAN_SOURCE,
    InstalmentView,
    PaymentRejected,
    parse_payment_payload,
)
from storage.models import Citizen, Instalment, Loan, LoanPayment, PaymentEvent
from storage.statuses import LoanStatus, PaymentKind, PaymentOutcome


class LoanService(LoanLending):
    """Loans for the bot and the reminders: eligibility, lending and repayments."""

    async def payable(self, telegram_id: int, instalment_id: int) -> InstalmentView:
        """The instalment a Pay button points at, checked to belong to the presser and be due."""
        async with self._db.transaction() as session:
            row = (
                await session.execute(
                    select(Instalment)
                    .join(Loan, Loan.id == Instalment.loan_id)
                    .join(Citizen, Citizen.id == Loan.citizen_id)
                    .where(Instalment.id == instalment_id, Citizen.telegram_id == telegram_id)
                )
            ).scalar_one_or_none()
            if row is None or row.paid_at is not None:
                raise PaymentRejected("That instalment is already paid or no longer available.")
            return InstalmentView(
                row.id, row.number, row.due_on, row.amount_pence, row.late_fee_pence, False
            )

    async def check_checkout(
        self, telegram_id: int, payload: str, total_amount: int, currency: str = CURRENCY
    ) -> None:
        """pre_checkout_query: the right person, the right amount, still unpaid."""
        try:
            instalment_id, amount = parse_payment_payload(payload)
        except ValueError:
            raise PaymentRejected("This payment link isn't valid any more.") from None
        if currency != CURRENCY:
            raise PaymentRejected("Loan repayments can only be made in pounds (GBP).")
        instalment = await self.payable(telegram_id, instalment_id)
        if amount != total_amount or instalment.payable_pence != total_amount:
            raise PaymentRejected(
                "The amount due has changed since this invoice was made: tap Pay again."
            )

    async def record_payment(
        self, telegram_id: int, payload: str, total_amount: int, charge_id: str
    ) -> InstalmentView | None:
        """successful_payment: recorded once per charge id (None for a repeat)."""
        instalment_id, _ = parse_payment_payload(payload)
        now = self._clock()
        today = self.today()
        try:
            async with self._db.transaction() as session:
                session.add(
                    LoanPayment(
                        instalment_id=instalment_id,
                        charge_id=charge_id,
                        amount_pence=total_amount,
                        paid_at=now,
                    )
                )
                await session.flush()
                instalment = await session.get(Instalment, instalment_id)
                assert instalment is not None
                instalment.paid_at = now
                outcome = (
                    PaymentOutcome.ON_TIME if today <= instalment.due_on else PaymentOutcome.LATE
                )
                await _record_outcome(session, instalment, outcome, now)
                loan = await session.get(Loan, instalment.loan_id)
                assert loan is not None
                unpaid = await session.scalar(
                    select(func.count())
                    .select_from(Instalment)
                    .where(Instalment.loan_id == loan.id, Instalment.paid_at.is_(None))
                )
                if unpaid == 0:
                    loan.status = LoanStatus.REPAID.value
                view = InstalmentView(
                    instalment.id,
                    instalment.number,
                    instalment.due_on,
                    instalment.amount_pence,
                    instalment.late_fee_pence,
                    True,
                )
        except IntegrityError:
            return None
        return view


async def _record_outcome(
    session: AsyncSession, instalment: Instalment, outcome: PaymentOutcome, now: datetime
) -> None:
    """The instalment's payment-history event: one per instalment, updated as it resolves
    (missed -> late when finally paid), so the score sees each instalment once."""
    external_id = f"instalment:{instalment.id}"
    event = await session.scalar(
        select(PaymentEvent).where(
            PaymentEvent.source == LOAN_SOURCE, PaymentEvent.external_id == external_id
        )
    )
    loan = await session.get(Loan, instalment.loan_id)
    assert loan is not None
    if event is None:
        session.add(
            PaymentEvent(
                citizen_id=loan.citizen_id,
                source=LOAN_SOURCE,
                external_id=external_id,
                kind=PaymentKind.LOAN_INSTALMENT.value,
                outcome=outcome.value,
                occurred_on=instalment.due_on,
                recorded_at=now,
            )
        )
    elif event.outcome != PaymentOutcome.ON_TIME:
        event.outcome = outcome.value
        event.recorded_at = now


async def mark_overdue(session: AsyncSession, instalment: Instalment, now: datetime) -> bool:
    """Once an instalment is overdue: add the late fee once and record it as missed (until it is
    paid, when it becomes late). Returns True the first time."""
    if instalment.late_fee_pence:
        return False
    instalment.late_fee_pence = LATE_FEE_PENCE
    await _record_outcome(session, instalment, PaymentOutcome.MISSED, now)
    return True
