"""Nothing personal outside the private chat (issue 15), end to end through the stand-in.

Every test ends by checking every call the bot made: what went to a chat that is not the
person's own private chat is only the short pointer (a URL button, never a callback button).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

import texts.chats as chat_texts
from bot.service import BritizenService
from handlers.commands import COMMANDS
from standin import BotApiStandIn
from standin.models import ApiCall
from tests.e2e.conftest import register
from tests.standin.driver import Citizen

GROUP, SUPERGROUP, CHANNEL = -1001, -100200, -100300
PERSONAL = [name for name, _ in COMMANDS if name not in ("start", "help")]
POINTERS = {chat_texts.HELP_IN_GROUP} | {chat_texts.personal_in_group(c) for c in PERSONAL}
# What a message may carry outside a private chat (the added-to-a-group hello aside).
ALLOWED_OUTSIDE = POINTERS | {chat_texts.ADDED_TO_GROUP}
# Methods that answer a press or a query: no chat, only the presser sees them.
NO_CHAT = {"answercallbackquery", "answerprecheckoutquery", "getme", "getupdates"}


def outside_private(standin: BotApiStandIn, since: int, own: set[int]) -> list[ApiCall]:
    """Every call since `since` that put something in a chat not one of `own` (private)."""
    return [
        call
        for call in standin.calls[since:]
        if call.method.lower() not in NO_CHAT
        and call.chat_id is not None
        and call.chat_id not in own
    ]


def assert_nothing_personal(standin: BotApiStandIn, since: int, own: set[int]) -> list[ApiCall]:
    leaked = outside_private(standin, since, own)
    for call in leaked:
        assert call.method == "sendMessage", call
        assert call.params["text"] in ALLOWED_OUTSIDE, call.params["text"]
        rows = (call.params.get("reply_markup") or {}).get("inline_keyboard", [])
        buttons = [button for row in rows for button in row]
        assert buttons, "the pointer opens the private chat with a button"
        assert all(set(b) == {"text", "url"} for b in buttons), buttons  # no callback buttons
        assert all(b["url"].startswith("https://t.me/BritizenTestBot?start=") for b in buttons)
    return leaked


@pytest.mark.parametrize("chat_type", ["group", "supergroup"])
async def test_every_personal_command_in_a_group_gets_only_a_pointer_to_the_private_chat(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
    chat_type: str,
) -> None:
    chat_id = GROUP if chat_type == "group" else SUPERGROUP
    standin.add_chat(chat_id, type=chat_type, title="Family")
    ada = citizen(501, "Ada")
    await register(ada, "AB 12 34 56 C")
    await ada.expect_nothing()
    in_group = Citizen(standin, 501, "Ada", chat_id=chat_id)
    since = standin.mark()
    for command in [*PERSONAL, "start", "help"]:
        await in_group.send(f"/{command}")
        pointer = await in_group.expect("private chat")
        wanted = chat_texts.HELP_IN_GROUP if command in ("start", "help") else None
        assert pointer.text == (wanted or chat_texts.personal_in_group(command))
    # Addressed to us by name: still only the pointer; to another bot, or chatter: nothing.
    await in_group.send("/score@BritizenTestBot")
    await in_group.expect("only handle /score in a private chat")
    await in_group.send("/score@SomeOtherBot")
    await in_group.send("my NI number is AB 12 34 56 C")
    await in_group.expect_nothing()
    await ada.expect_nothing()  # and nothing was sent privately either: she asked in the group
    leaked = assert_nothing_personal(standin, since, own={501})
    assert len(leaked) == len(PERSONAL) + 3


async def test_a_button_pressed_in_a_group_changes_nothing_and_says_so(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
) -> None:
    """An old message in a group with personal buttons (as the bot once posted): pressing
    one, by its owner or anyone else, answers an alert and sends or changes nothing."""
    standin.add_chat(SUPERGROUP, type="supergroup")
    ada, bob = citizen(511, "Ada"), citizen(512, "Bob")
    await register(ada, "AB 12 34 56 C")
    await register(bob, "AB 65 43 21 D")
    await ada.send("/settings")
    settings = await ada.expect("Who can see your score")
    data = [b["callback_data"] for row in settings.inline_keyboard for b in row]
    old = standin.old_bot_message(SUPERGROUP, "Ada's score: 640", ["score:why", "del:yes", *data])
    since = standin.mark()
    for presser in (511, 512):
        for button in ["score:why", "del:yes", data[0]]:
            mark = standin.mark()
            standin.callback_query(presser, old, button)
            answer = await standin.wait_for("answerCallbackQuery", since=mark)
            assert answer.params["text"] == chat_texts.NOT_YOUR_BUTTON
            assert answer.params["show_alert"] is True
    await ada.expect_nothing()
    await bob.expect_nothing()
    assert outside_private(standin, since, own={511, 512}) == []
    made = [c.method for c in standin.calls[since:] if c.method != "getUpdates"]
    assert made == ["answerCallbackQuery"] * 6
    # Ada's account is untouched: still registered, settings as they were.
    await ada.send("/settings")
    again = await ada.expect("Who can see your score")
    assert again.text == settings.text


async def test_a_channel_post_is_ignored_quietly(
    service: BritizenService,
    standin: BotApiStandIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    standin.add_chat(CHANNEL, type="channel", title="News")
    since = standin.mark()
    with caplog.at_level(logging.INFO):
        for text in ["/score", "/mydata", "/help", "hello"]:
            standin.channel_post(CHANNEL, text)
        standin.channel_post(CHANNEL, "/start", edited=True)
        await standin.wait_idle(quiet=0.3)
    assert [c for c in standin.calls[since:] if c.chat_id == CHANNEL] == []
    assert outside_private(standin, since, own=set()) == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_added_to_a_group_the_bot_says_once_what_it_is(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
) -> None:
    ada = citizen(521, "Ada")
    in_group = Citizen(standin, 521, "Ada", chat_id=GROUP)
    since = standin.mark()
    standin.add_bot_to_chat(GROUP, 521)
    hello = await in_group.expect("I work only in private chats")
    assert hello.text == chat_texts.ADDED_TO_GROUP
    # Made an admin, then removed: nothing more to say.
    standin.add_bot_to_chat(GROUP, 521, status="administrator", old="member")
    standin.add_bot_to_chat(GROUP, 521, status="left", old="administrator")
    await in_group.expect_nothing()
    await ada.expect_nothing()
    assert len(assert_nothing_personal(standin, since, own={521})) == 1


async def test_a_group_that_muted_the_bot_gets_nothing_and_nothing_breaks(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    standin.add_chat(GROUP, type="group")
    ada = citizen(531, "Ada")
    await register(ada, "AB 12 34 56 C")
    standin.fail_next("sendMessage", error_code=403, count=1)
    in_group = Citizen(standin, 531, "Ada", chat_id=GROUP)
    with caplog.at_level(logging.INFO):
        await in_group.send("/score")
        await standin.wait_idle(quiet=0.3)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    await ada.send("/score")
    await ada.expect("Your Britizen score")
