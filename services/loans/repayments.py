"""Repayments: the Pay button's instalment, Telegram's pre-checkout, the receipt, overdue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

import texts.payments as texts
from services.clock import as_aware_utc
from services.loan_terms import (
    LATE_FEE_PENCE,
)
from services.loans.allocation import Owed, allocate
from services.loans.lending import (
    LoanLending,
)
from services.loans.model import (
    CURRENCY,
    LOAN_SOURCE,
    InstalmentView,
    Payload,
    PaymentRejected,
    new_invoice_token,
    parse_payment_payload,
    payment_payload,
)
from services.settlement import early_rebate, loan_apr
from storage.models import Instalment, Loan, LoanPayment, Overpayment, PaymentEvent
from storage.repositories import citizens, payment_plans
from storage.repositories import loans as repo
from storage.statuses import (
    LoanStatus,
    OverpaymentReason,
    PaymentKind,
    PaymentOutcome,
    RefundStatus,
)

INVOICE_VALID_FOR = timedelta(minutes=15)
"""A payment is a dangerous button: an invoice can be paid only this long after Pay (or
Settle) was last tapped; an older one says it expired, and Pay offers it again."""
CHECKOUT_HOLD = timedelta(minutes=2)
"""After an approved pre-checkout, how long a second checkout for the instalment is refused
(Telegram charges within seconds; a payment that failed can be tried again after this)."""


@dataclass(frozen=True)
class InvoiceOffer:
    """The one live invoice for an instalment: what to charge and the payload to send."""

    instalment: InstalmentView
    payload: str
    amount_pence: int
    """What to charge: the instalment at today's price, or settling the loan in full."""
    saving_pence: int = 0
    """Interest saved by paying it today rather than on the due date(s)."""
    settle: bool = False
    instalments: int = 1
    """How many instalments it pays."""


@dataclass(frozen=True)
class PaymentResult:
    """What one `successful_payment` did, for the receipt."""

    amount_pence: int
    instalment: InstalmentView | None
    """The invoice's instalment as it is now (None when the payer isn't the borrower)."""
    completed: tuple[int, ...]
    """Ids of the instalments this payment paid off."""
    overpaid_pence: int
    applied_pence: int
    """Of the overpayment, what went to later instalments."""
    refund_pence: int
    reason: OverpaymentReason | None
    saved_pence: int = 0
    """Interest saved on the instalments it paid off early."""
    settled: bool = False
    """A settlement invoice that paid the loan off in full."""


@dataclass(frozen=True)
class OverpaymentView:
    id: int
    created_at: datetime
    reason: str
    amount_pence: int
    applied_pence: int
    refund_pence: int
    refund_status: str
    payer_telegram_id: int
    charge_id: str


