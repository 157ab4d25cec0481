"""Yes/no checks in the citizen's chat (issue 20), through the real bot against the stand-in with
a partner on the real HTTP API, on SQLite and PostgreSQL: the /share code answers one question
unless the citizen chooses to share the score, the Allow prompt shows the exact question, and
the citizen is told every question and answer and finds them in /share."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest

from api.openapi import API_PREFIX
from bot.service import BritizenService
from tests.api.checks_helpers import CHECKS, REQUESTS, age, band, body
from tests.api.test_sponsor_api import call
from tests.e2e.conftest import register
from tests.standin.driver import Citizen

CODE = re.compile(r"Your one-time code: ([A-Z0-9]{4}-[A-Z0-9]{4})")


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_a_share_code_answers_one_question_and_the_log_shows_it(
    service: BritizenService, citizen: Callable[..., Citizen], http: aiohttp.ClientSession
) -> None:
    gwen = citizen(961, "Gwen")
    await register(gwen, "AB 96 10 01 A")
    _partner, key = await service.services.partners.create("Deposit Free Homes")

    await gwen.send("/share")
    shown = await gwen.expect(
        "Your one-time code", "answers one yes/no question", "not your score", "Nobody has"
    )
    assert gwen.buttons() == ["Make a new code", "📊 Share my score instead"]
    code = CODE.search(shown.text)
    assert code is not None
    score = await call(http, service, f"{API_PREFIX}/scores/{code.group(1)}", key=key)
    assert (score.status, score.json["error"]) == (403, "score_not_shared")
    await gwen.expect_nothing()  # a refusal shares nothing, so there is nothing to tell

    answered = await call(
        http, service, CHECKS, method="POST", key=key, data=body(band("Good"), code=code.group(1))
    )
    assert answered.json["result"] is True and "score" not in answered.json
    await gwen.expect(
        "Deposit Free Homes asked “Is your Britizen score band Good or better?” with your code "
        "and was told: Yes."
    )
    await gwen.send("/share")
    await gwen.expect(
        "Who has asked about you:",
        "• Deposit Free Homes — 21 Nov 2026, 12:00, with a code: “Is your Britizen score band "
        "Good or better?” Yes",
    )

    # The explicit choice: a code that shares the score, said plainly.
    await gwen.press("📊 Share my score instead")
    chosen = await gwen.expect("This code shares your score", "sees your band, your score")
    assert gwen.buttons() == ["Make a new code", "🚫 Block Deposit Free Homes"]
    new = CODE.search(chosen.text)
    assert new is not None
    read = await call(http, service, f"{API_PREFIX}/scores/{new.group(1)}", key=key)
    assert read.status == 200 and read.json["score"] == 600
    await gwen.expect("Deposit Free Homes has just seen your score (Good, 600) with your code")
    # Back to the default: "Make a new code" is yes/no only again.
    await gwen.press("Make a new code")
    again = await gwen.expect("answers one yes/no question")
    assert gwen.buttons(again) == [
        "Make a new code",
        "📊 Share my score instead",
        "🚫 Block Deposit Free Homes",
    ]


async def test_the_allow_prompt_shows_the_question_and_a_deny_gives_no_answer(
    service: BritizenService, citizen: Callable[..., Citizen], http: aiohttp.ClientSession
) -> None:
    huw = citizen(962, "Huw")
    await register(huw, "AB 96 20 02 B")
    _partner, key = await service.services.partners.create("Pub Chain")

    data = json.dumps({"ni_number": "AB962002B", "check": age(18)})
    asked = await call(http, service, REQUESTS, method="POST", key=key, data=data)
    assert asked.status == 202
    await huw.expect(
        "Pub Chain asks one yes/no question about you:", "“Are you 18 or over?”", "not your score"
    )
    assert huw.buttons() == ["Allow", "Deny", "🚫 Deny and never ask again"]
    await huw.press("Allow")
    await huw.expect("Allowed: Pub Chain gets the answer to “Are you 18 or over?”, once")
    reply = await call(
        http,
        service,
        CHECKS,
        method="POST",
        key=key,
        data=body(age(18), access_request_id=asked.json["id"]),
    )
    assert reply.json == {
        "check": {"name": "age_at_least", "value": 18},
        "result": True,
        "computed_at": "2026-11-21T12:00:00Z",
    }
    await huw.expect("Pub Chain asked “Are you 18 or over?” with your permission and was told: Yes")

    _other, lender = await service.services.partners.create("Quick Loans")
    data = json.dumps({"ni_number": "AB962002B", "check": band("Excellent")})
    second = await call(http, service, REQUESTS, method="POST", key=lender, data=data)
    await huw.expect("Quick Loans asks one yes/no question", "“Is your Britizen score band")
    await huw.press("Deny")
    await huw.expect("Denied: Quick Loans is told only that you said no")
    refused = await call(
        http,
        service,
        CHECKS,
        method="POST",
        key=lender,
        data=body(band("Excellent"), access_request_id=second.json["id"]),
    )
    assert (refused.status, refused.json["error"]) == (403, "not_consented")
    await huw.expect_nothing()

    # A request for the score itself says so plainly.
    _third, reader = await service.services.partners.create("Score Reader")
    data = json.dumps({"ni_number": "AB962002B"})
    await call(http, service, REQUESTS, method="POST", key=reader, data=data)
    await huw.expect("Score Reader asks to see your Britizen score itself: the number, your band")

    await huw.send("/share")
    log = await huw.expect("Who has asked about you:")
    assert "Pub Chain" in log.text and "you allowed it: “Are you 18 or over?” Yes" in log.text
    assert "Quick Loans —" not in log.text  # denied: nothing was learnt, nothing to list
