"""Every kind of update gets an answer (issue 15): stickers, photos, voice, locations... at each
conversation step get a prompt for what the step needs; edits never replay anything."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import texts.chats as texts
from bot.service import BritizenService
from standin import BotApiStandIn
from standin.kinds import MEDIA_KINDS
from tests.e2e.conftest import register
from tests.standin.driver import Citizen

# Registration's steps in order, each with the input that moves it on.
STEPS = [
    ("consent", None),
    ("ni_number", "AB 12 34 56 C"),
    ("date_of_birth", "14/03/1990"),
    ("postcode", "SW1A"),
]


async def _every_kind_gets(standin: BotApiStandIn, person: Citizen, wanted: str) -> None:
    for kind in MEDIA_KINDS:
        standin.user_media(person.user_id, kind)
        reply = await person.expect()
        assert reply.text == wanted, (kind, reply.text)
    # A caption that looks like a command is still a photo, not a command.
    standin.user_media(person.user_id, "photo", caption="/mydata")
    reply = await person.expect()
    assert reply.text == wanted
    await person.expect_nothing()


async def test_each_kind_at_each_registration_step_gets_that_steps_prompt(
    service: BritizenService, citizen: Callable[..., Citizen], standin: BotApiStandIn
) -> None:
    ada = citizen(601, "Ada")
    await _every_kind_gets(standin, ada, texts.NOT_TEXT_UNREGISTERED)
    await ada.send("/start")
    await ada.expect("Welcome to Britizen")
    for step, answer in STEPS:
        await _every_kind_gets(standin, ada, texts.not_text_at_step("registration", step))
        if answer is None:
            await ada.press("I agree")
            await ada.expect("National Insurance number")
        else:
            await ada.send(answer)
            await ada.expect()  # the next step's question (or "You're registered")
    await ada.expect("would you like offers")
    await _every_kind_gets(standin, ada, texts.NOT_TEXT_OUTSIDE_STEP)
    await ada.send("/score")
    await ada.expect("Your Britizen score")


@pytest.mark.parametrize(
    ("command", "flow"),
    [("/dispute", "dispute"), ("/delete", "delete")],
)
async def test_each_kind_in_another_conversation_gets_its_prompt(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
    command: str,
    flow: str,
) -> None:
    bob = citizen(611, "Bob")
    await register(bob, "AB 65 43 21 D")
    await bob.send(command)
    prompt = await bob.expect()
    if flow == "dispute":
        await bob.press(prompt.inline_keyboard[0][0]["text"])
        await bob.expect()
        if await _at_dispute_subject(bob):
            await bob.expect()
    await _every_kind_gets(standin, bob, texts.not_text_at_step(flow, "any"))


async def _at_dispute_subject(person: Citizen) -> bool:
    """Some dispute kinds ask which part first: press the first choice if there is one."""
    last = person.last
    if last is not None and last.inline_keyboard:
        await person.press(last.inline_keyboard[0][0]["text"])
        return True
    return False


async def test_an_edited_message_never_replays_a_step(
    service: BritizenService, citizen: Callable[..., Citizen], standin: BotApiStandIn
) -> None:
    cat = citizen(621, "Cat")
    start = standin.user_message(621, "/start")
    await cat.expect("Welcome to Britizen")
    # At the consent step: an edit neither re-runs /start nor answers the question.
    standin.edit_user_message(start, "/start")
    await cat.expect(texts.EDITS_NOT_READ)
    await cat.expect_nothing()
    await cat.press("I agree")
    await cat.expect("National Insurance number")
    # At each step, editing an old message into that step's answer (or a command) is refused
    # and the step is where it was.
    for step_question, edit in [
        ("saved as", "AB 12 34 56 C"),
        ("postcode district", "14/03/1990"),
        ("You're registered", "SW1A"),
    ]:
        standin.edit_user_message(start, edit)
        await cat.expect(texts.EDITS_NOT_READ)
        await cat.expect_nothing()
        await cat.send(edit)
        await cat.expect(step_question)
    await cat.expect("would you like offers")
    # Registered: an edited command is not run again.
    delete = standin.user_message(621, "/help")
    await cat.expect("Here's what I can do")
    standin.edit_user_message(delete, "/delete")
    await cat.expect(texts.EDITS_NOT_READ)
    await cat.expect_nothing()
    await cat.send("/score")
    await cat.expect("Your Britizen score")
