"""Stray updates in the middle of a flow (issue 20), through the real bot against the stand-in, on
SQLite and PostgreSQL, for a reader in English and one in Welsh: at every step of /reportni,
/nireply, /boost and /contest the person sends a sticker, a photo where text is expected, an
edit of an earlier message, a command, and presses a stale button. Each gets its own answer in
the reader's language (never a silence that could hide a lost flow), and the flow then carries
on from the same step, unchanged.

Expected wording is taken from texts/ and worded in the reader's language, so these tests say
what each stray update gets, not how it is phrased; for Welsh, every reply is also checked for
English left in it (tests/e2e/test_welsh.py's check)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

import texts.chats as chats
import texts.common as common
from bot.service import BritizenService
from handlers.ni_claims import MAX_MB
from services.ni_claims import MAX_STATEMENT
from standin import BotApiStandIn
from storage.models import BoostLink, ContestEntry, DialogState, NiClaim
from tests.e2e.conftest import ServiceFactory, register
from tests.e2e.test_boost import invite, sign_up
from tests.e2e.test_ni_claims import MASKED, NI, told_in_use
from tests.standin.driver import Citizen, SentMessage, callback_data
from tests.support.welsh_scan import assert_no_english
from texts import boost as boost_texts
from texts import growth_outreach as growth_texts
from texts import ni_claims as claim_texts
from texts.i18n import worded_in

ADMIN = 990
READERS = [pytest.param("en", id="english"), pytest.param("cy", id="welsh")]


class Reader:
    """One person, reading in `language`: what the bot should say to them, worded in it."""

    def __init__(self, person: Citizen, standin: BotApiStandIn, language: str) -> None:
        self.person, self.standin, self.language = person, standin, language

    def says(self, render: Any, *args: Any) -> str:
        """``render(*args)`` (or a constant) as this reader reads it."""
        if callable(render):
            return str(worded_in(self.language, render, *args))
        return str(worded_in(self.language, str, render))

    def read_in_their_language(self) -> None:
        code = "cy-GB" if self.language == "cy" else "en"
        self.standin.add_user(self.person.user_id, self.person.first_name, language_code=code)

    async def sticker_and_photo(self, answer: str, *, photo: bool = True) -> None:
        self.standin.user_media(self.person.user_id, "sticker")
        await self.person.expect(answer)
        if photo:
            self.standin.user_media(self.person.user_id, "photo")
            await self.person.expect(answer)

    async def edit(self, earlier: dict[str, Any]) -> None:
        self.standin.edit_user_message(earlier, "something else")
        await self.person.expect(self.says(chats.EDITS_NOT_READ))

    async def stale(self, message: SentMessage, data: str) -> str:
        """Press a button by its callback data on `message` (even one no longer shown): the
        toast or alert text it got."""
        since = self.standin.mark()
        self.standin.callback_query(self.person.user_id, message, data, strict=False)
        answer = await self.standin.wait_for("answerCallbackQuery", since=since)
        return str(answer.params.get("text"))


async def dialog_of(service: BritizenService, telegram_id: int) -> tuple[str, str] | None:
    async with service.db.transaction() as session:
        row = await session.get(DialogState, telegram_id)
    return None if row is None else (row.flow, row.step)


# --- /reportni: the claimant (not registered) at the contact and document steps ---------------


@pytest.mark.parametrize("language", READERS)
async def test_reportni_steps_answer_every_stray_update_and_keep_the_report(
    start_service: ServiceFactory,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
    language: str,
) -> None:
    service = await start_service(admin_ids=[ADMIN])
    await register(citizen(601, "Mallory"), NI)
    alice = citizen(602, "Alice")
    await told_in_use(alice, standin)
    report_this = callback_data(alice, "Report this")
    offer = alice.last
    assert offer is not None
    me = Reader(alice, standin, language)
    me.read_in_their_language()
    since = standin.mark()

    await alice.press("Report this", message=offer)
    await alice.expect(me.says(claim_texts.ASK_CONTACT))
    assert await dialog_of(service, 602) == ("ni_claim", "contact")
    # The contact step.
    await me.sticker_and_photo(me.says(chats.not_text_at_step, "ni_claim", "contact"))
    earlier = standin.user_message(602, "/help")
    await alice.expect()  # /help is answered as ever; the step stays
    await me.edit(earlier)
    for command in ("/score", "/start", "/nonsense"):
        await alice.send(command)
        reminder = await alice.expect(me.says(claim_texts.mid_claim, "contact"))
        assert alice.buttons(reminder) == []
    assert await me.stale(offer, report_this) == me.says(claim_texts.ALREADY_REPORTING)
    skip = "nic:skip"
    assert await me.stale(offer, skip) == me.says(common.STALE_BUTTON)
    assert await dialog_of(service, 602) == ("ni_claim", "contact")
    await alice.send("alice@example.com")
    asked = await alice.expect(me.says(claim_texts.ask_document, MAX_MB))

    # The document step (a photo is the answer here, so only a sticker is stray).
    await me.sticker_and_photo(me.says(chats.not_text_at_step, "ni_claim", "document"), photo=False)
    await me.edit(earlier)
    await alice.send("/start")
    reminder = await alice.expect(me.says(claim_texts.mid_claim, "document"))
    assert alice.buttons(reminder) == [me.says(claim_texts.SKIP_BUTTON)]
    assert await me.stale(offer, report_this) == me.says(claim_texts.ALREADY_REPORTING)
    await alice.send("here you go")
    await alice.expect(me.says(claim_texts.DOCUMENT_NEEDED))
    assert await dialog_of(service, 602) == ("ni_claim", "document")
    async with service.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(NiClaim)) == 0

    # The report carries on from where it was: Skip sends it, once.
    await alice.press(me.says(claim_texts.SKIP_BUTTON), message=asked)
    await alice.expect("#")
    async with service.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(NiClaim)) == 1
    assert await me.stale(asked, skip) == me.says(common.STALE_BUTTON)
    await alice.expect_nothing()
    if language == "cy":
        assert assert_no_english(standin, since, 602) > 20


# --- /nireply: the holder (registered) writing their side -------------------------------------


@pytest.mark.parametrize("language", READERS)
async def test_nireply_step_answers_every_stray_update_and_keeps_the_reply(
    start_service: ServiceFactory,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
    language: str,
) -> None:
    service = await start_service(admin_ids=[ADMIN])
    mallory = citizen(611, "Mallory")
    await register(mallory, NI)
    alice = citizen(612, "Alice")
    await told_in_use(alice, standin)
    await alice.press("Report this")
    await alice.expect("how can our team reach you")
    await alice.send("alice@example.com")
    await alice.expect("photo of a document")
    await alice.press("Skip")
    await alice.expect("#")
    notice = await mallory.expect("Someone has reported that the National Insurance number")
    reply_button = callback_data(mallory, "Reply to this report")
    me = Reader(mallory, standin, language)
    me.read_in_their_language()
    since = standin.mark()

    await mallory.send("/nireply")
    await mallory.expect(me.says(claim_texts.ask_statement, MAX_STATEMENT))
    await me.sticker_and_photo(me.says(chats.not_text_at_step, "ni_claim", "statement"))
    earlier = standin.user_message(611, "/help")
    await mallory.expect()  # /help answered as usual, the step kept
    await me.edit(earlier)
    await mallory.send("/why")  # a registered person's command runs, the step stays
    await mallory.expect()
    await mallory.send("/nonsense")
    await mallory.expect(me.says(common.UNKNOWN_COMMAND))
    # The notice's button again: asked again, at the same step (nothing lost, nothing sent).
    await mallory.press("Reply to this report", message=notice)  # sent while read in English
    await mallory.expect(me.says(claim_texts.ask_statement, MAX_STATEMENT))
    assert await dialog_of(service, 611) == ("ni_claim", "statement")
    async with service.db.transaction() as session:
        claim = await session.scalar(select(NiClaim))
    assert claim is not None and claim.holder_statement is None

    await mallory.send("It is mine: I have had it since 2004.")
    await mallory.expect(me.says(claim_texts.STATEMENT_SAVED))
    async with service.db.transaction() as session:
        claim = await session.scalar(select(NiClaim))
    assert claim is not None and claim.holder_statement == "It is mine: I have had it since 2004."
    assert await dialog_of(service, 611) is None
    if language == "cy":
        assert assert_no_english(standin, since, 611) > 10
    # Once decided (the holder told in their language), the old button says there is nothing
    # to reply to.
    await service.services.ni_claims.decide(claim.id, ADMIN, move=False, note="-")
    await mallory.expect(me.says(claim_texts.holder_cleared, MASKED, None))
    await me.stale(notice, reply_button)
    await mallory.expect(me.says(claim_texts.NO_REPORT_AGAINST_YOU))
    await mallory.expect_nothing()


# --- /boost: the screen and the Remove confirm step -------------------------------------------


@pytest.mark.parametrize("language", READERS)
async def test_boost_screens_answer_every_stray_update_and_the_confirm_still_works(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
    language: str,
) -> None:
    tom = citizen(621, "Tom")
    await register(tom, "AB 62 10 01 A")
    async with aiohttp.ClientSession() as http:
        await sign_up(
            http, service, await invite(tom, "Invite my landlord", "landlord"), "Stray Lets"
        )
    await tom.expect("Stray Lets, whom you invited as your landlord, has signed up")
    me = Reader(tom, standin, language)
    me.read_in_their_language()
    since = standin.mark()

    await tom.send("/boost")
    screen = await tom.expect(me.says(boost_texts.TITLE))
    remove = me.says(boost_texts.remove_button, "Stray Lets")
    await tom.press(remove, message=screen)
    ask = await tom.expect(me.says(boost_texts.confirm_remove, "Stray Lets", "landlord"))
    yes = callback_data(tom, me.says(boost_texts.REMOVE_YES_BUTTON))
    # No conversation step: buttons only, so strays get the general answers and the prompt's
    # buttons keep working.
    await me.sticker_and_photo(me.says(chats.NOT_TEXT_OUTSIDE_STEP))
    earlier = standin.user_message(621, "yes")
    await tom.expect(me.says(common.UNKNOWN_TEXT))
    await me.edit(earlier)
    await tom.send("/nonsense")
    await tom.expect(me.says(common.UNKNOWN_COMMAND))
    await tom.send("/boost")  # a newer screen doesn't retire the prompt
    await tom.expect(me.says(boost_texts.TITLE))
    assert await me.stale(screen, "boost:ok:99999") == me.says(common.STALE_BUTTON)
    async with service.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(BoostLink)) == 1

    await tom.press(me.says(boost_texts.REMOVE_YES_BUTTON), message=ask)
    await tom.expect(me.says(boost_texts.removed, "Stray Lets", "landlord"))
    async with service.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(BoostLink)) == 0
    assert await me.stale(ask, yes) == me.says(boost_texts.PARTNER_ALREADY_REMOVED)
    assert await me.stale(screen, callback_data(tom, remove)) == me.says(
        boost_texts.PARTNER_ALREADY_REMOVED
    )
    await tom.expect_nothing()
    if language == "cy":
        assert assert_no_english(standin, since, 621) > 10


# --- /contest: the screen, and a button from a contest that has ended --------------------------


@pytest.mark.parametrize("language", READERS)
async def test_contest_screen_answers_every_stray_update_and_an_ended_contest_says_so(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
    language: str,
) -> None:
    una = citizen(631, "Una")
    await register(una, "AB 63 10 01 A")
    contests = service.services.contests
    contest = await contests.start("Spring push", 14)
    me = Reader(una, standin, language)
    me.read_in_their_language()
    since = standin.mark()

    await una.send("/contest")
    screen = await una.expect("Spring push")
    await me.sticker_and_photo(me.says(chats.NOT_TEXT_OUTSIDE_STEP))
    earlier = standin.user_message(631, "join")
    await una.expect(me.says(common.UNKNOWN_TEXT))
    await me.edit(earlier)
    await una.send("/nonsense")
    await una.expect(me.says(common.UNKNOWN_COMMAND))
    join = callback_data(una, me.says(growth_texts.JOIN_LISTED_BUTTON))
    await una.press(me.says(growth_texts.JOIN_LISTED_BUTTON), message=screen)
    await una.expect("Spring push")
    async with service.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(ContestEntry)) == 1

    await contests.end(contest.id)
    await una.expect("Spring push")  # the result, announced once
    assert await me.stale(screen, join) == me.says(growth_texts.CONTEST_OVER)
    async with service.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(ContestEntry)) == 1
    await una.expect_nothing()
    if language == "cy":
        assert assert_no_english(standin, since, 631) > 5
