"""Loans on SQLite and PostgreSQL: limits from the tiers, idempotent confirmation, no parallel
over-borrowing, payments recorded once, overdue fees once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from services.clock import ManualClock
from services.loan_terms import LATE_FEE_PENCE
from services.loans import (
    LoanService,
    OverLimit,
    PaymentRejected,
    mark_overdue,
    payment_payload,
)
from storage.db import Database
from storage.models import Citizen, Instalment, Loan, PaymentEvent, Score

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


async def citizen_with_score(db: Database, telegram_id: int, score: int, band: str) -> int:
    async with db.transaction() as session:
        citizen = Citizen(
            telegram_id=telegram_id, chat_id=telegram_id, display_name="Borrower",
            ni_hash=f"{telegram_id:064d}", ni_masked="AB •• •• •• C",
            date_of_birth=date(1990, 1, 1), registered_at=NOW,
        )  # fmt: skip
        session.add(citizen)
        await session.flush()
        session.add(Score(citizen_id=citizen.id, score=score, band=band, computed_at=NOW))
        return citizen.id


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def loans(db: Database, clock: ManualClock) -> LoanService:
    return LoanService(db, clock, LONDON)


async def test_the_limit_comes_from_the_band(db: Database, loans: LoanService) -> None:
    await citizen_with_score(db, 1, 620, "Good")
    await citizen_with_score(db, 2, 400, "Poor")
    good = await loans.eligibility(1)
    assert (good.limit_pence, good.available_pence, good.can_borrow) == (15_000, 15_000, True)
    poor = await loans.eligibility(2)
    assert poor.limit_pence == 0 and not poor.can_borrow


async def test_a_double_tapped_confirm_makes_one_loan(db: Database, loans: LoanService) -> None:
    await citizen_with_score(db, 1, 620, "Good")
    first, second = await asyncio.gather(
        loans.confirm(1, 10_000, 6, "key-1"), loans.confirm(1, 10_000, 6, "key-1")
    )
    assert first.id == second.id
    assert len(first.instalments) == 6
    assert first.next_due is not None and first.next_due.due_on == date(2026, 12, 21)
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Loan)) == 1


async def test_parallel_applications_never_exceed_the_limit(
    db: Database, loans: LoanService
) -> None:
    await citizen_with_score(db, 1, 620, "Good")  # limit £150
    results = await asyncio.gather(
        loans.confirm(1, 10_000, 3, "a"), loans.confirm(1, 10_000, 3, "b"), return_exceptions=True
    )
    assert sum(isinstance(r, OverLimit) for r in results) == 1
    assert (await loans.eligibility(1)).outstanding_pence == 10_000
    with pytest.raises(OverLimit, match=r"up to £50\.00"):
        await loans.confirm(1, 6_000, 3, "c")


async def test_a_payment_is_checked_and_recorded_once(db: Database, loans: LoanService) -> None:
    await citizen_with_score(db, 1, 620, "Good")
    loan = await loans.confirm(1, 6_000, 3, "k")
    first = loan.instalments[0]
    payload = payment_payload(first.id, first.payable_pence)
    with pytest.raises(PaymentRejected, match="amount"):
        await loans.check_checkout(1, payload, first.payable_pence + 1)
    with pytest.raises(PaymentRejected):
        await loans.check_checkout(2, payload, first.payable_pence)  # someone else's
    await loans.check_checkout(1, payload, first.payable_pence)
    assert await loans.record_payment(1, payload, first.payable_pence, "charge-1") is not None
    assert await loans.record_payment(1, payload, first.payable_pence, "charge-1") is None
    with pytest.raises(PaymentRejected, match="already paid"):
        await loans.check_checkout(1, payload, first.payable_pence)
    (view,) = await loans.loans(1)
    assert view.paid_pence == first.amount_pence
    async with db.transaction() as session:
        events = (await session.scalars(select(PaymentEvent))).all()
    assert [(e.kind, e.outcome) for e in events] == [("loan_instalment", "on_time")]


async def test_overdue_adds_the_fee_once_and_counts_as_missed_until_paid(
    db: Database, loans: LoanService, clock: ManualClock
) -> None:
    await citizen_with_score(db, 1, 620, "Good")
    loan = await loans.confirm(1, 6_000, 3, "k")
    async with db.transaction() as session:
        instalment = await session.get(Instalment, loan.instalments[0].id)
        assert instalment is not None
        assert await mark_overdue(session, instalment, clock()) is True
        assert await mark_overdue(session, instalment, clock()) is False
    async with db.transaction() as session:
        event = await session.scalar(select(PaymentEvent))
        assert event is not None and event.outcome == "missed"
    clock.advance(days=40)
    due = (await loans.loans(1))[0].instalments[0]
    assert due.payable_pence == due.amount_pence + LATE_FEE_PENCE
    payload = payment_payload(due.id, due.payable_pence)
    await loans.record_payment(1, payload, due.payable_pence, "late-charge")
    async with db.transaction() as session:
        event = await session.scalar(select(PaymentEvent))
        assert event is not None and event.outcome == "late"
    assert clock() - NOW == timedelta(days=40)
