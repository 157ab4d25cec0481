"""Cymraeg: a Welsh speaker is answered in Welsh from /start, through registration, /score,
/why, /help, /settings and errors; /language switches to English and back, and the choice
sticks. Every text the bot sent while the person reads Welsh is checked for English wording
(any catalog message whose English differs from its Welsh)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from bot.service import BritizenService
from standin import BotApiStandIn
from tests.e2e.conftest import register
from tests.standin.driver import Citizen
from tests.support.welsh_scan import ENGLISH, assert_no_english

NI = "AB123456C"


@pytest.fixture
def gwen(standin: BotApiStandIn, citizen: Callable[..., Citizen]) -> Citizen:
    person = citizen(301, "Gwen")
    standin.add_user(301, "Gwen", language_code="cy-GB")
    return person


async def test_a_welsh_speaker_does_it_all_in_welsh(
    service: BritizenService, standin: BotApiStandIn, gwen: Citizen
) -> None:
    assert ENGLISH, "the catalog has translations to check against"
    since = standin.mark()
    await gwen.send("/start")
    welcome = await gwen.expect("Croeso i Britizen", "Rhif Yswiriant Gwladol")
    assert gwen.buttons(welcome)[0] == "✅ Rwy'n cytuno"
    await gwen.press("Rwy'n cytuno")
    await gwen.expect("Diolch am gytuno")
    await gwen.send("hello")  # not an NI number: a Welsh refusal
    await gwen.expect("Rhowch gynnig arall arni")
    await gwen.send(NI)
    await gwen.expect("wedi'i gadw fel AB •• •• •• C")
    await gwen.send("31/02/1990")
    await gwen.expect("Chwefror")
    await gwen.send("14/03/1990")
    await gwen.expect("ardal eich cod post")
    await gwen.press("Hepgor")
    await gwen.expect("Rydych chi wedi cofrestru", "Gwen")
    await gwen.expect("noddwyr")
    await gwen.send("/score")
    await gwen.expect("Eich sgôr Britizen: 600 — Da", "Cyfrifwyd 21 Tach 2026")
    await gwen.send("/why")
    await gwen.expect("Pam mai 600 (Da)", "Hanes talu")
    await gwen.send("/help")
    await gwen.expect("Dyma beth alla i ei wneud", "/language")
    await gwen.send("/settings")
    settings = await gwen.expect("Eich gosodiadau")
    assert "🌐 Iaith: Cymraeg" in gwen.buttons(settings)
    await gwen.send("/nonsense")
    await gwen.expect("Dydw i ddim yn adnabod y gorchymyn")
    await gwen.send("some words")
    await gwen.expect("Wnes i ddim deall")
    assert assert_no_english(standin, since) > 15

    # /language: to English, which sticks, and back.
    await gwen.send("/language")
    choice = await gwen.expect("Ym mha iaith", "Cymraeg")
    assert gwen.buttons(choice) == ["English", "✓ Cymraeg"]
    await gwen.press("English")
    await gwen.expect("Britizen now speaks English")
    await gwen.send("/score")
    await gwen.expect("Your Britizen score: 600")
    await gwen.send("/settings")
    english = await gwen.expect("Your settings")
    assert "🌐 Language: English" in gwen.buttons(english)
    await gwen.press("Language: English")
    await gwen.expect("Which language would you like Britizen in?")
    await gwen.press("Cymraeg")
    back = standin.mark()
    await gwen.expect("mae Britizen bellach yn siarad Cymraeg")
    await gwen.send("/help")
    await gwen.expect("Dyma beth alla i ei wneud")
    assert assert_no_english(standin, back) >= 2


async def test_the_choice_survives_a_restart(
    start_service: Any, standin: BotApiStandIn, citizen: Callable[..., Citizen]
) -> None:
    service = await start_service()
    dai = citizen(302, "Dai")  # Telegram says English
    await dai.send("/language")
    await dai.expect("Which language")
    await dai.press("Cymraeg")
    await dai.expect("Cymraeg")
    await service.stop()
    await start_service()
    await dai.send("/help")
    await dai.expect("Dyma beth alla i ei wneud")


async def test_the_command_menu_is_in_both_languages(
    service: BritizenService, standin: BotApiStandIn
) -> None:
    english = {c["command"]: c["description"] for c in standin.commands()}
    welsh = {c["command"]: c["description"] for c in standin.commands(language_code="cy")}
    assert english.keys() == welsh.keys() and "language" in welsh
    assert english["score"] == "Your score, band and when it was computed"
    assert welsh["score"] == "Eich sgôr, eich band a phryd y cafodd ei gyfrifo"


async def register_in_welsh(person: Citizen, ni_number: str) -> None:
    await person.send("/start")
    await person.expect("Croeso i Britizen")
    await person.press("Rwy'n cytuno")
    await person.expect("Diolch am gytuno")
    await person.send(ni_number)
    await person.expect("wedi'i gadw fel")
    await person.send("14/03/1990")
    await person.expect("ardal eich cod post")
    await person.press("Hepgor")
    await person.expect("Rydych chi wedi cofrestru")
    await person.expect("noddwyr")


async def test_the_rest_of_the_bot_in_welsh(
    service: BritizenService, standin: BotApiStandIn, gwen: Citizen
) -> None:
    """Friends, loans, offers, sharing, debt help, disputes, data: all Welsh, no English."""
    await register_in_welsh(gwen, NI)
    since = standin.mark()
    for command, welsh in [
        ("/benefits", "Eich haen"),
        ("/history", "Mae eich hanes yn dechrau"),
        ("/friends", "Does gennych chi ddim ffrindiau"),
        ("/invite", "Eich dolen wahodd bersonol"),
        ("/compare", "Does gennych chi ddim ffrindiau"),
        ("/leaderboard", "Chi a'ch ffrindiau"),
        ("/loan", "Benthyg gyda Britizen"),
        ("/cancel", "Cais am fenthyciad wedi'i ganslo"),
        ("/loans", "Does gennych chi ddim benthyciadau"),
        ("/offers", "Dydych chi ddim yn cael cynigion"),
        ("/share", "Eich cod untro"),
        ("/debthelp", "Yn cael trafferth talu"),
        ("/dispute", "Beth hoffech chi ei herio"),
    ]:
        await gwen.send(command)
        await gwen.expect(welsh)
    await gwen.send("/cancel")
    await gwen.expect("Does dim byd i'w ganslo")
    await gwen.send("/delete")
    await gwen.expect("Dileu eich cyfrif Britizen", "Hoffech chi gopi yn gyntaf")
    await gwen.press("Na, cadwch fy nghyfrif")
    await gwen.expect("Does dim byd wedi'i ddileu")
    assert assert_no_english(standin, since) > 15


async def test_a_friend_request_reaches_a_welsh_speaker_in_welsh(
    service: BritizenService, standin: BotApiStandIn, gwen: Citizen, citizen: Callable[..., Citizen]
) -> None:
    """Worded for the recipient: Gwen reads Welsh though Ben, who asks, reads English."""
    await register_in_welsh(gwen, NI)
    ben = citizen(303, "Ben")
    await register(ben, "CE123456A")
    await gwen.send("/invite")
    invite = await gwen.expect("Eich dolen wahodd bersonol")
    found = re.search(r"https://t\.me/\w+\?start=(\S+)", invite.text)
    assert found is not None
    await ben.send("/start " + found.group(1))
    await ben.expect("I've asked Gwen")
    request = await gwen.expect("Agorodd Ben eich dolen wahodd")
    assert gwen.buttons(request) == ["✅ Derbyn", "Gwrthod", "🚫 Rhwystro"]
    await gwen.press("Derbyn")
    await gwen.expect("Rydych chi a Ben yn ffrindiau nawr")
    await ben.expect("Gwen accepted your friend request")
