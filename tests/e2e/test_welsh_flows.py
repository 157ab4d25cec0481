"""Cymraeg, the rest of the way (issue 20): Boost, /reportni, /contest and the ambassador
setting, /mydata, /dispute to its answer, /share's code and a partner's Allow/Deny and yes/no
check, loan reminders and a sponsor promotion through the outbox, friend requests, /compare's
chart, stale buttons and stickers, all walked by Welsh speakers on SQLite and PostgreSQL.

Every text the bot sent them (messages, edits, captions, buttons, callback answers) is checked
for English with `assert_no_english`'s catalog runs. Messages for someone other than the actor
(an NI holder, a friend, a citizen a partner reported on) go in the recipient's language."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.service import BritizenService
from services.clock import ManualClock
from services.events import IncomingEvent
from standin import BotApiStandIn
from storage.models import Citizen as CitizenRow
from storage.models import OutboxMessage
from tests.api.checks_helpers import CHECKS, REQUESTS, age, body
from tests.api.rights_helpers import event
from tests.api.test_sponsor_api import call
from tests.e2e.conftest import START, ServiceFactory, register
from tests.e2e.test_boost import LINK, report, sign_up
from tests.e2e.test_growth_outreach import set_network
from tests.e2e.test_offers import add_promotion
from tests.e2e.test_reminders import london
from tests.e2e.test_welsh import register_in_welsh
from tests.standin.driver import Citizen, SentMessage, callback_data
from tests.support.welsh_scan import assert_no_english
from texts import boost as boost_texts
from texts import common, disputes_ui, growth_outreach
from texts import friends as friend_texts
from texts import ni_claims as claim_texts
from texts.i18n import use_language

ADMIN = 990


def cy(text: str, **values: Any) -> str:
    """A catalog message as a Welsh reader gets it."""
    with use_language("cy"):
        return str(text).format(**values) if values else str(text)


def assert_welsh(standin: BotApiStandIn, since: int, *chats: int) -> int:
    """Every text the bot sent these chats since `since` (captions and callback answers too)
    has no English run from the catalog, date or outcome word; how many texts were checked."""
    return assert_no_english(standin, since, *chats, words=True)


def welsh(
    standin: BotApiStandIn, citizen: Callable[..., Citizen], user_id: int, name: str
) -> Citizen:
    person = citizen(user_id, name)
    standin.add_user(user_id, name, language_code="cy")
    return person


async def tap(person: Citizen, index: int = 0, message: SentMessage | None = None) -> str:
    """Press the `index`-th inline button of `message` (else the newest bot message)."""
    shown = message or person.last
    assert shown is not None
    current = person.standin.message(shown.chat_id, shown.message_id) or shown
    buttons = [b for row in current.inline_keyboard for b in row if "callback_data" in b]
    data = str(buttons[index]["callback_data"])
    person.standin.callback_query(person.user_id, current, data)
    return data


async def answer_of(
    standin: BotApiStandIn, person: Citizen, message: SentMessage, data: str
) -> str:
    since = standin.mark()
    standin.callback_query(person.user_id, message, data, strict=False)
    answer = await standin.wait_for("answerCallbackQuery", since=since)
    return str(answer.params.get("text"))


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_boost_in_welsh(
    service: BritizenService,
    standin: BotApiStandIn,
    citizen: Callable[..., Citizen],
    http: aiohttp.ClientSession,
) -> None:
    gwen = welsh(standin, citizen, 3101, "Gwen")
    await register_in_welsh(gwen, "AB 31 01 01 A")
    since = standin.mark()
    await gwen.send("/boost")
    await gwen.expect(cy(boost_texts.TITLE))
    assert gwen.buttons()[0] == cy(boost_texts.INVITE_LANDLORD_BUTTON)
    await gwen.press(cy(boost_texts.INVITE_LANDLORD_BUTTON))
    shown = await gwen.expect()
    found = LINK.search(shown.text)
    assert found is not None, shown.text
    key = await sign_up(http, service, found.group(1), "Acme Lettings")
    await gwen.expect("Acme Lettings")

    # A late payment reported: the notice and its buttons in Welsh, and the answers.
    reply = await report(
        http, service, key, event("late-1", "AB310101A", "late", "2026-11-01", "rent")
    )
    assert reply.json["accepted"] == 1  # type: ignore[attr-defined]
    notice = await gwen.expect("Acme Lettings")
    assert gwen.buttons(notice) == [
        cy(boost_texts.CONFIRM_BUTTON),
        cy(boost_texts.DISPUTE_BUTTON),
    ]
    confirm = callback_data(gwen, cy(boost_texts.CONFIRM_BUTTON))
    await gwen.press(cy(boost_texts.CONFIRM_BUTTON), message=notice)
    await gwen.expect("Acme Lettings")
    assert await answer_of(standin, gwen, notice, confirm) == cy(boost_texts.ALREADY_ANSWERED)
    reply = await report(
        http, service, key, event("missed-1", "AB310101A", "missed", "2026-10-01", "rent")
    )
    notice = await gwen.expect("Acme Lettings")
    await gwen.press(cy(boost_texts.DISPUTE_BUTTON), message=notice)
    await gwen.expect()
    await gwen.send("/why")
    await gwen.expect(cy(boost_texts.WHY_HEADING).strip(), "Acme Lettings")

    # Remove the landlord: asked, then removed; the replayed button says so in Welsh.
    await gwen.send("/boost")
    screen = await gwen.expect(cy(boost_texts.YOUR_BOOST_PARTNERS), "Acme Lettings")
    remove = cy(boost_texts.REMOVE_BUTTON, name="Acme Lettings")
    await gwen.press(remove, message=screen)
    ask = await gwen.expect("Acme Lettings")
    assert gwen.buttons(ask) == [
        cy(boost_texts.REMOVE_YES_BUTTON),
        cy(boost_texts.REMOVE_NO_BUTTON),
    ]
    yes = callback_data(gwen, cy(boost_texts.REMOVE_YES_BUTTON))
    await gwen.press(cy(boost_texts.REMOVE_YES_BUTTON), message=ask)
    await gwen.expect("Acme Lettings")
    assert await answer_of(standin, gwen, ask, yes) == cy(boost_texts.PARTNER_ALREADY_REMOVED)
    # A sticker on the Boost screen and a stale button.
    standin.user_media(3101, "sticker")
    await gwen.expect()
    assert await answer_of(standin, gwen, screen, "boost:ok:99999") == cy(common.STALE_BUTTON)
    await gwen.expect_nothing()
    assert assert_welsh(standin, since, 3101) > 15


async def test_reportni_in_welsh_for_both_people_and_the_reviewer(
    start_service: ServiceFactory, standin: BotApiStandIn, citizen: Callable[..., Citizen]
) -> None:
    await start_service(admin_ids=[ADMIN])
    admin = welsh(standin, citizen, ADMIN, "Adolygydd")
    await admin.send("/language")  # the reviewer chooses Welsh too
    await admin.expect()
    await admin.press("Cymraeg")
    await admin.expect()
    mallory = welsh(standin, citizen, 3201, "Mallt")
    await register_in_welsh(mallory, "AB 12 34 56 C")
    since = standin.mark()

    alice = welsh(standin, citizen, 3202, "Alys")
    await alice.send("/start")
    await alice.expect("Croeso i Britizen")
    await alice.press("Rwy'n cytuno")
    await alice.expect()
    await alice.send("ab123456c")
    refusal = await alice.expect()
    assert alice.buttons(refusal) == [cy(claim_texts.REPORT_BUTTON)]
    await alice.press(cy(claim_texts.REPORT_BUTTON))
    await alice.expect()
    standin.user_media(3202, "sticker")
    await alice.expect()
    await alice.send("not a way to reach anyone")
    await alice.expect()
    await alice.send("alys@example.com")
    asked = await alice.expect()
    assert alice.buttons(asked) == [cy(claim_texts.SKIP_BUTTON)]
    await alice.press(cy(claim_texts.SKIP_BUTTON))
    await alice.expect("#")

    # The holder, Welsh, is told in Welsh and frozen; their reply.
    notice = await mallory.expect("AB •• •• •• C")
    assert mallory.buttons(notice) == [cy(claim_texts.HOLDER_REPLY_BUTTON)]
    await mallory.send("/loan")
    await mallory.expect("/nireply")
    await mallory.send("/share")
    await mallory.expect()
    await mallory.press(cy(claim_texts.HOLDER_REPLY_BUTTON), message=notice)
    await mallory.expect()
    await mallory.send("Fy rhif i yw hwn")
    await mallory.expect()

    await admin.expect("#", "/review")
    await admin.send("/review")
    shown = await admin.expect("Alys", "Mallt", "alys@example.com")
    assert admin.buttons(shown) == [cy(claim_texts.MOVE_BUTTON), cy(claim_texts.REJECT_BUTTON)]
    await admin.press(cy(claim_texts.MOVE_BUTTON), message=shown)
    await admin.expect()
    await admin.send("Wedi gwirio gyda CThEF.")
    await admin.expect()
    await admin.expect()
    await alice.expect("Wedi gwirio gyda CThEF.")
    await mallory.expect("AB •• •• •• C")
    assert assert_welsh(standin, since, 3201, 3202, ADMIN) > 15


async def test_each_side_of_a_report_reads_their_own_language(
    start_service: ServiceFactory, standin: BotApiStandIn, citizen: Callable[..., Citizen]
) -> None:
    """A Welsh claimant (not registered), an English holder and reviewer: the claimant's answers
    and outcome are Welsh, the holder's and the reviewer's notices English."""
    await start_service(admin_ids=[ADMIN])
    holder = citizen(3211, "Mallory")
    await register(holder, "AB 12 34 56 C")
    admin = citizen(ADMIN, "Reviewer")
    since = standin.mark()
    alys = welsh(standin, citizen, 3212, "Alys")
    await alys.send("/start")
    await alys.expect("Croeso i Britizen")
    await alys.press("Rwy'n cytuno")
    await alys.expect()
    await alys.send("AB123456C")
    await alys.expect()
    await alys.press(cy(claim_texts.REPORT_BUTTON))
    await alys.expect()
    await alys.send("alys@example.com")
    await alys.expect()
    await alys.press(cy(claim_texts.SKIP_BUTTON))
    await alys.expect("#")
    await holder.expect("Someone has reported that the National Insurance number")
    await admin.expect("NI-number report #", "waiting in /review")
    await admin.send("/review")
    await admin.expect("NI-number report #", "by Alys")
    await admin.press("Reject report")
    await admin.expect("Type a short note")
    await admin.send("-")
    await admin.expect("rejected")
    await holder.expect("was not upheld: the number stays yours")
    await alys.expect("#")
    assert assert_welsh(standin, since, 3212) >= 8


async def test_contest_settings_mydata_and_dispute_in_welsh(
    start_service: ServiceFactory, standin: BotApiStandIn, citizen: Callable[..., Citizen]
) -> None:
    service = await start_service(admin_ids=[ADMIN])
    gwen = welsh(standin, citizen, 3301, "Gwen")
    await register_in_welsh(gwen, "AB 33 01 01 A")
    since = standin.mark()
    await gwen.send("/contest")
    await gwen.expect()
    await service.services.contests.start("Gaeaf", 14)
    await gwen.send("/contest")
    await gwen.expect("Gaeaf")
    await tap(gwen, 0)
    await gwen.expect("Gwen")

    # The ambassador opt-in and the contest button in /settings.
    await gwen.send("/settings")
    settings = await gwen.expect("Eich gosodiadau")
    grow_on = [
        b for b in gwen.buttons(settings) if b.startswith("Helpu i dyfu") and not b.startswith("✓")
    ]
    assert len(grow_on) == 1, gwen.buttons(settings)
    await gwen.press(grow_on[0], message=settings)
    await gwen.expect("Helpu Britizen i dyfu")
    await gwen.press(cy(growth_outreach.CONTEST_BUTTON))
    await gwen.expect("Gaeaf")
    # Opted in, she is asked (in Welsh, with a Welsh Stop button) and stops the asks.
    await set_network(service, 3301, 0.5, "broker")
    username = service.application.bot.username
    run = await service.services.growth.invite_ambassadors(top=1, bot_username=username)
    assert run.queued == 1
    invitation = await gwen.expect("https://t.me/")
    assert gwen.buttons(invitation) == [cy(growth_outreach.STOP_BUTTON)]
    await gwen.press(cy(growth_outreach.STOP_BUTTON), message=invitation)
    await gwen.expect()

    # /mydata: the export's caption; /dispute through to the reviewer's answer.
    await gwen.send("/mydata")
    await gwen.expect_document()
    partner, _key = await service.services.partners.create("Dŵr Cymru")
    await service.services.events.report(
        partner.id, [IncomingEvent("bill-9", "AB330101A", "bill", "missed", date(2026, 11, 1))]
    )
    await gwen.send("/dispute")
    await gwen.expect()
    await gwen.press(cy(disputes_ui.EVENT_BUTTON))
    await gwen.expect()
    [label] = gwen.buttons()
    assert label == "01 Tach 2026 · Dŵr Cymru · heb ei dalu", label  # date and outcome Welsh
    await tap(gwen, 0)
    await gwen.expect("Dŵr Cymru")
    await gwen.send("byr")
    await gwen.expect()
    await gwen.send("Talais y bil hwn ar amser; mae gen i'r cyfriflen.")
    await gwen.expect("#")
    admin = citizen(ADMIN, "Reviewer")
    await admin.expect("New dispute #")
    await admin.send("/review")
    await admin.expect("from Gwen")
    await admin.press("Uphold")
    await admin.expect("Type a short note")
    await admin.send("Cywir: mae'r cofnod wedi'i dynnu.")
    await admin.expect("upheld")
    await gwen.expect("Cywir: mae'r cofnod wedi'i dynnu.")
    assert assert_welsh(standin, since, 3301) > 10


async def test_share_code_and_a_partners_requests_in_welsh(
    service: BritizenService,
    standin: BotApiStandIn,
    citizen: Callable[..., Citizen],
    http: aiohttp.ClientSession,
) -> None:
    huw = welsh(standin, citizen, 3401, "Huw")
    await register_in_welsh(huw, "AB 34 01 01 A")
    since = standin.mark()
    _partner, key = await service.services.partners.create("Tafarn y Dre")
    await huw.send("/share")
    shown = await huw.expect()
    code = re.search(r"([A-Z0-9]{4}-[A-Z0-9]{4})", shown.text)
    assert code is not None
    answered = await call(
        http, service, CHECKS, method="POST", key=key, data=body(age(18), code=code.group(1))
    )
    assert answered.json["result"] is True
    await huw.expect("Tafarn y Dre")
    await tap(huw, 1, shown)  # share my score instead
    await huw.expect()

    # An Allow/Deny request for a yes/no check, and one for the score.
    data = json.dumps({"ni_number": "AB340101A", "check": age(18)})
    asked = await call(http, service, REQUESTS, method="POST", key=key, data=data)
    assert asked.status == 202
    prompt = await huw.expect("Tafarn y Dre")
    assert len(huw.buttons(prompt)) == 3
    await tap(huw, 0, prompt)
    await huw.expect("Tafarn y Dre")
    reply = await call(
        http, service, CHECKS, method="POST", key=key,
        data=body(age(18), access_request_id=asked.json["id"]),
    )  # fmt: skip
    assert reply.json["result"] is True
    await huw.expect("Tafarn y Dre")
    data = json.dumps({"ni_number": "AB340101A"})
    await call(http, service, REQUESTS, method="POST", key=key, data=data)
    prompt = await huw.expect("Tafarn y Dre")
    await tap(huw, 1, prompt)
    await huw.expect("Tafarn y Dre")
    await huw.send("/share")
    await huw.expect("Tafarn y Dre")
    assert assert_welsh(standin, since, 3401) > 8


async def test_reminders_and_a_promotion_through_the_outbox_in_welsh(
    service: BritizenService,
    standin: BotApiStandIn,
    citizen: Callable[..., Citizen],
    clock: ManualClock,
) -> None:
    gwen = welsh(standin, citizen, 3501, "Gwen")
    await register_in_welsh(gwen, "AB 35 01 01 A")
    await gwen.press("Ydw, anfonwch")  # yes to offers
    await gwen.expect()
    since = standin.mark()
    await service.services.loans.confirm(3501, 9_000, 3, "cy-key")
    for day, hour in ((date(2026, 12, 18), 10), (date(2026, 12, 21), 10), (date(2026, 12, 22), 10)):
        clock.now = london(day, hour)
        await service.reminders.run_once()
        await gwen.expect("£")

    clock.now = START
    promotion = await add_promotion(service, title="Paned am ddim", max_recipients=10)
    async with service.db.transaction() as session:
        me = await session.scalar(select(CitizenRow).where(CitizenRow.telegram_id == 3501))
        assert me is not None
        session.add(
            OutboxMessage(
                chat_id=me.chat_id, citizen_id=me.id, kind="promotion", priority=5, text=None,
                reply_markup=None, status="pending", attempts=0, next_attempt_at=START,
                created_at=START, promotion_id=promotion,
            )
        )  # fmt: skip
    offer = await gwen.expect("Acme Coffee", "Paned am ddim", "Show this message at any Acme till.")
    assert "Find a shop" in gwen.buttons(offer)  # the sponsor's own words stay as written
    await tap(gwen, 0, offer)  # redeem (the sponsor's link is not a callback button)
    await gwen.expect("FLAT7K2Q")
    await tap(gwen, 1, offer)  # stop offers
    await gwen.expect()
    # The sponsor's text is theirs: only Britizen's frame is checked.
    assert assert_welsh(standin, since, 3501) > 6


async def test_friend_requests_and_compare_in_welsh(
    service: BritizenService, standin: BotApiStandIn, citizen: Callable[..., Citizen]
) -> None:
    gwen = welsh(standin, citizen, 3601, "Gwen")
    await register_in_welsh(gwen, "AB 36 01 01 A")
    ben = citizen(3602, "Ben")
    await register(ben, "CE 36 02 01 A")
    dai = citizen(3603, "Dai")
    await register(dai, "JG 36 03 01 B")
    since = standin.mark()
    await gwen.send("/invite")
    invite = await gwen.expect_photo()
    found = re.search(r"https://t\.me/\w+\?start=(\S+)", invite.text)
    assert found is not None
    await ben.send("/start " + found.group(1))
    await ben.expect("I've asked Gwen")
    request = await gwen.expect("Ben")
    assert gwen.buttons(request)[:2] == [
        cy(friend_texts.ACCEPT_BUTTON),
        cy(friend_texts.DECLINE_BUTTON),
    ]
    await gwen.press(cy(friend_texts.ACCEPT_BUTTON), message=request)
    await gwen.expect("Ben")
    await ben.expect("Gwen accepted")  # Ben reads English
    await dai.send("/start " + found.group(1))
    await dai.expect("I've asked Gwen")
    request = await gwen.expect("Dai")
    await gwen.press(cy(friend_texts.DECLINE_BUTTON), message=request)
    await gwen.expect()
    # The other way round: Gwen opens an English speaker's link; Eve is asked in English and
    # accepts, and Gwen is told in Welsh.
    eve = citizen(3604, "Eve")
    await register(eve, "AB 36 04 01 C")
    await eve.send("/invite")
    found = re.search(r"https://t\.me/\w+\?start=(\S+)", (await eve.expect_photo()).text)
    assert found is not None
    await gwen.send("/start " + found.group(1))
    await gwen.expect("Eve")
    await eve.expect("Gwen opened your invite link")
    await eve.press("Accept")
    await eve.expect("You and Gwen are now friends")
    await gwen.expect("Eve")
    await gwen.send("/compare")
    compared = await gwen.expect()
    await tap(gwen, 0, compared)
    await gwen.expect_photo("Ben")
    assert assert_welsh(standin, since, 3601) > 8
