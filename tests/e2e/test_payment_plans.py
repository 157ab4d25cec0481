"""Help when it goes wrong, through the real bot against the stand-in, on SQLite and
PostgreSQL: overdue reminders and /help point to free debt advice; "I can't pay this" (on an
overdue reminder or in /loans) asks for a payment plan, which pauses the loan's reminders and
late fees; a reviewer agrees or declines it in /review and the borrower is told.

Dates come from the ManualClock, never from the wall clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.service import BritizenService
from services.clock import ManualClock
from standin import BotApiStandIn
from storage.models import Instalment, OutboxMessage, PaymentPlanRequest
from storage.statuses import PaymentPlanStatus
from tests.e2e.conftest import ServiceFactory, register
from tests.e2e.test_loans import forge
from tests.standin.driver import Citizen, callback_data

LONDON = ZoneInfo("Europe/London")
ADMIN = 990
FREE_HELP = ("MoneyHelper", "0800 138 7777", "StepChange", "0800 138 1111")
ALL_HELP = (
    *FREE_HELP,
    "National Debtline",
    "0808 808 4000",
    "nationaldebtline.org",
    "Citizens Advice",
    "0800 144 8848",
    "citizensadvice.org.uk",
)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), LONDON).astimezone(UTC)


async def reminder_kinds(service: BritizenService, chat_id: int) -> list[str]:
    async with service.db.transaction() as session:
        rows = await session.scalars(
            select(OutboxMessage.kind)
            .where(OutboxMessage.chat_id == chat_id, OutboxMessage.kind.like("reminder:%"))
            .order_by(OutboxMessage.id)
        )
        return list(rows.all())


async def late_fees(service: BritizenService) -> list[int]:
    async with service.db.transaction() as session:
        return list((await session.scalars(select(Instalment.late_fee_pence))).all())


async def test_an_overdue_reminder_offers_help_and_a_declined_plan_resumes_reminders(
    start_service: ServiceFactory,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
    clock: ManualClock,
) -> None:
    service = await start_service(admin_ids=[ADMIN])
    alice = citizen(701, "Alice")
    await register(alice, "AB 70 10 01 A")
    await service.services.loans.confirm(701, 9_000, 3, "e2e-plan-1")

    await alice.send("/help")
    await alice.expect("/debthelp —", "Free, confidential debt advice", *ALL_HELP)

    clock.now = at(date(2026, 12, 22), 10)
    await service.run_reminder_scan()
    await alice.expect("1 day overdue", "late fee", "can't be switched off", *FREE_HELP)
    assert alice.buttons() == ["🙋 I can't pay this", "🤝 Free debt help"]
    await alice.press("Free debt help")
    await alice.expect("never pay for debt advice", *ALL_HELP)

    ask = callback_data(alice, "I can't pay this")
    await alice.press("I can't pay this")
    await alice.expect(
        "We've asked for a payment plan for your £90.00 loan",
        "instalment 1, due 21 Dec 2026",
        "Reminders for this loan are paused",
        "no late fee is added",
    )
    admin = citizen(ADMIN, "Reviewer")
    await admin.expect("New payment plan request #", "/review")
    # A second tap says it's already asked, and asks nothing more.
    assert "already asked" in await forge(standin, alice, ask)
    await alice.send("/loans")
    await alice.expect("Payment plan asked for: reminders paused")
    assert alice.buttons() == [
        "Pay £43.00 (instalment 1)",
        "Settle in full: £103.49",
        "🤝 Free debt help",
    ]

    # A week overdue: the scan would send the last reminder; paused, it sends nothing.
    clock.now = at(date(2026, 12, 28), 10)
    await service.run_reminder_scan()
    await alice.expect_nothing(quiet=0.5)
    assert await reminder_kinds(service, 701) == ["reminder:overdue_1_day"]

    outsider = citizen(702, "Mallory")
    await outsider.send("/review")
    await outsider.expect("for Britizen's reviewers")
    await admin.send("/review")
    await admin.expect(
        "Payment plan request #",
        "(1 waiting) from Alice",
        "£90.00 over 3 months",
        "instalment 1, due 21 Dec 2026, £43.00 to pay",
    )
    await admin.press("Decline plan")
    await admin.expect("Declining payment plan request #", "Type a note")
    await admin.send("We can't spread this one; please call StepChange first.")
    await admin.expect("declined; the borrower has been told")
    await admin.expect("no payment plan requests are waiting")
    await alice.expect("wasn't agreed", "please call StepChange first", *ALL_HELP)

    clock.now = at(date(2026, 12, 28), 10, 5)
    await service.run_reminder_scan()
    await alice.expect("7 days overdue", *FREE_HELP)
    async with service.db.transaction() as session:
        request = await session.scalar(select(PaymentPlanRequest))
    assert request is not None and request.status == PaymentPlanStatus.DECLINED
    assert request.reviewer_telegram_id == ADMIN


async def test_asked_from_loans_before_it_is_due_no_late_fee_and_an_agreed_plan(
    start_service: ServiceFactory,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
    clock: ManualClock,
) -> None:
    service = await start_service(admin_ids=[ADMIN])
    bob = citizen(711, "Bob")
    await register(bob, "CE 71 10 01 B")
    await service.services.loans.confirm(711, 9_000, 3, "e2e-plan-2")

    await bob.send("/loans")
    await bob.expect("Next: £31.00 due Mon 21 Dec 2026")
    assert [b for b in bob.buttons() if "can't pay" in b] == []  # a month away: not yet

    clock.now = at(date(2026, 12, 19), 10)
    await bob.send("/loans")
    await bob.expect("Next: £31.00 due Mon 21 Dec 2026")
    assert bob.buttons()[2:] == ["🙋 I can't pay this", "🤝 Free debt help"]
    assert bob.buttons()[1].startswith("Settle in full: £")
    ask = callback_data(bob, "I can't pay this")
    # Someone else pressing Bob's button (forwarded, forged) asks nothing.
    eve = citizen(712, "Eve")
    await register(eve, "CE 71 20 01 B")
    assert "nothing to ask about" in await forge(standin, eve, ask)
    await bob.press("I can't pay this")
    await bob.expect("We've asked for a payment plan", "You can still pay anything you can")

    # Overdue, and no late fee: the scan passes the loan by.
    clock.now = at(date(2026, 12, 22), 10)
    await service.run_reminder_scan()
    await bob.expect_nothing(quiet=0.5)
    assert await late_fees(service) == [0, 0, 0]
    assert await reminder_kinds(service, 711) == []

    admin = citizen(ADMIN, "Reviewer")
    await admin.expect("New payment plan request #")
    await admin.send("/review")
    await admin.expect("from Bob", "£31.00 to pay")
    agree = callback_data(admin, "Agree plan")
    await admin.press("Agree plan")
    await admin.expect("Agreeing payment plan request #", "the plan: how much, and when")
    await admin.send("£10 a week for nine weeks, from Friday 1 January.")
    await admin.expect("agreed; the borrower has been told")
    await bob.expect("was agreed", "£10 a week for nine weeks", "stay paused")
    await admin.expect("no payment plan requests are waiting")
    # The decided request's button, pressed again: deciding it twice changes nothing.
    await forge(standin, admin, agree)
    await admin.expect("Agreeing payment plan request #")
    await admin.send("Actually, £5 a week.")
    await admin.expect("already been decided")
    await bob.expect_nothing(quiet=0.3)

    clock.now = at(date(2026, 12, 29), 10)
    await service.run_reminder_scan()
    await bob.expect_nothing(quiet=0.5)
    assert await late_fees(service) == [0, 0, 0]
    await bob.send("/loans")
    await bob.expect("Payment plan agreed")
    await bob.send("/debthelp")
    await bob.expect("Struggling to pay?", *ALL_HELP, "I can't pay this")
