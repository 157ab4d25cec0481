"""Registration, /score, /help and robustness, driven through the real bot over HTTP."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from bot.logs import configure_logging
from bot.service import BritizenService
from standin import BotApiStandIn
from storage.models import Citizen as CitizenRow
from storage.models import DialogState
from tests.e2e.conftest import ServiceFactory, register
from tests.standin.driver import Citizen

ALICE_NI = "AB123456C"


async def count(service: BritizenService, model: type) -> int:
    async with service.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_commands_are_registered_with_telegram(
    service: BritizenService, standin: BotApiStandIn
) -> None:
    names = [command["command"] for command in standin.commands()]
    assert {"start", "help", "score", "cancel"} <= set(names)


async def test_full_registration_then_score(
    service: BritizenService, citizen: Callable[..., Citizen], standin: BotApiStandIn
) -> None:
    alice = citizen(101, "Alice")
    await alice.send("/start")
    welcome = await alice.expect("Welcome to Britizen", "National Insurance", "delete")
    assert alice.buttons(welcome) == ["✅ I agree", "No thanks"]
    await alice.press("I agree")
    await alice.expect("Thanks for agreeing", "National Insurance number", "QQ 12 34 56 C")

    # Refusals say what is wrong, never echo the number, and keep the conversation going.
    await alice.send("AB12345")
    refusal = await alice.expect("try again")
    assert "AB12345" not in refusal.text
    await alice.send("DA 12 34 56 C")
    await alice.expect("D")
    await alice.send("TN 12 34 56 C")
    await alice.expect("temporary")
    await alice.send("BG 12 34 56 C")
    await alice.expect("never")
    await alice.send("AB 12 34 56 E")
    await alice.expect("A, B, C or D")

    await alice.send("ab 12.34-56 c")
    saved = await alice.expect("saved as AB •• •• •• C", "removed your message")
    assert "123456" not in saved.text
    assert standin.calls_of("deleteMessage"), "the message with the NI number is deleted"

    await alice.send("31/02/1990")
    await alice.expect("February 1990 has only 28 days")
    await alice.send("14/03/2020")
    await alice.expect("15 or older")
    await alice.send("14 March 1990")
    await alice.expect("postcode district", "Skip")

    await alice.send("not a postcode")
    await alice.expect("SO17")
    await alice.send("so17 1bj")
    done = await alice.expect("You're registered in SO17", "600", "Good")
    assert "AB •• •• •• C" in done.text
    await alice.expect("would you like offers")

    await alice.send("/score")
    score = await alice.expect("Your Britizen score: 600", "Good", "Computed 21 Nov 2026, 12:00")
    assert "starting score" in score.text
    assert await count(service, DialogState) == 0


async def test_declining_consent_stores_nothing(
    service: BritizenService, citizen: Callable[..., Citizen]
) -> None:
    bob = citizen(102, "Bob")
    await bob.send("/start")
    await bob.expect("Welcome")
    await bob.press("No thanks")
    await bob.expect("nothing has been stored")
    assert await count(service, CitizenRow) == 0
    assert await count(service, DialogState) == 0
    await bob.send("/score")
    await bob.expect("not registered", "/start")


async def test_same_ni_number_cannot_open_a_second_account(
    service: BritizenService, citizen: Callable[..., Citizen]
) -> None:
    alice = citizen(101, "Alice")
    await register(alice, ALICE_NI)
    mallory = citizen(666, "Mallory")
    await mallory.send("/start")
    await mallory.expect("Welcome")
    await mallory.press("I agree")
    await mallory.expect("National Insurance")
    await mallory.send("ab 12 34 56 c")
    refusal = await mallory.expect("already linked to a Britizen account")
    assert "Alice" not in refusal.text and "101" not in refusal.text
    # Still in the conversation: a different, valid number goes through.
    await mallory.send("HN 12 34 56 A")
    await mallory.expect("saved as HN •• •• •• A")
    assert await count(service, CitizenRow) == 1


async def test_restart_mid_registration_continues_where_it_left_off(
    start_service: ServiceFactory, citizen: Callable[..., Citizen]
) -> None:
    first = await start_service()
    carol = citizen(103, "Carol")
    await carol.send("/start")
    await carol.expect("Welcome")
    await carol.press("I agree")
    await carol.expect("National Insurance")
    await carol.send("NA 65 43 21 B")
    await carol.expect("saved as NA •• •• •• B")
    await first.stop()

    await start_service()
    await carol.send("01-02-1985")
    await carol.expect("postcode district")
    await carol.press("Skip")
    await carol.expect("You're registered, Carol")
    await carol.expect("would you like offers")


async def test_cancel_leaves_any_step(
    service: BritizenService, citizen: Callable[..., Citizen]
) -> None:
    dave = citizen(104, "Dave")
    await dave.send("/start")
    await dave.expect("Welcome")
    await dave.press("I agree")
    await dave.expect("National Insurance")
    await dave.send("/cancel")
    await dave.expect("Registration cancelled")
    await dave.send("AB123456C")
    await dave.expect("not registered")
    await dave.send("/cancel")
    await dave.expect("nothing to cancel")


async def test_unregistered_people_are_guided_and_nobody_gets_silence(
    service: BritizenService, citizen: Callable[..., Citizen]
) -> None:
    erin = citizen(105, "Erin")
    await erin.send("/help")
    help_text = await erin.expect("/score", "/start", "/help", "/cancel", "not registered")
    assert help_text.text.count("\n/") >= 3
    await erin.send("/score")
    await erin.expect("not registered", "/start")
    await erin.send("hello?")
    await erin.expect("not registered")
    await erin.send("/start")
    await erin.expect("Welcome")
    await erin.send("/score")
    await erin.expect("middle of registering", "buttons")
    await erin.press("I agree")
    await erin.expect("agreeing", "National Insurance")
    await erin.send("/nonsense")
    await erin.expect("not registered")

    frank = citizen(106, "Frank")
    await register(frank, "GA 11 22 33 D")
    await frank.send("what's my score")
    await frank.expect("/help")
    await frank.send("/nonsense")
    await frank.expect("don't know that command")
    await frank.send("/start")
    await frank.expect("Welcome back")


async def test_an_old_consent_button_is_no_longer_available(
    service: BritizenService, citizen: Callable[..., Citizen], standin: BotApiStandIn
) -> None:
    gina = citizen(107, "Gina")
    await register(gina, "OA 12 34 56 A")
    welcome = next(m for m in standin.sent_to(107) if "Welcome to Britizen" in m.text)
    since = standin.mark()
    standin.callback_query(107, welcome, "reg:consent:yes", strict=False)
    answer = await standin.wait_for("answerCallbackQuery", since=since)
    assert "no longer available" in str(answer.params.get("text"))


async def test_a_handler_error_is_logged_with_the_update_id_and_apologised_for(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ivy = citizen(109, "Ivy")
    await register(ivy, "AB 65 43 21 D")

    async def broken(citizen_id: int) -> object:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(service.services.scores, "current", broken)
    with caplog.at_level(logging.ERROR):
        await ivy.send("/score")
        await ivy.expect("Sorry", "something went wrong")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("error handling update" in r.getMessage() for r in errors)
    assert all("AB654321D" not in r.getMessage() for r in caplog.records)
    # The service is still alive.
    monkeypatch.undo()
    await ivy.send("/score")
    await ivy.expect("Your Britizen score")


async def test_the_ni_number_never_reaches_the_logs(
    service: BritizenService, citizen: Callable[..., Citizen], caplog: pytest.LogCaptureFixture
) -> None:
    configure_logging("DEBUG")  # the most verbose an operator can ask for
    with caplog.at_level(logging.DEBUG):
        await register(citizen(110, "Jo"), "JK 98 76 54 C")
    text = caplog.text.replace(" ", "")
    assert "JK987654C" not in text.upper()
