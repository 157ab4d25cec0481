"""One payment per instalment (issue 16): one live invoice, checkouts that refuse everything
but the borrower paying exactly what is due now, and money that arrives twice (or from the
wrong person) never counted twice: credit for the next instalment, or a refund."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update

import texts.payments as texts
from services.clock import ManualClock
from services.loans import LoanService, PaymentRejected, payment_payload
from services.loans.allocation import Owed, allocate
from services.loans.repayments import CHECKOUT_HOLD, INVOICE_VALID_FOR, mark_overdue
from storage.db import Database
from storage.models import Instalment, Loan, Overpayment, PaymentEvent
from storage.statuses import OverpaymentReason, RefundStatus
from tests.services.test_loans import LONDON, NOW, citizen_with_score


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
async def loans(db: Database, clock: ManualClock) -> LoanService:
    service = LoanService(db, clock, LONDON)
    await citizen_with_score(db, 1, 620, "Good")  # the borrower
    await citizen_with_score(db, 2, 620, "Good")  # someone else
    await service.confirm(1, 6_000, 3, "k")
    return service


async def first_due(loans: LoanService, number: int = 1) -> int:
    (loan,) = await loans.loans(1)
    return loan.instalments[number - 1].id


async def test_a_second_pay_tap_reoffers_the_same_invoice_and_a_new_amount_replaces_it(
    db: Database, loans: LoanService, clock: ManualClock
) -> None:
    instalment_id = await first_due(loans)
    first = await loans.offer_invoice(1, instalment_id)
    again = await loans.offer_invoice(1, instalment_id)
    assert again.payload == first.payload  # one live invoice, offered again
    async with db.transaction() as session:
        row = await session.get(Instalment, instalment_id)
        assert row is not None
        await mark_overdue(session, row, clock())  # a late fee: the amount due changes
    replaced = await loans.offer_invoice(1, instalment_id)
    assert replaced.payload != first.payload
    assert replaced.instalment.payable_pence == first.instalment.payable_pence + 1_200
    with pytest.raises(PaymentRejected) as refused:
        await loans.check_checkout(1, first.payload, first.instalment.payable_pence)
    assert str(refused.value) == texts.REPLACED
    await loans.check_checkout(1, replaced.payload, replaced.instalment.payable_pence)
    with pytest.raises(PaymentRejected, match="already paid or no longer"):
        await loans.offer_invoice(2, instalment_id)  # someone else's Pay button


async def test_every_checkout_refusal_says_why(
    db: Database, loans: LoanService, clock: ManualClock
) -> None:
    instalment_id = await first_due(loans)
    offer = await loans.offer_invoice(1, instalment_id)
    due = offer.instalment.payable_pence

    async def refusal(payer: int, payload: str, amount: int) -> str:
        with pytest.raises(PaymentRejected) as refused:
            await loans.check_checkout(payer, payload, amount)
        return str(refused.value)

    assert await refusal(2, offer.payload, due) == texts.NOT_YOUR_LOAN
    assert await refusal(1, offer.payload, due + 1) == texts.amount_changed(due)
    assert await refusal(1, offer.payload.replace(f":{due}:", ":1:"), 1) == (
        texts.amount_changed(due)
    )
    assert await refusal(1, payment_payload(instalment_id, due), due) == texts.REPLACED
    assert await refusal(1, "inst:nope", due) == texts.INVALID_INVOICE
    assert await refusal(1, payment_payload(999_999, due, "abc"), due) == texts.INVALID_INVOICE
    with pytest.raises(PaymentRejected, match="pounds"):
        await loans.check_checkout(1, offer.payload, due, currency="XTR")
    async with db.transaction() as session:
        await session.execute(update(Loan).values(status="defaulted"))
    assert await refusal(1, offer.payload, due) == texts.LOAN_NOT_ACTIVE
    async with db.transaction() as session:
        await session.execute(update(Loan).values(status="active"))
    await loans.check_checkout(1, offer.payload, due)
    assert await loans.record_payment(1, offer.payload, due, "c1") is not None
    assert await refusal(1, offer.payload, due) == texts.ALREADY_PAID


async def test_two_checkouts_at_once_approve_only_one(
    db: Database, loans: LoanService, clock: ManualClock
) -> None:
    offer = await loans.offer_invoice(1, await first_due(loans))
    due = offer.instalment.payable_pence
    results = await asyncio.gather(
        loans.check_checkout(1, offer.payload, due),
        loans.check_checkout(1, offer.payload, due),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, PaymentRejected)]
    assert len(refused) == 1 and str(refused[0]) == texts.IN_PROGRESS
    # A payment that never completed: after the hold, it can be tried again.
    clock.advance(seconds=CHECKOUT_HOLD.total_seconds() + 1)
    await loans.check_checkout(1, offer.payload, due)


async def test_a_second_successful_payment_becomes_credit_for_the_next_instalment(
    db: Database, loans: LoanService
) -> None:
    offer = await loans.offer_invoice(1, await first_due(loans))
    due = offer.instalment.payable_pence
    paid = await loans.record_payment(1, offer.payload, due, "charge-1")
    assert paid is not None and paid.completed == (offer.instalment.id,)
    assert paid.overpaid_pence == 0
    # Telegram delivers a second payment for the same invoice (a race): not counted twice.
    twice = await loans.record_payment(1, offer.payload, due, "charge-2")
    assert twice is not None
    assert twice.reason is OverpaymentReason.ALREADY_PAID
    assert twice.overpaid_pence == due
    (loan,) = await loans.loans(1)
    second = loan.instalments[1]
    # Paid a month early, the second instalment costs less than the first did (issue 16,
    # early repayment): all of the second payment goes to it and credit on the third.
    assert second.paid and second.total_pence < due
    assert twice.applied_pence == due and twice.refund_pence == 0
    assert twice.applied_pence + twice.refund_pence == due
    assert loan.paid_pence + loan.remaining_pence == sum(i.total_pence for i in loan.instalments)
    assert loan.paid_pence == due * 2
    async with db.transaction() as session:
        (row,) = (await session.scalars(select(Overpayment))).all()
        events = (await session.scalars(select(PaymentEvent))).all()
    assert (row.reason, row.amount_pence, row.charge_id) == ("already_paid", due, "charge-2")
    # Only instalments actually paid off are payment history, each once.
    assert len(events) == len(twice.completed) + 1
    # The same delivery again: nothing at all.
    assert await loans.record_payment(1, offer.payload, due, "charge-2") is None


async def test_paying_the_last_instalment_twice_is_listed_for_refund(
    db: Database, loans: LoanService
) -> None:
    (loan,) = await loans.loans(1)
    for instalment in loan.instalments:
        offer = await loans.offer_invoice(1, instalment.id)
        await loans.record_payment(
            1, offer.payload, offer.instalment.payable_pence, f"c-{instalment.id}"
        )
    (loan,) = await loans.loans(1)
    assert loan.status == "repaid"
    last = loan.instalments[-1]
    extra = await loans.record_payment(
        1, payment_payload(last.id, last.total_pence, "old"), last.total_pence, "late-race"
    )
    assert extra is not None and extra.refund_pence == last.total_pence
    assert extra.reason is OverpaymentReason.LOAN_CLOSED
    (due,) = await loans.refunds_due()
    assert (due.refund_pence, due.refund_status) == (last.total_pence, RefundStatus.DUE)
    assert [o.id for o in await loans.overpayments(1)] == [due.id]
    assert await loans.mark_refunded(due.id) is True
    assert await loans.mark_refunded(due.id) is False  # once
    assert await loans.refunds_due() == []


async def test_a_payment_from_someone_else_is_refunded_and_counts_for_nobody(
    db: Database, loans: LoanService
) -> None:
    offer = await loans.offer_invoice(1, await first_due(loans))
    result = await loans.record_payment(2, offer.payload, 999, "stranger")
    assert result is not None and result.instalment is None
    assert (result.reason, result.refund_pence) == (OverpaymentReason.NOT_THE_BORROWER, 999)
    (loan,) = await loans.loans(1)
    assert loan.paid_pence == 0 and not loan.instalments[0].paid
    (refund,) = await loans.refunds_due()
    assert refund.payer_telegram_id == 2 and refund.refund_pence == 999
    assert await loans.overpayments(1) == []
    assert [o.id for o in await loans.overpayments(2)] == [refund.id]


async def test_a_repayment_is_dated_the_day_it_was_paid(
    db: Database, loans: LoanService, clock: ManualClock
) -> None:
    clock.advance(days=4)  # 25 Nov, weeks before the 21 Dec due date
    offer = await loans.offer_invoice(1, await first_due(loans))
    await loans.record_payment(1, offer.payload, offer.instalment.payable_pence, "early")
    async with db.transaction() as session:
        event = await session.scalar(select(PaymentEvent))
    assert event is not None
    assert (event.outcome, event.occurred_on) == ("on_time", date(2026, 11, 25))
    assert event.occurred_on <= clock().date()  # never in the future: the pass counts it
    assert offer.instalment.due_on - event.occurred_on > timedelta(days=20)


@given(
    amount=st.integers(min_value=0, max_value=10**7),
    dues=st.lists(st.integers(min_value=0, max_value=10**6), max_size=12),
)
def test_an_allocation_always_adds_up_to_the_penny(amount: int, dues: list[int]) -> None:
    owed = [Owed(i, due) for i, due in enumerate(dues)]
    result = allocate(amount, owed)
    assert result.applied_pence + result.refund_pence == amount
    assert all(0 < share.pence <= dues[share.instalment_id] for share in result.shares)
    assert [s.instalment_id for s in result.shares] == sorted(
        s.instalment_id for s in result.shares
    )
    # Each instalment is paid off before the next gets anything.
    assert all(share.completes for share in result.shares[:-1])
    assert result.refund_pence == max(0, amount - sum(dues))


async def test_an_invoice_can_be_paid_only_for_a_few_minutes_after_pay(
    db: Database, loans: LoanService, clock: ManualClock
) -> None:
    """Issue 15: a payment is a dangerous button; an old invoice says it expired."""
    minutes = int(INVOICE_VALID_FOR.total_seconds() // 60)
    assert f"{minutes} minutes" in texts.INVOICE_EXPIRED
    offer = await loans.offer_invoice(1, await first_due(loans))
    due = offer.instalment.payable_pence
    clock.advance(seconds=INVOICE_VALID_FOR.total_seconds() + 1)
    with pytest.raises(PaymentRejected) as refused:
        await loans.check_checkout(1, offer.payload, due)
    assert str(refused.value) == texts.INVOICE_EXPIRED
    # Pay again: the same invoice (if nothing changed), good for another few minutes.
    again = await loans.offer_invoice(1, offer.instalment.id)
    await loans.check_checkout(1, again.payload, again.instalment.payable_pence)
