"""Paying early through the invoice path (issue 16): an instalment paid early costs less, and
Settle in full is one invoice for every unpaid instalment at today's price, with the same
guarantees as Pay (one live invoice, only the borrower, the exact amount, counted once)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

import texts.payments as texts
from services.clock import ManualClock
from services.loans import LoanService, PaymentRejected
from services.settlement import Due, loan_apr, settlement
from storage.db import Database
from storage.models import PaymentEvent
from tests.services.test_loans import LONDON, NOW, citizen_with_score


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
async def loans(db: Database, clock: ManualClock) -> LoanService:
    service = LoanService(db, clock, LONDON)
    await citizen_with_score(db, 1, 620, "Good")  # the borrower
    await citizen_with_score(db, 2, 620, "Good")  # someone else
    await service.confirm(1, 10_000, 6, "k")
    return service


async def test_an_instalment_paid_early_costs_less_and_the_saving_is_kept(
    loans: LoanService,
) -> None:
    (loan,) = await loans.loans(1)
    first = loan.instalments[0]
    assert first.rebate_pence > 0 and first.payable_pence == first.amount_pence - first.rebate_pence
    offer = await loans.offer_invoice(1, first.id)
    assert offer.amount_pence == first.payable_pence and offer.saving_pence == first.rebate_pence
    await loans.check_checkout(1, offer.payload, offer.amount_pence)
    result = await loans.record_payment(1, offer.payload, offer.amount_pence, "c1")
    assert result is not None and result.saved_pence == first.rebate_pence
    assert not result.settled
    (loan,) = await loans.loans(1)
    assert loan.paid_pence == offer.amount_pence
    assert loan.saved_pence == first.rebate_pence
    # What's left is still the schedule: the saving is only on what was paid early.
    assert loan.remaining_pence == loan.total_repayable_pence - first.amount_pence


async def test_settle_in_full_pays_everything_once_at_todays_price(
    db: Database, loans: LoanService, clock: ManualClock
) -> None:
    clock.advance(days=40)  # 31 Dec: the first instalment (21 Dec) is overdue
    (loan,) = await loans.loans(1)
    due = loan.next_due
    assert due is not None
    today = loans.today()
    expected = settlement(
        [Due(i.amount_pence, i.due_on) for i in loan.instalments], today, loan_apr(1990)
    )
    assert loan.settle_pence == expected.settle_pence
    assert loan.settle_saving_pence == expected.rebate_pence > 0
    assert loan.instalments[0].rebate_pence == 0  # overdue: never discounted

    offer = await loans.offer_invoice(1, due.id, settle=True)
    assert (offer.amount_pence, offer.saving_pence, offer.instalments) == (
        expected.settle_pence,
        expected.rebate_pence,
        6,
    )
    assert offer.payload.startswith("settle:")
    again = await loans.offer_invoice(1, due.id, settle=True)
    assert again.payload == offer.payload  # one live invoice, offered again

    async def refusal(payer: int, payload: str, amount: int) -> str:
        with pytest.raises(PaymentRejected) as refused:
            await loans.check_checkout(payer, payload, amount)
        return str(refused.value)

    amount = offer.amount_pence
    assert await refusal(2, offer.payload, amount) == texts.NOT_YOUR_LOAN
    assert await refusal(1, offer.payload, amount - 1) == texts.amount_changed(amount)
    # A Pay invoice replaces the settlement invoice, and the other way round: one live invoice.
    pay = await loans.offer_invoice(1, due.id)
    assert await refusal(1, offer.payload, amount) == texts.REPLACED
    offer = await loans.offer_invoice(1, due.id, settle=True)
    assert await refusal(1, pay.payload, pay.amount_pence) == texts.REPLACED
    # A day later the price has moved: the old invoice is refused, a new one costs more.
    clock.advance(days=1)
    assert await refusal(1, offer.payload, amount) == texts.amount_changed(
        (await loans.offer_invoice(1, due.id, settle=True)).amount_pence
    )
    offer = await loans.offer_invoice(1, due.id, settle=True)
    assert offer.amount_pence >= amount

    await loans.check_checkout(1, offer.payload, offer.amount_pence)
    result = await loans.record_payment(1, offer.payload, offer.amount_pence, "settle-1")
    assert result is not None and result.settled
    assert len(result.completed) == 6 and result.overpaid_pence == 0
    assert result.saved_pence == offer.saving_pence
    assert await loans.record_payment(1, offer.payload, offer.amount_pence, "settle-1") is None
    (loan,) = await loans.loans(1)
    assert loan.repaid
    assert loan.paid_pence == offer.amount_pence
    assert loan.saved_pence == offer.saving_pence
    assert loan.paid_pence + loan.saved_pence == loan.total_repayable_pence
    async with db.transaction() as session:
        events = (await session.scalars(select(PaymentEvent))).all()
        assert await session.scalar(select(func.count()).select_from(PaymentEvent)) == 6
    outcomes = sorted(e.outcome for e in events)
    assert outcomes == ["late"] + ["on_time"] * 5
    assert {e.occurred_on for e in events} == {date(2027, 1, 1)}
