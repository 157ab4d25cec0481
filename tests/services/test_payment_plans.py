"""Payment plans on SQLite and PostgreSQL: "I can't pay this" opens one request per loan; while
it is open (and once agreed) the loan's reminders pause and no late fee is added; only a
reviewer sees and decides it, and the borrower is told the outcome through the outbox."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from notifications.reminders import ReminderScan
from services.clock import ManualClock
from services.errors import NotAllowed
from services.loan_terms import LATE_FEE_PENCE
from services.loans import LoanService, mark_overdue
from services.payment_plans import (
    AlreadyAgreed,
    AlreadyAsked,
    NotAskable,
    NotReviewable,
    PaymentPlanService,
)
from storage.db import Database
from storage.models import (
    Citizen,
    Instalment,
    OutboxMessage,
    PaymentEvent,
    PaymentPlanRequest,
    Reminder,
    Score,
)
from storage.statuses import PaymentPlanStatus
from tests.notifications.test_reminders import LONDON, london
from tests.support.narrowing import present

START = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
FIRST_DUE = date(2026, 12, 21)
ADMIN = 990
HELD, CONTROL = 1, 2  # two borrowers whose first instalments fall due the same day


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


async def borrow(db: Database, clock: ManualClock, telegram_id: int) -> int:
    """A registered borrower with a £90 loan over 3 months; returns the first instalment's id."""
    async with db.transaction() as session:
        citizen = Citizen(
            telegram_id=telegram_id, chat_id=telegram_id, display_name=f"Borrower {telegram_id}",
            ni_hash=f"{telegram_id:064d}", ni_masked="AB •• •• •• C",
            date_of_birth=date(1990, 1, 1), registered_at=START,
        )  # fmt: skip
        session.add(citizen)
        await session.flush()
        session.add(Score(citizen_id=citizen.id, score=620, band="Good", computed_at=START))
    loan = await LoanService(db, clock, LONDON).confirm(telegram_id, 9_000, 3, f"key-{telegram_id}")
    return loan.instalments[0].id


def plans_for(db: Database, clock: ManualClock) -> PaymentPlanService:
    return PaymentPlanService(db, clock, LONDON, admin_ids=[ADMIN])


async def outbox_by_chat(db: Database) -> Counter[tuple[int, str]]:
    async with db.transaction() as session:
        rows = (await session.execute(select(OutboxMessage.chat_id, OutboxMessage.kind))).all()
    return Counter((chat, kind) for chat, kind in rows)


async def outbox_texts(db: Database, chat_id: int, kind: str) -> list[str]:
    async with db.transaction() as session:
        texts = await session.scalars(
            select(OutboxMessage.text).where(
                OutboxMessage.chat_id == chat_id, OutboxMessage.kind == kind
            )
        )
        return [present(text) for text in texts.all()]


async def late_fee(db: Database, instalment_id: int) -> int:
    async with db.transaction() as session:
        row = await session.get(Instalment, instalment_id)
        assert row is not None
        return row.late_fee_pence


async def reminders_of(db: Database, instalment_id: int) -> set[str]:
    async with db.transaction() as session:
        return set(
            (
                await session.scalars(
                    select(Reminder.kind).where(Reminder.instalment_id == instalment_id)
                )
            ).all()
        )


async def scan_days(db: Database, clock: ManualClock, *days: date) -> None:
    scan = ReminderScan(db, clock, LONDON)
    for day in days:
        clock.now = london(day, 10)
        await scan.run_once()


