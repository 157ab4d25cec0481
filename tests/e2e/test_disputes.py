"""/dispute and the admins' /review queue through the real bot against the stand-in, on SQLite
and PostgreSQL: a contested partner event leaves scoring until reviewed, the citizen hears
the outcome, and any automated decision can go to a person."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from bot.service import BritizenService
from services.events import IncomingEvent
from storage.models import Dispute, PaymentEvent, Score
from tests.e2e.conftest import START, ServiceFactory, register
from tests.standin.driver import Citizen

ADMIN = 990
START_DAY = START.date()


async def payment_history(service: BritizenService, citizen_id: int) -> int | None:
    await service.services.scoring.run()
    async with service.db.transaction() as session:
        row = await session.get(Score, citizen_id)
    assert row is not None
    return row.payment_history


async def test_a_contested_event_leaves_scoring_until_an_admin_rejects_the_dispute(
    start_service: ServiceFactory, citizen: Callable[..., Citizen]
) -> None:
    service = await start_service(admin_ids=[ADMIN])
    alice = citizen(801, "Alice")
    await register(alice, "AB 80 10 01 A")
    partner, _key = await service.services.partners.create("Southern Water")
    await service.services.events.report(
        partner.id, [IncomingEvent("bill-9", "AB801001A", "bill", "missed", START_DAY)]
    )
    async with service.db.transaction() as session:
        event = await session.scalar(select(PaymentEvent))
    assert event is not None
    citizen_id = event.citizen_id
    before = await payment_history(service, citizen_id)
    assert before is not None and before < 0
    await alice.expect("Your band changed: Good → Fair")

    await alice.send("/dispute")
    await alice.expect("What would you like to contest?")
    await alice.press("A payment record")
    await alice.expect("Which payment record?")
    [label] = alice.buttons()
    assert "Southern Water" in label and "missed" in label
    await alice.press(label)
    await alice.expect("You're contesting the missed bill", "Southern Water")
    await alice.send("wrong")
    await alice.expect("at least 10 characters")
    await alice.send("I paid this bill on time; I have the bank statement.")
    await alice.expect("Dispute #", "no longer counts towards your score until it has been")
    async with service.db.transaction() as session:
        flagged = await session.get(PaymentEvent, event.id)
    assert flagged is not None and flagged.disputed
    assert await payment_history(service, citizen_id) == 0
    await alice.expect("Your band went up: Fair → Good")

    admin = citizen(ADMIN, "Reviewer")
    await admin.expect("New dispute #", "/review")
    outsider = citizen(802, "Mallory")
    await outsider.send("/review")
    await outsider.expect("for Britizen's reviewers")
    await admin.send("/review")
    await admin.expect("(1 waiting) from Alice", "I paid this bill on time", "Southern Water")
    await admin.press("Reject")
    await admin.expect("Rejecting dispute #", "Type a short note")
    await admin.send("Southern Water confirmed the payment arrived 40 days late.")
    await admin.expect("rejected; the citizen has been told")
    await admin.expect("no disputes are waiting")
    await alice.expect("not upheld", "counts towards your score again", "40 days late")
    async with service.db.transaction() as session:
        restored = await session.get(PaymentEvent, event.id)
        dispute = await session.scalar(select(Dispute))
    assert restored is not None and not restored.disputed
    assert (
        dispute is not None
        and dispute.status == "rejected"
        and dispute.reviewer_telegram_id == ADMIN
    )
    assert await payment_history(service, citizen_id) == before


async def test_human_review_of_an_automated_decision_is_upheld(
    start_service: ServiceFactory, citizen: Callable[..., Citizen]
) -> None:
    await start_service(admin_ids=[ADMIN])
    bob = citizen(803, "Bob")
    await register(bob, "CE 80 30 01 A")
    await bob.send("/dispute")
    await bob.expect("What would you like to contest?")
    await bob.press("An automated decision (human review)")
    await bob.expect("Which decision")
    await bob.press("A refused loan or my loan limit")
    await bob.expect("You're contesting a refused loan or your loan limit")
    await bob.send("My limit is too low for my record; please have someone look.")
    await bob.expect("Dispute #", "You'll hear the outcome here")

    admin = citizen(ADMIN, "Reviewer")
    await admin.expect("New dispute #")
    await admin.send("/review")
    await admin.expect("from Bob", "A refused loan or your loan limit".lower())
    await admin.press("Uphold")
    await admin.expect("Upholding dispute #")
    await admin.send("Agreed: your limit is being raised by hand.")
    await admin.expect("upheld; the citizen has been told")
    await bob.expect("was upheld: you were right", "raised by hand")
    # The decided dispute's buttons do nothing more.
    await admin.send("/review")
    await admin.expect("No disputes are waiting")

    # No payment records: the event choice says so rather than offering nothing.
    await bob.send("/dispute")
    await bob.expect("What would you like to contest?")
    await bob.press("A payment record")
    await bob.expect("no payment records on your account yet")