class LoanService(LoanLending):
    """Loans for the bot and the reminders: eligibility, lending and repayments."""

    async def offer_invoice(
        self, telegram_id: int, instalment_id: int, *, settle: bool = False
    ) -> InvoiceOffer:
        """The Pay button: the instalment's live invoice, made once per amount due; a second
        tap offers the same invoice again, and a changed amount (a late fee, or a day less
        early) replaces it. With `settle`, the Settle button: one invoice for every unpaid
        instalment of the loan at today's price, kept as that instalment's live invoice (so it
        replaces a Pay invoice, and the other way round)."""
        today = self.today()
        async with self._db.transaction() as session:
            await repo.lock_loan_of_instalment(session, instalment_id)
            found = await repo.instalment_with_borrower(session, instalment_id)
            if found is None or found[2].telegram_id != telegram_id:
                raise PaymentRejected(texts.NOTHING_DUE)
            instalment, loan, _ = found
            if instalment.paid_at is not None or loan.status != LoanStatus.ACTIVE:
                raise PaymentRejected(texts.NOTHING_DUE)
            view = _instalment_view(instalment, loan, today)
            views = (
                [
                    _instalment_view(i, loan, today)
                    for i in await repo.unpaid_instalments(session, loan.id)
                ]
                if settle
                else [view]
            )
            due = sum(v.payable_pence for v in views)
            if instalment.invoice_token is None or instalment.invoice_amount_pence != due:
                instalment.invoice_token = new_invoice_token()
                instalment.invoice_amount_pence = due
            # Offered again or anew, the live invoice can be paid for the next few minutes.
            instalment.invoice_offered_at = self._clock()
            payload = payment_payload(view.id, due, instalment.invoice_token, settle=settle)
            saving = sum(v.rebate_pence for v in views)
            return InvoiceOffer(view, payload, due, saving, settle, len(views))

    async def payable(self, telegram_id: int, instalment_id: int) -> InstalmentView:
        """The instalment a Pay button points at, checked to belong to the presser and be due."""
        return (await self.offer_invoice(telegram_id, instalment_id)).instalment

    async def check_checkout(
        self, telegram_id: int, payload: str, total_amount: int, currency: str = CURRENCY
    ) -> None:
        """pre_checkout_query: only the live invoice, paid by the borrower, for exactly what is
        due now, on an active loan, and one approved checkout at a time per instalment."""
        try:
            invoice = parse_payment_payload(payload)
        except ValueError:
            raise PaymentRejected(texts.INVALID_INVOICE) from None
        if currency != CURRENCY:
            raise PaymentRejected(texts.NOT_GBP)
        now = self._clock()
        async with self._db.transaction() as session:
            await repo.lock_loan_of_instalment(session, invoice.instalment_id)
            found = await repo.instalment_with_borrower(session, invoice.instalment_id)
            if found is None:
                raise PaymentRejected(texts.INVALID_INVOICE)
            instalment, loan, borrower = found
            if borrower.telegram_id != telegram_id:
                raise PaymentRejected(texts.NOT_YOUR_LOAN)
            if instalment.paid_at is not None:
                raise PaymentRejected(texts.ALREADY_PAID)
            if loan.status != LoanStatus.ACTIVE:
                raise PaymentRejected(texts.LOAN_NOT_ACTIVE)
            if invoice.token is None or invoice.token != instalment.invoice_token:
                raise PaymentRejected(texts.REPLACED)
            due = await _due_now(session, instalment, loan, self.today(), invoice.settle)
            if invoice.amount_pence != total_amount or total_amount != due:
                raise PaymentRejected(texts.amount_changed(due))
            offered = instalment.invoice_offered_at
            if offered is None or now - as_aware_utc(offered) > INVOICE_VALID_FOR:
                raise PaymentRejected(texts.INVOICE_EXPIRED)
            if not await repo.claim_checkout(session, instalment.id, now, now + CHECKOUT_HOLD):
                raise PaymentRejected(texts.IN_PROGRESS)

    async def record_payment(
        self, telegram_id: int, payload: str, total_amount: int, charge_id: str
    ) -> PaymentResult | None:
        """successful_payment: money that arrived, counted exactly once per charge id (None
        for a repeat delivery) and never against anyone but the payer's own loan.

        It pays what is due on the invoice's instalment; anything beyond that (a second
        payment after a race, more than was due) is an overpayment: used for the loan's next
        instalments, the rest listed for refund. Money from someone who isn't the borrower
        goes to refund in full."""
        try:
            invoice: Payload | None = parse_payment_payload(payload)
        except ValueError:
            invoice = None
        try:
            async with self._db.transaction() as session:
                if invoice is not None:
                    await repo.lock_loan_of_instalment(session, invoice.instalment_id)
                # Each table's unique charge id alone would let one charge, delivered again
                # with another payload, count as a repayment and as a refund.
                if await repo.charge_recorded(session, charge_id):
                    return None
                found = (
                    None
                    if invoice is None
                    else await repo.instalment_with_borrower(session, invoice.instalment_id)
                )
                if found is None or found[2].telegram_id != telegram_id:
                    reason = (
                        OverpaymentReason.UNKNOWN_INVOICE
                        if found is None
                        else OverpaymentReason.NOT_THE_BORROWER
                    )
                    await self._refund_all(session, telegram_id, charge_id, total_amount, reason)
                    return PaymentResult(
                        total_amount, None, (), total_amount, 0, total_amount, reason
                    )
                instalment, loan, borrower = found
                return await self._apply(
                    session,
                    instalment,
                    loan,
                    borrower.id,
                    telegram_id,
                    charge_id,
                    total_amount,
                    settle=invoice is not None and invoice.settle,
                )
        except IntegrityError:
            return None  # this charge was recorded before: counted once, thanked once

    async def _apply(
        self,
        session: AsyncSession,
        instalment: Instalment,
        loan: Loan,
        borrower_id: int,
        payer_telegram_id: int,
        charge_id: str,
        amount: int,
        *,
        settle: bool = False,
    ) -> PaymentResult:
        now = self._clock()
        today = self.today()
        session.add(
            LoanPayment(
                instalment_id=instalment.id, charge_id=charge_id, amount_pence=amount, paid_at=now
            )
        )
        await session.flush()  # a repeated charge id fails here, before anything moves
        closed = loan.status != LoanStatus.ACTIVE
        reason: OverpaymentReason | None = None
        if closed:
            reason = OverpaymentReason.LOAN_CLOSED
        elif instalment.paid_at is not None:
            reason = OverpaymentReason.ALREADY_PAID
        unpaid = [] if closed else await repo.unpaid_instalments(session, loan.id)
        # The invoice's own instalment first, then the rest in order.
        ordered = sorted(unpaid, key=lambda i: (i.id != instalment.id, i.number))
        views = {i.id: _instalment_view(i, loan, today) for i in ordered}
        if reason:
            due_here = 0
        elif settle:  # every unpaid instalment, at today's price
            due_here = sum(v.payable_pence for v in views.values())
        else:
            due_here = views[instalment.id].payable_pence
        if reason is None and amount > due_here:
            reason = OverpaymentReason.MORE_THAN_DUE
        allocation = allocate(amount, [Owed(i.id, views[i.id].payable_pence) for i in ordered])
        by_id = {i.id: i for i in ordered}
        completed: list[int] = []
        saved = 0
        for share in allocation.shares:
            target = by_id[share.instalment_id]
            if share.completes:
                # Paid early: the instalment cost its early price, and that is its amount now.
                rebate = views[target.id].rebate_pence
                target.amount_pence -= rebate
                saved += rebate
                target.paid_at = now
                target.checkout_until = None
                completed.append(target.id)
                outcome = PaymentOutcome.ON_TIME if today <= target.due_on else PaymentOutcome.LATE
                await record_outcome(session, target, outcome, now, paid_on=today)
            else:
                target.credit_pence += share.pence
        if loan.status == LoanStatus.ACTIVE and not await _any_unpaid(session, loan.id):
            loan.status = LoanStatus.REPAID
        overpaid = amount - min(amount, due_here)
        applied = max(0, allocation.applied_pence - min(amount, due_here))
        if overpaid:
            session.add(
                Overpayment(
                    charge_id=charge_id,
                    citizen_id=borrower_id,
                    payer_telegram_id=payer_telegram_id,
                    instalment_id=instalment.id,
                    reason=reason or OverpaymentReason.MORE_THAN_DUE,
                    amount_pence=overpaid,
                    applied_pence=applied,
                    refund_pence=allocation.refund_pence,
                    refund_status=RefundStatus.DUE
                    if allocation.refund_pence
                    else RefundStatus.NONE,
                    created_at=now,
                )
            )
        await session.flush()
        return PaymentResult(
            amount,
            _instalment_view(instalment, loan, today),
            tuple(completed),
            overpaid,
            applied,
            allocation.refund_pence,
            reason if overpaid else None,
            saved,
            settle and loan.status == LoanStatus.REPAID and not closed,
        )

    async def _refund_all(
        self,
        session: AsyncSession,
        payer_telegram_id: int,
        charge_id: str,
        amount: int,
        reason: OverpaymentReason,
    ) -> None:
        """Money we can't put towards the payer's own loan: listed for refund, in full."""
        payer_id = await citizens.id_by_telegram_id(session, payer_telegram_id)
        session.add(
            Overpayment(
                charge_id=charge_id,
                citizen_id=payer_id,
                payer_telegram_id=payer_telegram_id,
                instalment_id=None,
                reason=reason,
                amount_pence=amount,
                applied_pence=0,
                refund_pence=amount,
                refund_status=RefundStatus.DUE,
                created_at=self._clock(),
            )
        )
        await session.flush()  # a repeated charge id fails here

    async def overpayments(self, telegram_id: int) -> list[OverpaymentView]:
        """The person's overpayments (for /loans: credit used, refunds on their way)."""
        async with self._db.transaction() as session:
            citizen_id = await citizens.id_by_telegram_id(session, telegram_id)
            if citizen_id is None:
                return []
            return [_overpayment_view(o) for o in await repo.overpayments_of(session, citizen_id)]

    async def refunds_due(self) -> list[OverpaymentView]:
        async with self._db.transaction() as session:
            return [_overpayment_view(o) for o in await repo.refunds_due(session)]

    async def mark_refunded(self, overpayment_id: int) -> bool:
        async with self._db.transaction() as session:
            return await repo.mark_refunded(session, overpayment_id, self._clock())


