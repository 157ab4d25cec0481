"""Score sharing, /mydata and /delete through the real bot against the stand-in, with a
partner on the real HTTP API, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from sqlalchemy import func, select

from api.openapi import API_PREFIX
from bot.service import BritizenService
from services.clock import ManualClock
from services.loans import payment_payload
from standin import BotApiStandIn
from storage.models import Citizen as CitizenRow
from storage.models import Erasure, FriendRequest, Friendship, Instalment, PaymentEvent, Referral
from tests.api.rights_helpers import batch, event
from tests.api.test_sponsor_api import call
from tests.e2e.conftest import register
from tests.standin.driver import Citizen

CODE = re.compile(r"Your one-time code: ([A-Z0-9]{4}-[A-Z0-9]{4})")


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_share_a_code_see_who_looked_and_answer_a_request(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    http: aiohttp.ClientSession,
    standin: BotApiStandIn,
) -> None:
    alice = citizen(701, "Alice")
    await register(alice, "AB 70 10 01 A")
    _partner, key = await service.services.partners.create("Lend Well")

    await alice.send("/share")
    shown = await alice.expect(
        "Your one-time code", "one yes/no question", "not your score", "works once", "Nobody has"
    )
    assert alice.buttons() == ["Make a new code", "📊 Share my score instead"]
    found = CODE.search(shown.text)
    assert found is not None
    # The default code answers yes/no questions only: the score itself is refused.
    refused = await call(http, service, f"{API_PREFIX}/scores/{found.group(1)}", key=key)
    assert refused.status == 403 and refused.json["error"] == "score_not_shared"
    await alice.press("📊 Share my score instead")
    chosen = await alice.expect("This code shares your score", "sees your band, your score")
    assert alice.buttons() == ["Make a new code"]
    found = CODE.search(chosen.text)
    assert found is not None
    reply = await call(http, service, f"{API_PREFIX}/scores/{found.group(1)}", key=key)
    assert reply.status == 200 and reply.json["score"] == 600
    await alice.expect("Lend Well has just seen your score (Good, 600) with your code")

    await alice.send("/share")
    await alice.expect("Who has asked about you:", "• Lend Well —", "with a code: saw your score")
    old = CODE.search(alice.last.text if alice.last else "")
    assert old is not None
    await alice.press("Make a new code")
    renewed = await alice.expect("Your one-time code")
    new = CODE.search(renewed.text)
    assert new is not None and new.group(1) != old.group(1)
    assert (await call(http, service, f"{API_PREFIX}/scores/{old.group(1)}", key=key)).status == 410

    asked = await call(
        http,
        service,
        f"{API_PREFIX}/access-requests",
        method="POST",
        key=key,
        data=json.dumps({"ni_number": "AB701001A"}),
    )
    assert asked.status == 202
    await alice.expect("Lend Well asks to see your Britizen score itself")
    assert alice.buttons() == ["Allow", "Deny", "🚫 Deny and never ask again"]
    await alice.press("Allow")
    await alice.expect("Allowed: Lend Well can see your band, score")
    seen = await call(http, service, f"{API_PREFIX}/access-requests/{asked.json['id']}", key=key)
    assert seen.json["score"]["band"] == "Good"
    await alice.expect("Lend Well has just seen your score", "with your permission")
    # The same Allow pressed again (a replay) changes nothing and shows no score.
    anchor = alice.last
    assert anchor is not None
    since = standin.mark()
    standin.callback_query(alice.user_id, anchor, f"share:allow:{asked.json['id']}", strict=False)
    answer = await standin.wait_for("answerCallbackQuery", since=since)
    assert answer.params.get("text") == "This is no longer available."
    again = await call(http, service, f"{API_PREFIX}/access-requests/{asked.json['id']}", key=key)
    assert again.json["status"] == "used" and "score" not in again.json


async def test_mydata_sends_everything_held_with_the_ni_number_masked(
    service: BritizenService, citizen: Callable[..., Citizen], http: aiohttp.ClientSession
) -> None:
    alice = citizen(702, "Alice")
    await register(alice, "AB 70 20 01 A", postcode="SO17")
    _partner, key = await service.services.partners.create("Southern Water")
    await call(
        http,
        service,
        f"{API_PREFIX}/events",
        method="POST",
        key=key,
        data=batch(event("w-1", "AB702001A", "late")),
    )
    await service.services.loans.confirm(702, 5_000, 3, "export-loan")

    await alice.send("/mydata")
    sent = await alice.expect_document("Everything Britizen holds about you")
    assert sent.file_name is not None and sent.file_name.endswith(".json")
    assert sent.document is not None
    raw = sent.document.decode()
    assert "AB702001A" not in raw.replace(" ", "") and "ni_hash" not in raw
    data = json.loads(raw)
    assert data["profile"]["ni_masked"].startswith("AB") and "•" in data["profile"]["ni_masked"]
    assert data["profile"]["postcode_district"] == "SO17"
    assert data["score"]["score"] == 600 and len(data["score_history"]) == 1
    assert [(e["source"], e["outcome"]) for e in data["payment_events"]] == [
        ("Southern Water", "late")
    ]
    [loan] = data["loans"]
    assert loan["principal_pence"] == 5_000 and len(loan["instalments"]) == 3
    assert "application_key" not in loan
    assert data["consents"]["marketing_opt_in"] is False
    for section in ("friends", "offers_redeemed", "score_sharing", "disputes", "messages"):
        assert section in data
    # Before any nightly pass: the person's own network role section, empty.
    assert data["network_role"] == {
        "degree": None,
        "betweenness_estimate": None,
        "role": None,
        "computed_at": data["score"]["computed_at"],
    }
    await service.services.scoring.run()
    # The pass moves her 600 (Good) to 592 (Fair): its alert goes out through the outbox and
    # would otherwise race the export below.
    await alice.expect("Your band changed: Good → Fair")
    await alice.send("/mydata")
    again = await alice.expect_document("Everything Britizen holds about you")
    assert again.document is not None
    mine = json.loads(again.document.decode())["network_role"]
    assert (mine["degree"], mine["betweenness_estimate"], mine["role"]) == (0, 0.0, None)


async def test_delete_is_blocked_by_an_open_loan_then_erases_and_holds_later_events(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    http: aiohttp.ClientSession,
    clock: ManualClock,
) -> None:
    bob = citizen(703, "Bob")
    await register(bob, "CE 70 30 01 A")
    invite = await service.services.invites.code_for(703)
    alice = citizen(704, "Alice")
    await alice.send(f"/start {invite}")
    await alice.expect("Welcome to Britizen")
    await alice.press("I agree")
    await alice.expect("National Insurance number")
    await alice.send("AB 70 40 01 A")
    await alice.expect("saved as")
    await alice.send("14/03/1990")
    await alice.expect("postcode district")
    await alice.press("Skip")
    await alice.expect("You're registered")
    await alice.expect("would you like offers")
    await alice.press("No thanks")
    await alice.expect("won't get any sponsor offers")
    await bob.expect("Alice joined Britizen with your invite link")
    await bob.press("Accept")
    await bob.expect("now friends")
    await alice.expect("accepted")

    loan = await service.services.loans.confirm(704, 5_000, 3, "delete-loan")
    await alice.send("/delete")
    await alice.expect("can't be erased yet", "you still owe £", "/loans")
    assert alice.buttons() == []

    for instalment in loan.instalments:
        payload = payment_payload(instalment.id, instalment.payable_pence)
        await service.services.loans.record_payment(
            704, payload, instalment.payable_pence, f"charge-{instalment.id}"
        )
    await alice.send("/delete")
    await alice.expect("Erase your Britizen account?", "can't be undone", "/mydata")
    await alice.press("No, keep my account")
    await alice.expect("Nothing was deleted")
    assert await service.services.registration.is_registered(704)

    await alice.send("/delete")
    await alice.expect("Erase your Britizen account?")
    await alice.press("Yes, erase everything")
    await alice.expect("Your account has been erased")
    assert not await service.services.registration.is_registered(704)
    async with service.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Friendship)) == 0
        assert await session.scalar(select(func.count()).select_from(FriendRequest)) == 0
        assert await session.scalar(select(func.count()).select_from(Referral)) == 0
        assert await session.scalar(select(func.count()).select_from(PaymentEvent)) == 0
        assert await session.scalar(select(func.count()).select_from(Instalment)) == 0
        [erasure] = (await session.scalars(select(Erasure))).all()
    assert erasure.referral_inviter_id is None  # the hash alone refuses a second credit
    await alice.send("/score")
    await alice.expect("not registered")

    _partner, key = await service.services.partners.create("Southern Water")
    # Answered exactly as for someone never registered (issue 17): held, not refused.
    after = await call(
        http,
        service,
        f"{API_PREFIX}/events",
        method="POST",
        key=key,
        data=batch(event("after", "AB704001A")),
    )
    assert after.json["events"] == [{"id": "after", "status": "accepted"}]

    # Joining again through the same link: an account, no promotions, no second referral.
    said_before = len(alice.standin.sent_to(704))
    await alice.send(f"/start {invite}")
    await alice.expect("Welcome to Britizen")
    await alice.press("I agree")
    await alice.expect("National Insurance number")
    await alice.send("AB 70 40 01 A")
    await alice.expect("saved as")
    await alice.send("14/03/1990")
    await alice.expect("postcode district")
    await alice.press("Skip")
    await alice.expect("You're registered")
    assert await service.services.registration.marketing_suppressed(704)
    # Not asked about offers again: the next thing the bot says answers /score.
    await alice.send("/score")
    await alice.expect("score")
    said_since = alice.standin.sent_to(704)[said_before:]
    assert not any("would you like offers" in (m.text or "") for m in said_since)
    async with service.db.transaction() as session:
        row = await session.scalar(select(CitizenRow).where(CitizenRow.telegram_id == 704))
        assert row is not None and row.marketing_opt_in is False
        assert await session.scalar(select(func.count()).select_from(Referral)) == 0
    # Now a citizen again, so partners' events are accepted again.
    again = await call(
        http,
        service,
        f"{API_PREFIX}/events",
        method="POST",
        key=key,
        data=batch(event("back", "AB704001A")),
    )
    assert again.json["accepted"] == 1


async def test_an_old_erase_button_erases_nobody(
    service: BritizenService, citizen: Callable[..., Citizen], standin: BotApiStandIn
) -> None:
    carol = citizen(705, "Carol")
    await register(carol, "CE 70 50 01 A")
    await carol.send("/delete")
    confirm = await carol.expect("Erase your Britizen account?")
    await carol.send("/cancel")
    await carol.expect("Cancelled")
    since = standin.mark()
    standin.callback_query(carol.user_id, confirm, "del:yes", strict=False)
    answer = await standin.wait_for("answerCallbackQuery", since=since)
    assert answer.params.get("text") == "This is no longer available."
    assert await service.services.registration.is_registered(705)
