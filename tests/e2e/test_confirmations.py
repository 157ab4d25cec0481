"""Dangerous buttons expire (issue 15): erasing an account and confirming a loan work only from
the latest prompt and only for a few minutes; an older or late press says it expired and does
nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.service import BritizenService
from services.clock import ManualClock
from services.confirmations import CONFIRM_WINDOW
from standin import BotApiStandIn
from storage.models import Loan
from tests.e2e.conftest import ServiceFactory, register
from tests.e2e.test_loans import (
    PROVIDER,
    answer_to,
    count,
    loan_by_buttons,
    type_ni_to_confirm,
)
from tests.standin.driver import Citizen, SentMessage, callback_data
from texts.common import CONFIRMATION_EXPIRED
from texts.loans import QUOTE_TIMED_OUT

JUST_TOO_LATE = CONFIRM_WINDOW + timedelta(seconds=1)


async def press(standin: BotApiStandIn, person: Citizen, message: SentMessage, data: str) -> str:
    async def go() -> None:
        standin.callback_query(person.user_id, message, data)

    return await answer_to(standin, go)


async def test_only_the_latest_erase_prompt_erases(
    service: BritizenService, citizen: Callable[..., Citizen], standin: BotApiStandIn
) -> None:
    dan = citizen(701, "Dan")
    await register(dan, "AB 70 10 01 A")
    await dan.send("/delete")
    first = await dan.expect("Erase your Britizen account?")
    first_erase = callback_data(dan, "Yes, erase everything")
    await dan.send("/delete")
    second = await dan.expect("Erase your Britizen account?")
    second_erase = callback_data(dan, "Yes, erase everything")
    assert first_erase != second_erase  # each prompt its own token

    assert await press(standin, dan, first, first_erase) == CONFIRMATION_EXPIRED
    await dan.expect_nothing()
    assert await service.services.registration.is_registered(701)

    assert await press(standin, dan, second, second_erase) == "Erased."
    await dan.expect("erased")
    assert not await service.services.registration.is_registered(701)


async def test_an_erase_prompt_expires_after_the_window(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
    clock: ManualClock,
) -> None:
    eve = citizen(702, "Eve")
    await register(eve, "AB 70 20 02 A")
    await eve.send("/delete")
    prompt = await eve.expect("Erase your Britizen account?")
    erase = callback_data(eve, "Yes, erase everything")
    clock.advance(seconds=JUST_TOO_LATE.total_seconds())
    assert await press(standin, eve, prompt, erase) == CONFIRMATION_EXPIRED
    await eve.expect_nothing()
    assert await service.services.registration.is_registered(702)
    # Keeping the account is always safe, however old the prompt.
    await eve.send("/delete")
    fresh = await eve.expect("Erase your Britizen account?")
    clock.advance(seconds=JUST_TOO_LATE.total_seconds())
    await eve.press("No, keep my account")
    await eve.expect("Nothing was deleted")
    assert fresh is not None and await service.services.registration.is_registered(702)


async def test_a_loan_summary_left_too_long_is_shown_again_before_anything_is_lent(
    start_service: ServiceFactory,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
    clock: ManualClock,
) -> None:
    service = await start_service(payment_provider_token=PROVIDER)
    fay = citizen(703, "Fay")
    await register(fay, "AB 70 30 03 A")
    summary = await loan_by_buttons(fay, "£100.00", "6 months")
    confirm = callback_data(fay, "Confirm")
    clock.advance(seconds=JUST_TOO_LATE.total_seconds())
    assert await press(standin, fay, summary, confirm) == QUOTE_TIMED_OUT
    # Same day, same amount and term: the same summary, re-keyed under fresh buttons.
    await fay.expect_nothing()
    fresh = fay.last
    assert fresh is not None and fresh.message_id == summary.message_id
    assert "please check it before you confirm" in fresh.text
    assert await count(service, Loan) == 0
    fresh_confirm = callback_data(fay, "Confirm")
    assert fresh_confirm != confirm
    assert await press(standin, fay, fresh, fresh_confirm) != CONFIRMATION_EXPIRED
    await type_ni_to_confirm(fay, "AB 70 30 03 A", ": £100.00 over 6 months")
    assert await count(service, Loan) == 1


async def test_an_older_loan_summary_cannot_confirm(
    start_service: ServiceFactory,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
) -> None:
    service = await start_service(payment_provider_token=PROVIDER)
    gus = citizen(704, "Gus")
    await register(gus, "AB 70 40 04 A")
    older = await loan_by_buttons(gus, "£100.00", "6 months")
    older_confirm = callback_data(gus, "Confirm")
    await loan_by_buttons(gus, "£50.00", "3 months")
    assert await press(standin, gus, older, older_confirm) == CONFIRMATION_EXPIRED
    await gus.expect_nothing()
    assert await count(service, Loan) == 0
    await gus.press("Confirm")
    await type_ni_to_confirm(gus, "AB 70 40 04 A", ": £50.00 over 3 months")
    assert await count(service, Loan) == 1