async def test_an_open_request_pauses_the_loans_reminders_and_late_fee(
    db: Database, clock: ManualClock
) -> None:
    held = await borrow(db, clock, HELD)
    control = await borrow(db, clock, CONTROL)
    plans = plans_for(db, clock)
    clock.now = london(date(2026, 12, 18), 10)
    asked = await plans.ask(HELD, held)  # three days before it is due
    assert asked.instalment_number == 1 and asked.due_on == FIRST_DUE
    assert await outbox_by_chat(db) == Counter({(ADMIN, "payment_plan_admin"): 1})

    await scan_days(db, clock, date(2026, 12, 18), FIRST_DUE, date(2026, 12, 22))
    await scan_days(db, clock, date(2026, 12, 28))
    # The control borrower, same day, same loan, no request: every reminder and the fee.
    kinds = await outbox_by_chat(db)
    assert {kind for (chat, kind) in kinds if chat == CONTROL} == {
        "reminder:before_3_days",
        "reminder:due_today",
        "reminder:overdue_1_day",
        "reminder:overdue_7_days",
    }
    assert await late_fee(db, control) == LATE_FEE_PENCE
    # The held loan: nothing queued, nothing decided, no fee, no "missed" yet.
    assert not [kind for (chat, kind) in kinds if chat == HELD]
    assert await reminders_of(db, held) == set()
    assert await late_fee(db, held) == 0
    async with db.transaction() as session:
        missed = (await session.scalars(select(PaymentEvent.citizen_id))).all()
    assert len(missed) == 1  # the control borrower's


async def test_mark_overdue_adds_no_fee_under_an_open_request(
    db: Database, clock: ManualClock
) -> None:
    held = await borrow(db, clock, HELD)
    clock.now = london(date(2026, 12, 22), 10)
    await plans_for(db, clock).ask(HELD, held)
    async with db.transaction() as session:
        row = await session.get(Instalment, held)
        assert row is not None
        assert await mark_overdue(session, row, clock()) is False
        assert row.late_fee_pence == 0


async def test_one_open_request_per_loan_even_for_two_taps_at_once(
    db: Database, clock: ManualClock
) -> None:
    first = await borrow(db, clock, HELD)
    plans = plans_for(db, clock)
    clock.now = london(FIRST_DUE, 10)
    results = await asyncio.gather(
        plans.ask(HELD, first), plans.ask(HELD, first), return_exceptions=True
    )
    assert sorted(type(r).__name__ for r in results) == ["AlreadyAsked", "PlanAsked"]
    with pytest.raises(AlreadyAsked):
        await plans.ask(HELD, first)
    async with db.transaction() as session:
        rows = (await session.scalars(select(PaymentPlanRequest))).all()
    assert [r.status for r in rows] == [PaymentPlanStatus.OPEN]
    # The database itself refuses a second open request for the loan.
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            session.add(
                PaymentPlanRequest(
                    citizen_id=rows[0].citizen_id,
                    loan_id=rows[0].loan_id,
                    status=PaymentPlanStatus.OPEN,
                    created_at=clock(),
                )
            )


async def test_only_the_borrower_asks_and_only_about_an_instalment_due_soon(
    db: Database, clock: ManualClock
) -> None:
    mine = await borrow(db, clock, HELD)
    await borrow(db, clock, CONTROL)
    plans = plans_for(db, clock)
    clock.now = london(date(2026, 12, 17), 10)  # four days before: too early to ask
    with pytest.raises(NotAskable):
        await plans.ask(HELD, mine)
    clock.now = london(date(2026, 12, 18), 10)
    with pytest.raises(NotAskable):
        await plans.ask(CONTROL, mine)  # someone else's instalment
    with pytest.raises(NotAskable):
        await plans.ask(HELD, 999_999)
    loans = LoanService(db, clock, LONDON)
    offer = await loans.offer_invoice(HELD, mine)
    await loans.record_payment(HELD, offer.payload, offer.instalment.payable_pence, "charge-1")
    with pytest.raises(NotAskable):
        await plans.ask(HELD, mine)  # paid
    async with db.transaction() as session:
        assert (await session.scalars(select(PaymentPlanRequest))).all() == []