def _instalment_view(i: Instalment, loan: Loan, today: date) -> InstalmentView:
    """The instalment as it stands today: unpaid and early, it costs less (services.settlement)."""
    paid = i.paid_at is not None
    rebate = (
        0 if paid else early_rebate(i.amount_pence, i.due_on, today, loan_apr(loan.annual_rate_bp))
    )
    return InstalmentView(
        i.id,
        i.number,
        i.due_on,
        i.amount_pence,
        i.late_fee_pence,
        paid,
        i.credit_pence or 0,
        rebate,
    )


async def _due_now(
    session: AsyncSession, instalment: Instalment, loan: Loan, today: date, settle: bool
) -> int:
    """What an invoice must be for now: the instalment, or (settling) every unpaid instalment,
    at today's price."""
    if not settle:
        return _instalment_view(instalment, loan, today).payable_pence
    unpaid = await repo.unpaid_instalments(session, loan.id)
    return sum(_instalment_view(i, loan, today).payable_pence for i in unpaid)


def _overpayment_view(o: Overpayment) -> OverpaymentView:
    return OverpaymentView(
        o.id,
        o.created_at,
        o.reason,
        o.amount_pence,
        o.applied_pence,
        o.refund_pence,
        o.refund_status,
        o.payer_telegram_id,
        o.charge_id,
    )


