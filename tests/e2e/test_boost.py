"""Boost (issue 20) through the real bot against the stand-in, with the landlord on the real
sign-up page and partner API over HTTP, on SQLite and PostgreSQL: rent that counts, started by
the citizen; a late or missed payment reported this way counts only once confirmed or after
30 days undisputed; a Boost key reports for nobody else."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from datetime import date
from html import unescape

import aiohttp
import pytest
from sqlalchemy import func, select

from api.openapi import API_PREFIX
from bot.service import BritizenService
from services.clock import ManualClock
from standin import BotApiStandIn
from storage.models import BoostReview, PaymentEvent, Score, ScoreAccess
from tests.api.rights_helpers import batch, event
from tests.api.test_sponsor_api import call
from tests.e2e.conftest import START, ServiceFactory, register
from tests.standin.driver import Citizen, callback_data

LINK = re.compile(r"https?://\S+/boost/signup\?token=([\w-]+)")
KEY = re.compile(r"bz_pt_[\w-]+")
EVENTS = f"{API_PREFIX}/events"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def page(
    http: aiohttp.ClientSession,
    service: BritizenService,
    token: str,
    form: dict[str, str] | None = None,
) -> tuple[int, str]:
    """GET the sign-up page for ``token``, or POST ``form`` to it: (status, the HTML with its
    entities decoded, as a reader sees the words)."""
    url = f"http://127.0.0.1:{service.http_port}/boost/signup"
    if form is None:
        async with http.get(url, params={"token": token}) as response:
            assert response.content_type == "text/html"
            return response.status, unescape(await response.text())
    async with http.post(url, data={"token": token, **form}) as response:
        assert response.content_type == "text/html"
        assert response.headers["Cache-Control"] == "no-store"
        return response.status, unescape(await response.text())


async def invite(person: Citizen, button: str, role_words: str) -> str:
    """/boost, then an invite button: the token of the link the bot gave."""
    await person.send("/boost")
    await person.expect("Boost: add rent and council tax", "What you can add")
    assert person.buttons()[:3] == [
        "Invite my landlord",
        "Invite my letting agent",
        "Invite my council",
    ]
    await person.press(button)
    shown = await person.expect(f"Send this link to your {role_words}", "It works once")
    found = LINK.search(shown.text)
    assert found is not None, shown.text
    return found.group(1)


async def sign_up(
    http: aiohttp.ClientSession, service: BritizenService, token: str, name: str
) -> str:
    status, html = await page(http, service, token)
    assert status == 200 and "invited you as their" in html and 'name="name"' in html
    status, html = await page(http, service, token, {"name": name})
    assert status == 200 and "shown only this once" in html, html
    found = KEY.search(html)
    assert found is not None
    return found.group(0)


async def report(
    http: aiohttp.ClientSession, service: BritizenService, key: str, *events: dict[str, str]
) -> object:
    return await call(http, service, EVENTS, method="POST", key=key, data=batch(*events))


async def payment_history(service: BritizenService, citizen_id: int) -> tuple[int, int]:
    """(score, payment history points) after a scoring pass now."""
    await service.services.scoring.run()
    async with service.db.transaction() as session:
        row = await session.get(Score, citizen_id)
    assert row is not None and row.payment_history is not None
    return row.score, row.payment_history


async def citizen_id_of(service: BritizenService, telegram_id: int) -> int:
    citizen_id = await service.services.registration.citizen_id(telegram_id)
    assert citizen_id is not None
    return citizen_id


def monthly(prefix: str, ni_number: str, months: int, kind: str = "rent") -> list[dict[str, str]]:
    """On-time payments due on the 1st of each of the last ``months`` months."""
    first = START.date().replace(day=1)
    days = []
    for back in range(months):
        year, month = divmod(first.month - 1 - back, 12)
        days.append(date(first.year + year, month + 1, 1))
    return [
        event(f"{prefix}-{d.isoformat()}", ni_number, "on_time", d.isoformat(), kind) for d in days
    ]


async def test_a_renter_invites_their_landlord_and_on_time_rent_raises_the_score(
    service: BritizenService, citizen: Callable[..., Citizen], http: aiohttp.ClientSession
) -> None:
    alice = citizen(1201, "Alice")
    await register(alice, "AB 12 01 01 A")
    token = await invite(alice, "Invite my landlord", "landlord")
    await alice.send("/boost")
    await alice.expect("Nothing reports to your record yet", "Invitations waiting to be used: 1")

    key = await sign_up(http, service, token, "Acme Lettings")
    await alice.expect("Acme Lettings, whom you invited as your landlord, has signed up")
    # The link worked once.
    status, html = await page(http, service, token)
    assert status == 410 and "already been used" in html
    status, html = await page(http, service, token, {"name": "Someone Else"})
    assert status == 410 and "already been used" in html

    reply = await report(http, service, key, *monthly("rent", "AB120101A", 11))
    assert reply.status == 200 and reply.json["accepted"] == 11, reply.body  # type: ignore[attr-defined]
    alice_id = await citizen_id_of(service, 1201)
    score, points = await payment_history(service, alice_id)
    assert points > 0 and score > 600
    await alice.expect("Your band went up: Good →")

    await alice.send("/why")
    why = await alice.expect("What Boost added")
    # Nothing else on the record: everything above the starting 600 is the rent's.
    assert f"Rent reported by Acme Lettings: 11 on-time payments, +{score - 600} points" in why.text
    assert "11 rent payments paid on time" in why.text
    await alice.press("➕ Add rent or council tax")
    await alice.expect(
        "Already on your record:", "• Acme Lettings: rent", "Signed up through Boost:"
    )
    await alice.expect_nothing()


async def test_a_late_rent_counts_only_after_confirm_and_a_dispute_keeps_one_out(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    http: aiohttp.ClientSession,
    clock: ManualClock,
    standin: BotApiStandIn,
) -> None:
    bob = citizen(1202, "Bob")
    await register(bob, "CE 12 02 01 A")
    key = await sign_up(
        http, service, await invite(bob, "Invite my letting agent", "letting agent"), "Flat Agents"
    )
    await bob.expect("Flat Agents, whom you invited as your letting agent, has signed up")
    bob_id = await citizen_id_of(service, 1202)

    reply = await report(
        http, service, key, event("late-1", "CE120201A", "late", "2026-11-01", "rent")
    )
    assert reply.json["accepted"] == 1  # type: ignore[attr-defined]
    notice = await bob.expect(
        "Flat Agents reported your rent due 1 Nov 2026 as paid late",
        "doesn't count towards your score unless you confirm it",
        "counts from 21 Dec 2026",
    )
    assert bob.buttons(notice) == ["✅ Confirm", "✖ Dispute"]
    # Reported, but it takes nothing away yet, and /why says it is waiting.
    assert await payment_history(service, bob_id) == (600, 0)
    await bob.send("/why")
    await bob.expect(
        "Flat Agents (your letting agent) has signed up", "(1 waiting for your answer)"
    )

    confirm = callback_data(bob, "✅ Confirm")
    await bob.press("✅ Confirm", message=notice)
    await bob.expect(
        "Confirmed: your rent due 1 Nov 2026 (paid late, reported by Flat Agents) counts"
    )
    score, points = await payment_history(service, bob_id)
    assert points < 0 and score < 600
    await bob.expect("Your band changed: Good → Fair")
    # Pressed again (a replay of the old button): already answered, nothing changes.
    since = standin.mark()
    standin.callback_query(1202, notice, confirm, strict=False)
    answer = await standin.wait_for("answerCallbackQuery", since=since)
    assert answer.params.get("text") == "You've already answered this one."
    async with service.db.transaction() as session:
        review = await session.scalar(select(BoostReview))
    assert review is not None and review.status == "confirmed"

    reply = await report(
        http, service, key, event("missed-2", "CE120201A", "missed", "2026-10-01", "rent")
    )
    assert reply.json["accepted"] == 1  # type: ignore[attr-defined]
    notice = await bob.expect("reported your rent due 1 Oct 2026 as missed")
    await bob.press("✖ Dispute", message=notice)
    await bob.expect(
        "Disputed: your rent due 1 Oct 2026 (missed, reported by Flat Agents) won't count"
    )
    # Disputed: out for good, even once 30 days have passed.
    clock.advance(days=31)
    assert (await payment_history(service, bob_id))[1] == points
    await bob.expect_nothing()


async def test_an_undisputed_late_payment_counts_after_30_days(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    http: aiohttp.ClientSession,
    clock: ManualClock,
    standin: BotApiStandIn,
) -> None:
    carol = citizen(1203, "Carol")
    await register(carol, "HH 12 03 01 A")
    key = await sign_up(
        http,
        service,
        await invite(carol, "Invite my council", "council"),
        "Southampton City Council",
    )
    await carol.expect("has signed up to report your council tax")
    carol_id = await citizen_id_of(service, 1203)
    reply = await report(
        http, service, key, event("ct-1", "HH120301A", "missed", "2026-11-01", "council_tax")
    )
    assert reply.json["accepted"] == 1  # type: ignore[attr-defined]
    notice = await carol.expect("reported your council tax due 1 Nov 2026 as missed")

    clock.advance(days=29)
    assert (await payment_history(service, carol_id))[1] == 0
    clock.advance(days=1)
    _score, points = await payment_history(service, carol_id)
    assert points < 0
    await carol.expect("Your band changed: Good → ")
    # Too late to dispute here: the press is answered with where to go instead.
    since = standin.mark()
    await carol.press("✖ Dispute", message=notice)
    answer = await standin.wait_for("answerCallbackQuery", since=since)
    assert "30 days to dispute this here have passed" in str(answer.params.get("text"))
    async with service.db.transaction() as session:
        review = await session.scalar(select(BoostReview))
    assert review is not None and review.status == "pending"
    await carol.expect_nothing()


async def test_a_boost_key_reports_for_nobody_else_and_old_links_are_refused(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    http: aiohttp.ClientSession,
    clock: ManualClock,
) -> None:
    dan = citizen(1204, "Dan")
    await register(dan, "JK 12 04 01 A")
    erin = citizen(1205, "Erin")
    await register(erin, "JK 12 05 01 A")
    key = await sign_up(
        http, service, await invite(dan, "Invite my landlord", "landlord"), "Dan's Landlord"
    )
    await dan.expect("has signed up")

    # Someone registered who did not invite it, and someone nobody knows: the same answer.
    for ni_number in ("JK120501A", "JK999999A"):
        reply = await report(http, service, key, event(f"x-{ni_number}", ni_number, kind="rent"))
        assert reply.status == 403, reply.body  # type: ignore[attr-defined]
        assert reply.json["error"] == "forbidden"  # type: ignore[attr-defined]
        assert "events.0.ni_number" in reply.json["detail"]  # type: ignore[attr-defined]
    # A bill, even about Dan, and a mixed batch: refused whole, naming each field.
    reply = await report(
        http,
        service,
        key,
        event("ok-1", "JK120401A", kind="rent"),
        event("bill-1", "JK120401A", kind="bill"),
    )
    assert reply.status == 403  # type: ignore[attr-defined]
    assert "events.1.kind" in reply.json["detail"] and "events.0" not in reply.json["detail"]  # type: ignore[attr-defined]
    asked = await call(
        http,
        service,
        f"{API_PREFIX}/access-requests",
        method="POST",
        key=key,
        data=json.dumps({"ni_number": "JK120401A"}),
    )
    assert asked.status == 403 and "cannot ask to see anyone's score" in asked.json["detail"]
    async with service.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(PaymentEvent)) == 0
    await erin.expect_nothing()

    # Links: unknown, expired (7 days), refused clearly; a bad form keeps the link usable.
    status, html = await page(http, service, "no-such-token")
    assert status == 404 and "isn't valid" in html
    token = await invite(erin, "Invite my landlord", "landlord")
    status, html = await page(http, service, token, {"name": "  "})
    assert status == 400 and "Please give a name" in html
    status, html = await page(http, service, token, {"name": "Dan's Landlord"})
    assert status == 400 and "already taken" in html
    clock.advance(days=7, seconds=1)
    status, html = await page(http, service, token)
    assert status == 410 and "has expired" in html
    # Dan's landlord, invited by Erin too, links her with its existing key instead.
    fresh = await invite(erin, "Invite my landlord", "landlord")
    status, html = await page(http, service, fresh, {"key": key})
    assert status == 200 and "now also covers" in html and "bz_pt_" not in html
    await erin.expect("Dan's Landlord, whom you invited as your landlord, has signed up")
    reply = await report(http, service, key, event("erin-1", "JK120501A", kind="rent"))
    assert reply.status == 200 and reply.json["accepted"] == 1  # type: ignore[attr-defined]
    await dan.expect_nothing()
    await erin.expect_nothing()


async def test_too_many_open_invitations_are_refused(
    start_service: ServiceFactory, citizen: Callable[..., Citizen]
) -> None:
    await start_service()
    fay = citizen(1206, "Fay")
    await register(fay, "AB 12 06 01 A")
    for _ in range(5):
        await invite(fay, "Invite my council", "council")
    await fay.send("/boost")
    await fay.expect("Invitations waiting to be used: 5")
    await fay.press("Invite my council")
    await fay.expect("You already have 5 invitations waiting to be used")
    await fay.expect_nothing()


async def test_a_citizen_removes_a_landlord_and_cancels_an_unused_invitation(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    http: aiohttp.ClientSession,
    standin: BotApiStandIn,
) -> None:
    gil = citizen(1207, "Gil")
    await register(gil, "AB 12 07 01 A")
    key = await sign_up(
        http, service, await invite(gil, "Invite my landlord", "landlord"), "Gone Lettings"
    )
    await gil.expect("Gone Lettings, whom you invited as your landlord, has signed up")
    reply = await report(http, service, key, *monthly("rent", "AB120701A", 3))
    assert reply.json["accepted"] == 3  # type: ignore[attr-defined]
    council_token = await invite(gil, "Invite my council", "council")

    await gil.send("/boost")
    screen = await gil.expect("Signed up through Boost:", "Invitations waiting to be used: 1")
    assert gil.buttons(screen)[3:] == [
        "✖ Remove Gone Lettings",
        "✖ Cancel the council invitation (until 28 Nov 2026)",
    ]
    # Remove asks first; "No" changes nothing.
    await gil.press("✖ Remove Gone Lettings", message=screen)
    ask = await gil.expect(
        "Remove Gone Lettings (your landlord) from Boost?",
        "stays on your record and counts as before",
    )
    assert gil.buttons(ask) == ["Yes, remove them", "No, keep them"]
    await gil.press("No, keep them", message=ask)
    await gil.expect("Nothing changed: Gone Lettings can still report your rent.")
    still = await report(http, service, key, event("kept-1", "AB120701A", kind="rent"))
    assert still.status == 200  # type: ignore[attr-defined]

    await gil.press("✖ Remove Gone Lettings", message=screen)
    ask = await gil.expect("Remove Gone Lettings (your landlord) from Boost?")
    yes = callback_data(gil, "Yes, remove them")
    await gil.press("Yes, remove them", message=ask)
    await gil.expect("Removed: Gone Lettings can no longer report your rent")
    # The key can't report about Gil any more; what it reported stays.
    refused = await report(http, service, key, event("after-1", "AB120701A", kind="rent"))
    assert refused.status == 403 and "events.0.ni_number" in refused.json["detail"]  # type: ignore[attr-defined]
    async with service.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(PaymentEvent)) == 4
        log = (await session.scalars(select(ScoreAccess))).all()
    assert [row.via for row in log] == ["boost_revoked"]
    # The old confirm button, replayed, and the screen's Remove: gone, said so, nothing logged.
    since = standin.mark()
    standin.callback_query(1207, ask, yes, strict=False)
    answer = await standin.wait_for("answerCallbackQuery", since=since)
    assert "already removed" in str(answer.params.get("text"))
    since = standin.mark()
    await gil.press("✖ Remove Gone Lettings", message=screen)
    answer = await standin.wait_for("answerCallbackQuery", since=since)
    assert "already removed" in str(answer.params.get("text"))
    async with service.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(ScoreAccess)) == 1

    # /why still explains what the removed landlord reported: it still counts.
    await gil.send("/why")
    why = await gil.expect("What Boost added")
    assert "reported by Gone Lettings: 4 on-time payments" in why.text
    assert "(you removed them: they report no more, what they reported still counts)" in why.text

    # Logged in the access log /share shows (and not offered as a partner to block).
    await gil.send("/share")
    shown = await gil.expect(
        "• Gone Lettings — ", "you removed them from Boost; they can no longer report"
    )
    assert not any("Gone Lettings" in b for b in gil.buttons(shown))

    # The unused invitation: cancelled at once, its link no longer works.
    cancel = callback_data(gil, "✖ Cancel the council invitation (until 28 Nov 2026)")
    await gil.press("✖ Cancel the council invitation (until 28 Nov 2026)", message=screen)
    await gil.expect("Cancelled: the link you made for your council no longer works.")
    status, html = await page(http, service, council_token)
    assert status == 404 and "isn't valid" in html
    since = standin.mark()
    standin.callback_query(1207, screen, cancel, strict=False)
    answer = await standin.wait_for("answerCallbackQuery", since=since)
    assert "isn't waiting any more" in str(answer.params.get("text"))
    await gil.send("/boost")
    after = await gil.expect("Already on your record:", "• Gone Lettings: rent")
    assert "Signed up through Boost" not in after.text
    assert "Invitations waiting" not in after.text
    assert gil.buttons(after) == [
        "Invite my landlord",
        "Invite my letting agent",
        "Invite my council",
    ]
    await gil.expect_nothing()