async def test_only_a_reviewer_sees_and_decides_requests(db: Database, clock: ManualClock) -> None:
    held = await borrow(db, clock, HELD)
    plans = plans_for(db, clock)
    clock.now = london(date(2026, 12, 22), 10)
    asked = await plans.ask(HELD, held)
    with pytest.raises(NotAllowed):
        await plans.next_in_queue(HELD)
    with pytest.raises(NotAllowed):
        await plans.review(asked.id, HELD, True, "I agree with myself")
    item = await plans.next_in_queue(ADMIN)
    assert item is not None
    assert (item.id, item.citizen_name, item.waiting) == (asked.id, f"Borrower {HELD}", 1)
    assert (item.instalment_number, item.due_on, item.principal_pence) == (1, FIRST_DUE, 9_000)
    assert item.payable_pence > 0 and item.left_to_pay_pence >= item.payable_pence
    async with db.transaction() as session:
        row = await session.get(PaymentPlanRequest, asked.id)
    assert row is not None and row.status == PaymentPlanStatus.OPEN


async def test_declined_resumes_reminders_and_the_late_fee_and_the_borrower_is_told(
    db: Database, clock: ManualClock
) -> None:
    held = await borrow(db, clock, HELD)
    plans = plans_for(db, clock)
    clock.now = london(date(2026, 12, 22), 10)
    asked = await plans.ask(HELD, held)
    await scan_days(db, clock, date(2026, 12, 22))
    assert await reminders_of(db, held) == set() and await late_fee(db, held) == 0

    decision = await plans.review(asked.id, ADMIN, False, "  We can't lower   this one. ")
    assert not decision.agreed
    with pytest.raises(NotReviewable):
        await plans.review(asked.id, ADMIN, True, "changed my mind")
    [told] = await outbox_texts(db, HELD, "payment_plan_outcome")
    assert "wasn't agreed" in told and "We can't lower this one." in told
    assert "StepChange" in told and "0800 138 1111" in told

    await scan_days(db, clock, date(2026, 12, 23))
    assert await reminders_of(db, held) == {"before_3_days", "due_today", "overdue_1_day"}
    assert (HELD, "reminder:overdue_1_day") in await outbox_by_chat(db)
    assert await late_fee(db, held) == LATE_FEE_PENCE
    assert await plans.next_in_queue(ADMIN) is None
    # Declined is not the end: they can ask again.
    again = await plans.ask(HELD, held)
    assert again.id != asked.id


async def test_an_agreed_plan_keeps_the_pause(db: Database, clock: ManualClock) -> None:
    held = await borrow(db, clock, HELD)
    plans = plans_for(db, clock)
    clock.now = london(FIRST_DUE, 10)
    asked = await plans.ask(HELD, held)
    await plans.review(asked.id, ADMIN, True, "Pay £10 a week from Friday.")
    [told] = await outbox_texts(db, HELD, "payment_plan_outcome")
    assert "was agreed" in told and "£10 a week" in told
    with pytest.raises(AlreadyAgreed):
        await plans.ask(HELD, held)
    assert list((await plans.held_loans(HELD)).values()) == [PaymentPlanStatus.AGREED]
    await scan_days(db, clock, date(2026, 12, 22), date(2026, 12, 28))
    assert await reminders_of(db, held) == set() and await late_fee(db, held) == 0


async def test_a_borrower_who_blocked_the_bot_is_not_queued_a_message(
    db: Database, clock: ManualClock
) -> None:
    held = await borrow(db, clock, HELD)
    plans = plans_for(db, clock)
    clock.now = london(FIRST_DUE, 10)
    asked = await plans.ask(HELD, held)
    async with db.transaction() as session:
        citizen = await session.scalar(select(Citizen).where(Citizen.telegram_id == HELD))
        assert citizen is not None
        citizen.unreachable_at = clock()
    await plans.review(asked.id, ADMIN, False, "No.")
    assert await outbox_texts(db, HELD, "payment_plan_outcome") == []
