"""Telegram's limit in one chat (about a message a second): what the bot sends still arrives.

The stand-in enforces one message a second per chat and answers anything faster with 429 and
`retry_after`, as Telegram does, and the service paces as in production (the other e2e tests
turn per-chat pacing off). Replies wait for their chat's room and retry a 429; the
outbox sends into a quiet chat only and waits out a 429; a question lost anyway is not
recorded as asked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from sqlalchemy import select

from bot.service import BritizenService
from notifications.outbox import Outbox, OutgoingMessage
from standin import ApiCall, BotApiStandIn, ChatEvent
from storage.models import Citizen as CitizenRow
from storage.models import OutboxMessage
from tests.e2e.conftest import ServiceFactory, register
from tests.standin.driver import Citizen

ALICE_ID = 101
ALICE_NI = "AB123456C"
OFFERS_QUESTION = "would you like offers from britizen's sponsors?"  # casefolded


def sends_to(standin: BotApiStandIn, chat_id: int) -> tuple[list[str], list[str]]:
    """(texts delivered, texts answered 429) of every sendMessage to the chat, in order."""
    delivered, refused = [], []
    for call in standin.calls_of("sendMessage"):
        if call.chat_id != chat_id:
            continue
        if call.ok:
            delivered.append(call.params["text"])
        elif call.error_code == 429:
            refused.append(call.params["text"])
    return delivered, refused


async def marketing_asked(service: BritizenService) -> bool:
    async with service.db.transaction() as session:
        asked = await session.scalar(
            select(CitizenRow.marketing_asked_at).where(CitizenRow.telegram_id == ALICE_ID)
        )
    return asked is not None


async def test_registration_arrives_whole_at_one_message_a_second(
    start_service: ServiceFactory, citizen: Callable[..., Citizen], standin: BotApiStandIn
) -> None:
    standin.per_chat_rate_per_second = 1
    service = await start_service(chat_send_interval=1.0)  # Telegram's pace
    alice = citizen(ALICE_ID, "Alice")
    # Every step's answer, in order, ending with "You're registered" and the offers question
    # sent back to back: the helper expects each of them.
    await register(alice, ALICE_NI, offers=True)
    await alice.expect_nothing()

    delivered, refused = sends_to(standin, ALICE_ID)
    assert refused, "the stand-in refused something: the limit was really hit"
    assert standin.rejected_429 >= len(refused)
    # Each refused message was sent again and arrived; nothing arrived twice.
    assert set(refused) <= set(delivered)
    assert [text for text, n in Counter(delivered).items() if n > 1] == []
    assert any(OFFERS_QUESTION in text.casefold() for text in delivered)
    assert await marketing_asked(service)


async def test_a_lost_offers_question_is_not_recorded_and_is_asked_again(
    start_service: ServiceFactory, citizen: Callable[..., Citizen], standin: BotApiStandIn
) -> None:
    standin.per_chat_rate_per_second = 1
    service = await start_service(chat_send_interval=1.0)  # Telegram's pace
    alice = citizen(ALICE_ID, "Alice")

    def refuse_the_next_send(event: ChatEvent) -> None:
        # Right after "You're registered" is recorded, before its answer reaches the bot: the
        # question that follows gets a flood wait too long to sit out inside a handler.
        if event.message is not None and "You're registered" in event.message.text:
            standin.fail_next("sendMessage", 429, retry_after=600)

    unsubscribe = standin.add_listener(refuse_the_next_send)
    await alice.send("/start")
    await alice.expect("Welcome to Britizen")
    await alice.press("I agree")
    await alice.expect("National Insurance number")
    await alice.send(ALICE_NI)
    await alice.expect("saved as")
    await alice.send("14/03/1990")
    await alice.expect("postcode district")
    await alice.press("Skip")
    await alice.expect("You're registered")
    await alice.expect_nothing()  # no question, and no apology: registration went through
    unsubscribe()

    refused = [c for c in standin.calls_of("sendMessage") if c.error_code == 429]
    assert [OFFERS_QUESTION in c.params["text"].casefold() for c in refused][-1:] == [True]
    assert not await marketing_asked(service), "a question that never arrived isn't asked"

    # Next time they come by, they are asked.
    await alice.send("/start")
    await alice.expect("Welcome back")
    await alice.expect(OFFERS_QUESTION)
    assert await marketing_asked(service)
    await alice.press("Yes, send me offers")
    await alice.expect("Offers are on")
    await alice.send("/start")
    await alice.expect("Welcome back")
    await alice.expect_nothing()  # asked once, answered: never again


async def test_outbox_and_replies_to_one_chat_all_arrive_exactly_once(
    start_service: ServiceFactory, citizen: Callable[..., Citizen], standin: BotApiStandIn
) -> None:
    standin.per_chat_rate_per_second = 1
    service = await start_service(chat_send_interval=1.0)  # Telegram's pace
    alice = citizen(ALICE_ID, "Alice")
    before = len(standin.calls_of("sendMessage"))

    queued = [f"Reminder {n}: your instalment is due" for n in range(1, 5)]
    await Outbox(service.db, service.services.clock).enqueue(
        [OutgoingMessage(ALICE_ID, text, kind="test", priority=0) for text in queued]
    )
    # Alice talks to the bot while the outbox writes to her: both share her chat's second.
    await alice.send("/start")
    await alice.send("/help")

    def sent_to_alice() -> list[ApiCall]:
        return [c for c in standin.calls_of("sendMessage")[before:] if c.chat_id == ALICE_ID]

    def all_delivered(_call: ApiCall) -> bool:
        delivered = {c.params["text"] for c in sent_to_alice() if c.ok}
        return set(queued) <= delivered and any("Welcome to Britizen" in t for t in delivered)

    await standin.wait_for(all_delivered, timeout=30)
    await standin.wait_idle(timeout=30)

    calls = sent_to_alice()
    delivered = Counter(c.params["text"] for c in calls if c.ok)
    assert {text: delivered[text] for text in queued} == dict.fromkeys(queued, 1)
    assert sum(1 for text in delivered if "Welcome to Britizen" in text) == 1
    assert sum(1 for text in delivered if "/cancel" in text) == 1  # /help's answer
    assert [text for text, n in delivered.items() if n > 1] == []
    async with service.db.transaction() as session:
        statuses = (
            await session.scalars(select(OutboxMessage.status).where(OutboxMessage.kind == "test"))
        ).all()
    assert statuses == ["sent"] * len(queued)
