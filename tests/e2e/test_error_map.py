"""The one error map (handlers/errors.py): stale buttons, forged data and bugs, end to end."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from bot.service import BritizenService
from standin import BotApiStandIn
from tests.e2e.conftest import register
from tests.standin.driver import Citizen


async def _answer_to(standin: BotApiStandIn, person: Citizen, data: str) -> str:
    """Press a button with `data` under the person's last message; the callback answer text."""
    message = person.last
    assert message is not None
    since = standin.mark()
    standin.callback_query(person.user_id, message, data, strict=False)
    answer = await standin.wait_for("answerCallbackQuery", since=since)
    return str(answer.params.get("text"))


@pytest.mark.parametrize(
    "data",
    ["fl:p:²", "fl:p:", "fl:nope", "cmp:p:x", "score:why:1", "dsp:dim:Bad-Key", "off:r:-1"],
)
async def test_forged_callback_data_is_no_longer_available_and_changes_nothing(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
    data: str,
) -> None:
    kim = citizen(301, "Kim")
    await register(kim, "AB 12 34 56 C")
    await kim.send("/friends")
    await kim.expect("friends")
    assert "no longer available" in await _answer_to(standin, kim, data)
    await kim.expect_nothing()


async def test_a_bug_in_a_button_handler_is_not_passed_off_as_a_stale_button(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A ValueError from a service is a bug: logged with the update id, and the person gets
    the apology (before the error map, buttons swallowed ValueError as "no longer available")."""
    lee = citizen(302, "Lee")
    await register(lee, "AB 65 43 21 D")
    await lee.send("/friends")
    await lee.expect("friends")

    async def broken(telegram_id: int) -> object:
        raise ValueError("a bug, not a stale button")

    monkeypatch.setattr(service.services.friends, "overview", broken)
    with caplog.at_level(logging.ERROR):
        answer = await _answer_to(standin, lee, "fl:p:0")
    assert "something went wrong" in answer
    assert "no longer available" not in answer
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(m.startswith("error handling update ") and "ValueError" in m for m in logged)
    update_ids = [m.split()[3].rstrip(":") for m in logged if m.startswith("error handling")]
    assert all(uid.isdigit() for uid in update_ids)


async def test_a_genuinely_stale_button_says_so(
    service: BritizenService, citizen: Callable[..., Citizen], standin: BotApiStandIn
) -> None:
    """Someone else's friend request id: the service refuses it as not the presser's."""
    mo = citizen(303, "Mo")
    await register(mo, "AB 11 22 33 A")
    await mo.send("/friends")
    await mo.expect("friends")
    assert "no longer available" in await _answer_to(standin, mo, "fq:acc:999999")
    await mo.expect_nothing()


async def test_a_bug_after_a_button_was_answered_still_reaches_the_person(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The Why? button answers the press before it works; a bug after that can't answer the
    press again, so the apology comes as a message in the person's own chat."""
    ann = citizen(303, "Ann")
    await register(ann, "AB 30 30 03 C")
    await ann.send("/score")
    await ann.expect("Your Britizen score")

    async def broken(telegram_id: int) -> object:
        raise RuntimeError("a bug after the answer")

    monkeypatch.setattr(service.services.scores, "explain", broken)
    with caplog.at_level(logging.ERROR):
        await ann.press("Why?")
        await ann.expect("something went wrong on our side")
    assert any("error handling update" in r.getMessage() for r in caplog.records)