async def _any_unpaid(session: AsyncSession, loan_id: int) -> bool:
    unpaid = await session.scalar(
        select(func.count())
        .select_from(Instalment)
        .where(Instalment.loan_id == loan_id, Instalment.paid_at.is_(None))
    )
    return bool(unpaid)


async def record_outcome(
    session: AsyncSession,
    instalment: Instalment,
    outcome: str,
    now: datetime,
    *,
    paid_on: date | None = None,
) -> None:
    """The instalment's payment-history event: one per instalment, updated as it resolves
    (missed -> late when finally paid), so the score sees each instalment once. A payment is
    dated the day it was made (the pass counts it from then, not from a future due date); a
    miss is dated its due date."""
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
                kind=PaymentKind.LOAN_INSTALMENT,
                outcome=outcome,
                occurred_on=paid_on or instalment.due_on,
                recorded_at=now,
            )
        )
    elif event.outcome != PaymentOutcome.ON_TIME:
        event.outcome = outcome
        event.recorded_at = now
        if paid_on is not None:
            event.occurred_on = paid_on


async def mark_overdue(session: AsyncSession, instalment: Instalment, now: datetime) -> bool:
    """Once an instalment is overdue: add the late fee once and record it as missed (until it is
    paid, when it becomes late). Returns True the first time. Not while the loan has an open
    or agreed payment plan request (services.payment_plans): no late fee then."""
    if instalment.late_fee_pence or await payment_plans.holds(session, instalment.loan_id):
        return False
    instalment.late_fee_pence = LATE_FEE_PENCE
    await record_outcome(session, instalment, PaymentOutcome.MISSED, now)
    return True
