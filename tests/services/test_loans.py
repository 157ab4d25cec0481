"""Loans on SQLite and PostgreSQL: limits from the tiers, idempotent confirmation, no parallel
over-borrowing, payments recorded once, overdue fees once, and the /loan conversation kept in
the dialog row."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from services.clock import ManualClock
from services.dialogs import DialogService
from services.loan_terms import LATE_FEE_PENCE, InvalidAmount
from services.loans import (
    FLOW,
    IdentityCheck,
    IdentityRequested,
    LoanApplications,
    LoanService,
    NoLongerEligible,
    OverLimit,
    PaymentRejected,
    QuoteExpired,
    Refusal,
    StaleApplication,
    Unlock,
    mark_overdue,
    payment_payload,
)
from services.secrets import ni_number_hash
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
    # Only the live invoice's payload (from the Pay button) passes the checkout.
    payload = (await loans.offer_invoice(1, first.id)).payload
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
    assert view.paid_pence == first.payable_pence  # paid a month early: less interest
    assert view.saved_pence == first.rebate_pence > 0
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


async def test_a_refusal_says_why_and_what_would_unlock_more(
    db: Database, loans: LoanService
) -> None:
    await citizen_with_score(db, 1, 420, "Poor")
    await citizen_with_score(db, 2, 620, "Good")
    await citizen_with_score(db, 3, 800, "Excellent")
    poor = await loans.eligibility(1)
    assert poor.refusal is Refusal.BAND_TOO_LOW and poor.amount_choices == ()
    assert poor.unlock == Unlock("Fair", 550, 5_000)
    assert (await loans.eligibility(3)).unlock is None

    good = await loans.eligibility(2)
    assert good.refusal is None and good.unlock == Unlock("Very good", 650, 30_000)
    assert good.amount_choices == (5_000, 10_000, 15_000)
    await loans.confirm(2, 6_000, 3, "a")
    # £90 left: the standard amounts that fit, plus all of it.
    assert (await loans.eligibility(2)).amount_choices == (5_000, 9_000)
    await loans.confirm(2, 8_000, 3, "b")
    used = await loans.eligibility(2)
    assert used.available_pence == 1_000 and used.refusal is Refusal.LIMIT_USED
    assert used.amount_choices == ()


KEY = b"test-secret-key"
NI_NUMBER = "AB 12 34 56 C"


async def with_ni_number(db: Database, telegram_id: int) -> None:
    """Give the borrower a real NI number's hash, for the check after Confirm."""
    async with db.transaction() as session:
        await session.execute(
            update(Citizen)
            .where(Citizen.telegram_id == telegram_id)
            .values(ni_hash=ni_number_hash(KEY, "AB123456C"))
        )


def applications_for(db: Database, loans: LoanService, clock: ManualClock) -> LoanApplications:
    return LoanApplications(loans, DialogService(db), IdentityCheck(db, KEY, clock))


async def test_the_loan_conversation_lives_in_the_dialog_row(
    db: Database, loans: LoanService, clock: ManualClock
) -> None:
    await citizen_with_score(db, 1, 620, "Good")
    await with_ni_number(db, 1)

    def fresh() -> LoanApplications:
        # A new object per step, as after a restart: nothing may be carried in memory.
        return applications_for(db, LoanService(db, clock, LONDON), clock)

    assert (await fresh().begin(1)).can_borrow
    with pytest.raises(StaleApplication):
        await fresh().choose_term(1, 6)  # not at the term step yet
    with pytest.raises(StaleApplication):
        await fresh().choose_amount(1, 30_000)  # not offered: over the limit
    with pytest.raises(InvalidAmount, match="negative"):
        await fresh().type_amount(1, "-5")
    assert await fresh().type_amount(1, "£75.50") == 7_550
    with pytest.raises(StaleApplication):
        await fresh().choose_amount(1, 5_000)  # the amount step is over
    application = await fresh().choose_term(1, 3)
    assert application.quote.principal_pence == 7_550
    assert (await fresh().pending(1)).key == application.key
    assert (await fresh().choose_term(1, 3)).key == application.key  # a double tap: same summary
    with pytest.raises(StaleApplication):
        await fresh().choose_term(1, 6)  # a different term from an old message
    row = await DialogService(db).get(1)
    assert row is not None and row.flow == FLOW and row.data["key"] == application.key
    with pytest.raises(StaleApplication):
        await fresh().confirm(1, "someone-elses-key")
    with pytest.raises(StaleApplication):
        await fresh().cancel(1, "someone-elses-key")

    assert await fresh().confirm(1, application.key) == IdentityRequested(again=False)
    assert await fresh().confirm(1, application.key) == IdentityRequested(again=True)
    first = await fresh().verify(1, NI_NUMBER)
    again = await fresh().confirm(1, application.key)  # a double tap, or a replay later
    assert first == again and first.principal_pence == 7_550
    assert await DialogService(db).get(1) is None
    with pytest.raises(StaleApplication):
        await fresh().confirm(2, application.key)  # someone else pressing it makes nothing
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Loan)) == 1


async def test_a_summary_confirmed_on_a_later_day_is_quoted_again(
    db: Database, loans: LoanService, clock: ManualClock
) -> None:
    await citizen_with_score(db, 1, 620, "Good")
    await with_ni_number(db, 1)
    applications = applications_for(db, loans, clock)
    await applications.begin(1)
    await applications.choose_amount(1, 10_000)
    old = await applications.choose_term(1, 3)
    clock.advance(days=1)
    with pytest.raises(QuoteExpired) as moved:
        await applications.confirm(1, old.key)
    fresh = moved.value.fresh
    assert fresh.key != old.key
    assert fresh.quote.instalments[0].due_on == date(2026, 12, 22)
    with pytest.raises(StaleApplication):
        await applications.confirm(1, old.key)
    assert isinstance(await applications.confirm(1, fresh.key), IdentityRequested)
    loan = await applications.verify(1, NI_NUMBER)
    assert loan.instalments[0].due_on == date(2026, 12, 22)


async def test_a_band_drop_mid_application_ends_it(
    db: Database, loans: LoanService, clock: ManualClock
) -> None:
    citizen = await citizen_with_score(db, 1, 620, "Good")
    dialogs = DialogService(db)
    applications = LoanApplications(loans, dialogs, IdentityCheck(db, KEY, clock))
    await applications.begin(1)
    async with db.transaction() as session:
        score = await session.get(Score, citizen)
        assert score is not None
        score.score, score.band = 420, "Poor"
    with pytest.raises(NoLongerEligible) as ended:
        await applications.type_amount(1, "50")
    assert ended.value.eligibility.refusal is Refusal.BAND_TOO_LOW
    assert await dialogs.get(1) is None
    with pytest.raises(OverLimit):
        await loans.confirm(1, 5_000, 3, "late")
