"""The loan-reminder scan on SQLite and PostgreSQL: each reminder once, at the right local time,
stale ones skipped after downtime, quiet hours, opt-outs, late fees, and the score."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from notifications.reminders import ReminderScan
from services.clock import ManualClock
from services.loan_terms import LATE_FEE_PENCE
from services.loans import LoanService, payment_payload
from services.scoring_pass import ScoringPass
from storage.db import Database
from storage.models import Citizen, OutboxMessage, PaymentEvent, Reminder, Score

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
FIRST_DUE = date(2026, 12, 21)


def london(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), LONDON).astimezone(UTC)


async def borrower(db: Database, clock: ManualClock, *, friendly: bool = True) -> LoanService:
    async with db.transaction() as session:
        citizen = Citizen(
            telegram_id=1, chat_id=1, display_name="Borrower", ni_hash="1" * 64,
            ni_masked="AB •• •• •• C", date_of_birth=date(1990, 1, 1), registered_at=START,
            friendly_reminders=friendly,
        )  # fmt: skip
        session.add(citizen)
        await session.flush()
        session.add(Score(citizen_id=citizen.id, score=620, band="Good", computed_at=START))
    loans = LoanService(db, clock, LONDON)
    await loans.confirm(1, 9_000, 3, "key")
    return loans


async def queued_kinds(db: Database) -> Counter[str]:
    async with db.transaction() as session:
        kinds = (await session.scalars(select(OutboxMessage.kind))).all()
    return Counter(kinds)


async def decisions(db: Database) -> dict[str, str]:
    async with db.transaction() as session:
        rows = (await session.execute(select(Reminder.kind, Reminder.outcome))).all()
    return {kind: outcome for kind, outcome in rows}


async def test_each_reminder_is_queued_once_at_its_time(db: Database) -> None:
    clock = ManualClock(START)
    await borrower(db, clock)
    scan = ReminderScan(db, clock, LONDON)
    for moment, expected in [
        (london(date(2026, 12, 18), 8, 59), {}),
        (london(date(2026, 12, 18), 9, 30), {"reminder:before_3_days": 1}),
        (london(date(2026, 12, 19), 10), {"reminder:before_3_days": 1}),
        (london(date(2026, 12, 21), 9, 5), {"reminder:before_3_days": 1, "reminder:due_today": 1}),
        (
            london(date(2026, 12, 22), 9, 5),
            {"reminder:before_3_days": 1, "reminder:due_today": 1, "reminder:overdue_1_day": 1},
        ),
        (
            london(date(2026, 12, 28), 9, 5),
            {
                "reminder:before_3_days": 1,
                "reminder:due_today": 1,
                "reminder:overdue_1_day": 1,
                "reminder:overdue_7_days": 1,
            },
        ),
    ]:
        clock.now = moment
        await scan.run_once()
        await scan.run_once()  # a second tick at the same moment adds nothing
        assert await queued_kinds(db) == Counter(expected), moment


async def test_a_restart_between_reminders_duplicates_nothing(db_url: str) -> None:
    clock = ManualClock(START)
    first = Database(db_url)
    await borrower(first, clock)
    clock.now = london(date(2026, 12, 18), 10)
    await ReminderScan(first, clock, LONDON).run_once()
    await first.close()

    second = Database(db_url)  # a new process: nothing carried over in memory
    try:
        await ReminderScan(second, clock, LONDON).run_once()
        clock.now = london(date(2026, 12, 21), 10)
        await ReminderScan(second, clock, LONDON).run_once()
        assert await queued_kinds(second) == Counter(
            {"reminder:before_3_days": 1, "reminder:due_today": 1}
        )
    finally:
        await second.close()


async def test_after_downtime_stale_reminders_are_skipped_not_sent(db: Database) -> None:
    clock = ManualClock(START)
    await borrower(db, clock)
    clock.now = london(date(2026, 12, 22), 10)  # down from before the 18th until now
    await ReminderScan(db, clock, LONDON).run_once()
    assert await queued_kinds(db) == Counter({"reminder:overdue_1_day": 1})
    assert await decisions(db) == {
        "before_3_days": "skipped_stale",
        "due_today": "skipped_stale",
        "overdue_1_day": "queued",
    }


async def test_quiet_hours_wait_until_morning(db: Database) -> None:
    clock = ManualClock(START)
    await borrower(db, clock)
    scan = ReminderScan(db, clock, LONDON)
    clock.now = london(date(2026, 12, 18), 22)
    await scan.run_once()
    clock.now = london(date(2026, 12, 19), 7, 30)
    await scan.run_once()
    assert await queued_kinds(db) == Counter()
    clock.now = london(date(2026, 12, 19), 8)
    await scan.run_once()
    assert await queued_kinds(db) == Counter({"reminder:before_3_days": 1})


async def test_friendly_reminders_can_be_off_but_overdue_ones_still_go(db: Database) -> None:
    clock = ManualClock(START)
    await borrower(db, clock, friendly=False)
    scan = ReminderScan(db, clock, LONDON)
    for day in (18, 21, 22):
        clock.now = london(date(2026, 12, day), 10)
        await scan.run_once()
    assert await queued_kinds(db) == Counter({"reminder:overdue_1_day": 1})
    assert (await decisions(db))["due_today"] == "skipped_opted_out"


async def test_a_paid_instalment_gets_no_more_reminders(db: Database) -> None:
    clock = ManualClock(START)
    loans = await borrower(db, clock)
    first = (await loans.loans(1))[0].instalments[0]
    await loans.record_payment(
        1, payment_payload(first.id, first.amount_pence), first.amount_pence, "c1"
    )
    clock.now = london(date(2026, 12, 21), 10)
    await ReminderScan(db, clock, LONDON).run_once()
    assert await queued_kinds(db) == Counter()


async def test_overdue_adds_the_late_fee_once_and_a_missed_instalment_lowers_the_score(
    db: Database,
) -> None:
    clock = ManualClock(START)
    await borrower(db, clock)
    scoring = ScoringPass(db, clock, LONDON)
    clock.now = london(date(2026, 12, 20), 2)
    await scoring.run()
    async with db.transaction() as session:
        before = await session.scalar(select(Score.score))
    scan = ReminderScan(db, clock, LONDON)
    clock.now = london(date(2026, 12, 22), 10)
    assert (await scan.run_once()).late_fees == 1
    clock.now = london(date(2026, 12, 23), 10)
    assert (await scan.run_once()).late_fees == 0
    async with db.transaction() as session:
        event = await session.scalar(select(PaymentEvent))
        assert event is not None and (event.kind, event.outcome) == ("loan_instalment", "missed")
        text = await session.scalar(
            select(OutboxMessage.text).where(OutboxMessage.kind == "reminder:overdue_1_day")
        )
        assert text is not None and "late fee" in text
    assert LATE_FEE_PENCE == 1_200
    clock.now = london(date(2026, 12, 24), 2)
    await scoring.run()
    async with db.transaction() as session:
        after = await session.scalar(select(Score.score))
    assert before is not None and after is not None and after < before


async def test_unreachable_citizens_are_skipped(db: Database) -> None:
    clock = ManualClock(START)
    await borrower(db, clock)
    async with db.transaction() as session:
        await session.execute(update(Citizen).values(unreachable_at=START))
    clock.now = london(date(2026, 12, 18), 10)
    await ReminderScan(db, clock, LONDON).run_once()
    assert await queued_kinds(db) == Counter()
    assert await decisions(db) == {"before_3_days": "skipped_unreachable"}
