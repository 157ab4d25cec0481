"""A stolen phone cannot borrow (issue 16): a loan is confirmed by typing the NI number again,
the message is deleted at once, and three wrong tries lock borrowing for a day."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from bot.logs import configure_logging
from bot.service import BritizenService
from services.clock import ManualClock
from standin import BotApiStandIn
from storage.models import Loan
from tests.e2e.conftest import ServiceFactory, register
from tests.e2e.test_loans import PROVIDER, count, loan_by_buttons
from tests.standin.driver import Citizen
from texts.chats import EDITS_NOT_READ, not_text_at_step

NI = "AB 93 10 01 A"


def deleted(standin: BotApiStandIn, since: int) -> list[int]:
    return [
        int(c.params["message_id"])
        for c in standin.calls[since:]
        if c.method == "deleteMessage" and c.ok
    ]


async def test_the_right_number_confirms_and_is_deleted_at_once(
    start_service: ServiceFactory,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = await start_service(payment_provider_token=PROVIDER)
    ada = citizen(931, "Ada")
    await register(ada, NI)
    await loan_by_buttons(ada, "£100.00", "6 months")
    await ada.press("Confirm")
    await ada.expect("One last check", "type your National Insurance number")
    assert await count(service, Loan) == 0  # nothing lent on the button alone
    since = standin.mark()
    library = logging.getLogger("telegram")
    before = library.level
    try:
        with caplog.at_level(logging.DEBUG):
            configure_logging("DEBUG")  # the most the service ever logs
            typed = standin.user_message(931, "ab931001a")
            await ada.expect("Loan confirmed: £100.00 over 6 months")
    finally:
        library.setLevel(before)
    assert deleted(standin, since) == [typed["message"]["message_id"]]
    assert await count(service, Loan) == 1
    # The number is never echoed or logged.
    said = [str(c.params.get("text", "")) for c in standin.calls if c.method == "sendMessage"]
    assert not [t for t in said if "931001" in t.replace(" ", "")]
    assert "931001" not in caplog.text.replace(" ", "")


async def test_three_wrong_numbers_lock_borrowing_for_a_day(
    start_service: ServiceFactory,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
    clock: ManualClock,
) -> None:
    service = await start_service(payment_provider_token=PROVIDER)
    bob = citizen(932, "Bob")
    await register(bob, "AB 93 20 02 B")
    await loan_by_buttons(bob, "£100.00", "6 months")
    await bob.press("Confirm")
    await bob.expect("type your National Insurance number")
    since = standin.mark()
    await bob.send("AB 12 34 56 C")
    await bob.expect("isn't the National Insurance number on your account", "2 more tries")
    await bob.send("not even a number")
    await bob.expect("1 more try")
    await bob.send("QQ 12 34 56 C")
    await bob.expect("Borrowing is paused", "from 12:00 on 22 Nov 2026")
    assert len(deleted(standin, since)) == 3
    assert await count(service, Loan) == 0
    # The application is over, and a new one can't start until the lock passes.
    await bob.send("/loan")
    await bob.expect("Borrowing is paused")
    await bob.send("/score")
    await bob.expect("Your Britizen score")  # nothing else changes
    clock.advance(days=1, minutes=1)
    await bob.send("/loan")
    await bob.expect("Borrow with Britizen")


async def test_wrong_tries_count_across_applications_and_a_right_one_resets_them(
    service: BritizenService, citizen: Callable[..., Citizen]
) -> None:
    cat = citizen(933, "Cat")
    await register(cat, "AB 93 30 03 C")
    for _ in range(2):
        await loan_by_buttons(cat, "£50.00", "3 months")
        await cat.press("Confirm")
        await cat.expect("type your National Insurance number")
        await cat.send("AB 12 34 56 C")
        await cat.expect("isn't the National Insurance number")
        await cat.send("/cancel")
        await cat.expect("Cancelled")
    await loan_by_buttons(cat, "£50.00", "3 months")
    await cat.press("Confirm")
    await cat.expect("type your National Insurance number")
    await cat.send("AB 12 34 56 C")
    await cat.expect("Borrowing is paused")  # the third wrong try in a row, across applications
    assert await count(service, Loan) == 0


async def test_at_the_number_step_stickers_and_edits_get_an_answer_and_change_nothing(
    start_service: ServiceFactory, citizen: Callable[..., Citizen], standin: BotApiStandIn
) -> None:
    service = await start_service(payment_provider_token=PROVIDER)
    dot = citizen(934, "Dot")
    await register(dot, "AB 93 40 04 D")
    await loan_by_buttons(dot, "£50.00", "3 months")
    await dot.press("Confirm")
    await dot.press("Confirm")  # a double tap: asked once, the second press only a toast
    await dot.expect("type your National Insurance number")
    standin.user_media(934, "sticker")
    await dot.expect(not_text_at_step("loan", "verify"))
    earlier = standin.user_message(934, "/help")
    await dot.expect("Here's what I can do")
    standin.edit_user_message(earlier, "AB 93 40 04 D")
    await dot.expect(EDITS_NOT_READ)
    await dot.expect_nothing()
    assert await count(service, Loan) == 0
    await dot.send("AB 93 40 04 D")
    await dot.expect("Loan confirmed")
    assert await count(service, Loan) == 1
