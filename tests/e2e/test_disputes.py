"""/dispute and the admins' /review queue through the real bot against the stand-in, on SQLite
and PostgreSQL: a contested partner event leaves scoring until reviewed, the citizen hears
the outcome, and any automated decision can go to a person."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from bot.service import BritizenService
from services.events import EventStatus, IncomingEvent
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


async def test_a_whole_batch_is_contested_in_one_dispute(
    start_service: ServiceFactory, citizen: Callable[..., Citizen]
) -> None:
    """300 records from one request, one dispute: out of scoring while open, back when it is
    rejected (except a record still contested on its own), out for good when upheld."""
    service = await start_service(admin_ids=[ADMIN])
    carol = citizen(804, "Carol")
    await register(carol, "AB 80 40 01 A")
    partner, _key = await service.services.partners.create("Southern Water")
    months = [START_DAY - timedelta(days=31 * k) for k in range(24)]
    flood = [
        IncomingEvent(f"bill-{k}-{n}", "AB804001A", "bill", "missed", day)
        for k, day in enumerate(months)
        for n in range(3)
    ]
    big = await service.services.events.report(partner.id, flood)
    small = await service.services.events.report(
        partner.id, [IncomingEvent("paid-1", "AB804001A", "bill", "on_time", START_DAY)]
    )
    assert big.count(EventStatus.ACCEPTED) == 72  # three a month: plausible, so counted
    [big_batch], [small_batch] = big.batch_ids, small.batch_ids
    async with service.db.transaction() as session:
        citizen_id = await session.scalar(
            select(PaymentEvent.citizen_id).where(PaymentEvent.batch_id == small_batch)
        )
        [single] = (
            await session.scalars(
                select(PaymentEvent.id).where(PaymentEvent.external_id == "bill-0-0")
            )
        ).all()
    assert citizen_id is not None
    flooded = await payment_history(service, citizen_id)
    assert flooded is not None and flooded < 0
    await carol.expect("Your band changed")

    # One record from the batch contested on its own, through the service: it stays open.
    await service.services.disputes.open(
        804, "event", str(single), "This one bill was never mine at all."
    )
    admin = citizen(ADMIN, "Reviewer")
    await admin.expect("New dispute #", "(event)")

    await carol.send("/dispute")
    await carol.expect("What would you like to contest?")
    await carol.press("A whole batch from a partner")
    await carol.expect("Which batch?")
    labels = carol.buttons()
    assert len(labels) == 2
    [big_label] = [label for label in labels if "72 records" in label]
    assert "Southern Water" in big_label and "72 late or missed" in big_label
    await carol.press(big_label)
    await carol.expect("You're contesting the batch of 72 payment records Southern Water sent")
    await carol.send("Southern Water sent someone else's account history under my name.")
    await carol.expect("Dispute #", "None of its records counts towards your score")
    async with service.db.transaction() as session:
        flags = dict(
            (
                await session.execute(
                    select(PaymentEvent.external_id, PaymentEvent.disputed).where(
                        PaymentEvent.batch_id == big_batch
                    )
                )
            ).all()
        )
    assert len(flags) == 72 and all(flags.values())
    only_small = await payment_history(service, citizen_id)
    assert only_small is not None and only_small >= 0
    await carol.expect("Your band went up")

    # The batch is listed as contested now.
    await carol.send("/dispute")
    await carol.expect("What would you like to contest?")
    await carol.press("A whole batch from a partner")
    await carol.expect("Which batch?")
    assert any("72 records" in label and "(contested)" in label for label in carol.buttons())

    await admin.expect("New dispute #", "(batch)")
    await admin.send("/review")
    await admin.expect("(2 waiting) from Carol", "This one bill")  # the single record first
    await admin.send("/cancel")
    await admin.expect()
    batch_dispute = await _dispute_about(service, big_batch)
    await service.services.disputes.review(batch_dispute, ADMIN, False, "The partner checked.")
    await carol.expect("not upheld", "Those records count towards your score again")
    async with service.db.transaction() as session:
        still = set(
            await session.scalars(
                select(PaymentEvent.external_id).where(
                    PaymentEvent.batch_id == big_batch, PaymentEvent.disputed.is_(True)
                )
            )
        )
    assert still == {"bill-0-0"}  # its own dispute is still open
    back = await payment_history(service, citizen_id)
    assert back is not None and back < only_small  # -150 is the floor: the flood is back
    await carol.expect("Your band changed")

    # Contested again, and this time upheld: the whole batch is out for good.
    opened = await service.services.disputes.open(
        804, "batch", str(big_batch), "Here is the letter from Southern Water admitting it."
    )
    await service.services.disputes.review(opened.id, ADMIN, True, "Confirmed with the partner.")
    await carol.expect("was upheld", "None of those records counts towards your score")
    assert await payment_history(service, citizen_id) == only_small
    await carol.expect("Your band went up")
    # A rejection of the single record's dispute can't bring it back while the batch is out.
    await service.services.disputes.review(
        await _dispute_about(service, None, single), ADMIN, False, "Looked again."
    )
    await carol.expect("not upheld")
    async with service.db.transaction() as session:
        flagged = await session.get(PaymentEvent, single)
    assert flagged is not None and flagged.disputed
    assert await payment_history(service, citizen_id) == only_small


async def _dispute_about(
    service: BritizenService, batch_id: int | None, event_id: int | None = None
) -> int:
    async with service.db.transaction() as session:
        found = await session.scalar(
            select(Dispute.id).where(
                Dispute.status == "open",
                Dispute.batch_id == batch_id
                if batch_id is not None
                else Dispute.payment_event_id == event_id,
            )
        )
    assert found is not None
    return int(found)
