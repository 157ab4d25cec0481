"""The conversation driver: what tests read when a scripted conversation goes wrong."""

from __future__ import annotations

import pytest

from standin import BotApiStandIn
from tests.standin.driver import Citizen
from tests.standin.echo_bot import EchoBot


async def test_citizens_have_separate_conversations(
    standin: BotApiStandIn, polling_bot: EchoBot
) -> None:
    alice = Citizen(standin, 101, "Alice")
    bob = Citizen(standin, 202, "Bob")
    await alice.send("/echo for alice")
    await bob.send("/echo for bob")
    await bob.expect("for bob")
    await alice.expect("for alice")
    await alice.expect_nothing(quiet=0.1)
    assert alice.transcript == ["#1 Alice: /echo for alice", "#2 bot: for alice"]


async def test_expect_failure_shows_the_conversation(
    standin: BotApiStandIn, polling_bot: EchoBot
) -> None:
    alice = Citizen(standin, 101, "Alice")
    await alice.send("/echo hello")
    with pytest.raises(AssertionError) as caught:
        await alice.expect("goodbye")
    report = str(caught.value)
    assert "lacks ['goodbye']" in report
    assert "#1 Alice: /echo hello" in report and "#2 bot: hello" in report
    # The failed message was still consumed: the next expect looks further.
    with pytest.raises(AssertionError, match="said nothing new"):
        await alice.expect("anything", timeout=0.05)


async def test_expect_reads_in_order(standin: BotApiStandIn, polling_bot: EchoBot) -> None:
    alice = Citizen(standin, 101, "Alice")
    await alice.send("/echo one")
    await alice.send("/echo two")
    with pytest.raises(AssertionError, match="lacks"):
        await alice.expect("two")  # "one" comes first
    await alice.expect("two")


async def test_press_reports_available_buttons(
    standin: BotApiStandIn, polling_bot: EchoBot
) -> None:
    alice = Citizen(standin, 101, "Alice")
    await alice.send("/start")
    await alice.expect("agree")
    with pytest.raises(AssertionError) as caught:
        await alice.press("Maybe")
    assert "can't find a button 'Maybe'" in str(caught.value)
    assert "[Yes] [No] [Docs]" in str(caught.value)
    with pytest.raises(AssertionError, match="url button"):
        await alice.press("Docs")


async def test_press_on_an_older_message(standin: BotApiStandIn, polling_bot: EchoBot) -> None:
    alice = Citizen(standin, 101, "Alice")
    await alice.send("/start")
    first = await alice.expect("agree")
    await alice.send("/start")
    await alice.expect("agree")
    await alice.press("Yes", message=first)
    edited = await alice.expect("thanks")
    assert edited.message_id == first.message_id
    assert alice.buttons() == ["Yes", "No", "Docs"]  # the newer message still has them


async def test_expect_nothing_fails_on_unread_messages(
    standin: BotApiStandIn, polling_bot: EchoBot
) -> None:
    alice = Citizen(standin, 101, "Alice")
    await alice.send("/echo surprise")
    with pytest.raises(AssertionError, match="expected nothing, but the bot said"):
        await alice.expect_nothing(quiet=0.1)


async def test_expect_photo_rejects_text(standin: BotApiStandIn, polling_bot: EchoBot) -> None:
    alice = Citizen(standin, 101, "Alice")
    await alice.send("/echo not a picture")
    with pytest.raises(AssertionError, match="expected a photo, got a text message"):
        await alice.expect_photo()


async def test_expect_nothing_needs_a_polling_bot(standin: BotApiStandIn) -> None:
    alice = Citizen(standin, 101, "Alice")
    await alice.send("nobody listens")
    # Nothing polls, so the update is never handed out and the bot never counts as idle.
    with pytest.raises(AssertionError, match="never went idle"):
        await alice.expect_nothing(quiet=0.01, timeout=0.1)


async def test_pushed_messages_get_increasing_ids(standin: BotApiStandIn) -> None:
    first = standin.user_message(101, "/start payload")
    second = standin.user_message(101, "plain")
    message = first["message"]
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert second["message"]["message_id"] == message["message_id"] + 1
    assert second["update_id"] == first["update_id"] + 1
    assert "entities" not in second["message"]
