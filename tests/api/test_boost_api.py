"""Boost partners over loopback HTTP against the real service, on SQLite and PostgreSQL: what
is stored of an invitation and a key, the scope a Boost key reports in, late payments held
for the citizen (once each, however often resent), and what an erasure keeps of them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date

import aiohttp
import pytest
from sqlalchemy import func, select

from api.openapi import API_PREFIX
from bot.service import BritizenService
from services.clock import ManualClock
from storage.models import (
    AccessRequest,
    BoostInvite,
    BoostLink,
    BoostPartner,
    BoostReview,
    OutboxMessage,
    Partner,
    PaymentEvent,
    RetainedRecord,
    ScoreAccess,
)
from tests.api.boost_helpers import boost_partner, token_of
from tests.api.checks_helpers import band
from tests.api.rights_helpers import batch, event, new_partner, ni, register_directly
from tests.api.test_sponsor_api import Reply, call

EVENTS = f"{API_PREFIX}/events"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def post_events(
    http: aiohttp.ClientSession, service: BritizenService, key: str, *events: dict[str, str]
) -> Reply:
    return await call(http, service, EVENTS, method="POST", key=key, data=batch(*events))


async def test_only_hashes_of_the_link_and_the_key_are_stored(service: BritizenService) -> None:
    await register_directly(service, 401, ni(401))
    invitation = await service.services.boost.invite(401, "council")
    token = token_of(invitation.url)
    done = await service.services.boost.sign_up(token, "Test Borough Council")
    assert done.api_key is not None and done.api_key.startswith("bz_pt_")
    async with service.db.transaction() as session:
        invite = await session.scalar(select(BoostInvite))
        partner = await session.scalar(select(Partner))
        boost = await session.scalar(select(BoostPartner))
        links = (await session.scalars(select(BoostLink))).all()
    assert invite is not None and partner is not None and boost is not None
    assert token not in invite.token_hash and len(invite.token_hash) == 64
    assert done.api_key not in partner.api_key_hash and len(partner.api_key_hash) == 64
    assert invite.used_at is not None and invite.partner_id == partner.id
    assert (boost.partner_id, boost.role) == (partner.id, "council")
    assert [(link.partner_id, link.citizen_id) for link in links] == [(partner.id, 1)]


async def test_a_boost_key_is_refused_outside_its_scope_and_nothing_is_written(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    _citizen, key = await boost_partner(service, 402, ni(402), "Scope Lettings")
    await register_directly(service, 403, ni(403))
    refused = await post_events(
        http,
        service,
        key,
        event("a", ni(402), kind="rent"),
        event("b", ni(403), kind="rent"),
        event("c", ni(402), kind="loan_instalment"),
        event("d", ni(499), kind="council_tax"),
    )
    assert refused.status == 403 and refused.json["error"] == "forbidden"
    detail = refused.json["detail"]
    for field in ("events.1.ni_number", "events.2.kind", "events.3.ni_number"):
        assert field in detail
    assert "events.0" not in detail and ni(403) not in detail
    async with service.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(PaymentEvent)) == 0
    # An ordinary partner may report rent and council tax about anyone, as bills.
    _pid, plain = await new_partner(service, "Big Housing Association")
    ok = await post_events(http, service, plain, event("p1", ni(403), kind="rent"))
    assert ok.status == 200 and ok.json["accepted"] == 1


async def test_late_payments_wait_once_each_however_often_they_are_sent(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    citizen_id, key = await boost_partner(service, 404, ni(404), "Resend Lettings")
    late = event("late-1", ni(404), "late", "2026-11-01", "rent")
    on_time = event("paid-1", ni(404), "on_time", "2026-10-01", "rent")
    for _ in range(2):
        reply = await post_events(http, service, key, late, on_time)
        assert reply.status == 200
    assert [e["status"] for e in reply.json["events"]] == ["duplicate", "duplicate"]
    async with service.db.transaction() as session:
        reviews = (await session.scalars(select(BoostReview))).all()
        notices = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "boost_review")
        )
    assert [(r.citizen_id, r.status, r.counts_from) for r in reviews] == [
        (citizen_id, "pending", date(2026, 12, 21))
    ]
    assert notices == 1


async def test_an_erasure_keeps_no_boost_payment_that_does_not_count(
    service: BritizenService, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    _citizen, key = await boost_partner(service, 405, ni(405), "Erase Lettings")
    reply = await post_events(
        http,
        service,
        key,
        event("waiting", ni(405), "late", "2026-11-01", "rent"),
    )
    assert reply.status == 200
    data_rights = service.services.data_rights
    exported = json.loads((await data_rights.export(405)).content.decode())["boost"]
    [invitation] = exported["invitations"]
    assert invitation["role"] == "landlord" and invitation["signed_up_as"] == "Erase Lettings"
    assert not any("token" in key for key in invitation)
    assert exported["late_or_missed_reports"] == [
        {
            "reported_by": "Erase Lettings",
            "kind": "rent",
            "outcome": "late",
            "due_on": "2026-11-01",
            "status": "pending",
            "counts_from": "2026-12-21",
            "answered_at": None,
        }
    ]
    assert await data_rights.kept_on_erasure(405) == []
    clock.advance(days=30)  # undisputed for 30 days: it counts, so it would be kept
    assert [r.outcome for r in await data_rights.kept_on_erasure(405)] == ["late"]
    await data_rights.erase(405)
    async with service.db.transaction() as session:
        kept = (await session.scalars(select(RetainedRecord.external_id))).all()
        left = await session.scalar(select(func.count()).select_from(BoostLink))
    assert list(kept) == ["waiting"] and left == 0


async def test_a_boost_key_is_refused_on_every_partner_route_but_events(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    """Even with a valid code the citizen made to share their score, and about the very
    citizen who invited it: a Boost key reads nothing, and the code stays unused."""
    _citizen, key = await boost_partner(service, 406, ni(406), "Nosy Lettings")
    sharing = service.services.sharing
    score_code = (await sharing.new_code(406, share_score=True)).code
    requests = f"{API_PREFIX}/access-requests"
    tries = [
        ("GET", f"{API_PREFIX}/scores/{score_code}", None),
        ("POST", f"{API_PREFIX}/checks", json.dumps({"check": band("Good"), "code": score_code})),
        ("POST", requests, json.dumps({"ni_number": ni(406)})),
        ("POST", requests, json.dumps({"ni_number": ni(406), "check": band("Fair")})),
        ("GET", f"{requests}/1", None),
    ]
    for method, path, data in tries:
        refused = await call(http, service, path, method=method, key=key, data=data)
        assert refused.status == 403, (path, refused.body)
        assert refused.json["error"] == "boost_key_not_allowed", (path, refused.json)
        assert "only reports rent and council tax" in refused.json["detail"]
    async with service.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(ScoreAccess)) == 0
        assert await session.scalar(select(func.count()).select_from(AccessRequest)) == 0
        notices = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind.in_(["score_access", "access_request"]))
        )
    assert notices == 0
    # The code was not used up: the partner the citizen meant it for reads the score once.
    _pid, plain = await new_partner(service, "Letting Referee")
    read = await call(http, service, f"{API_PREFIX}/scores/{score_code}", key=plain)
    assert read.status == 200 and read.json["score"] == 600
    # And its own route still works for the citizen who invited it.
    ok = await post_events(http, service, key, event("r-1", ni(406), kind="rent"))
    assert ok.status == 200 and ok.json["accepted"] == 1


async def test_an_allowed_yes_no_request_never_carries_the_score(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    """A normal partner whose consent covers one question (a yes/no code, or an allowed
    request naming a check) cannot turn it into the raw score."""
    await register_directly(service, 407, ni(407))
    _pid, key = await new_partner(service, "Referencing Ltd")
    sharing = service.services.sharing
    requests = f"{API_PREFIX}/access-requests"
    asked = await call(
        http,
        service,
        requests,
        method="POST",
        key=key,
        data=json.dumps({"ni_number": ni(407), "check": band("Good")}),
    )
    assert asked.status == 202
    await sharing.answer_request(407, asked.json["id"], allow=True)
    status = await call(http, service, f"{requests}/{asked.json['id']}", key=key)
    assert status.status == 200 and status.json["status"] == "allowed"
    assert "score" not in status.json and status.json["check"]["name"] == "band_at_least"
    # The yes/no code: the score is refused and the code stays good for one check.
    yes_no = (await sharing.new_code(407)).code
    refused = await call(http, service, f"{API_PREFIX}/scores/{yes_no}", key=key)
    assert (refused.status, refused.json["error"]) == (403, "score_not_shared")
    answered = await call(
        http,
        service,
        f"{API_PREFIX}/checks",
        method="POST",
        key=key,
        data=json.dumps({"check": band("Good"), "code": yes_no}),
    )
    assert answered.status == 200 and set(answered.json) == {"check", "result", "computed_at"}
    again = await call(http, service, f"{API_PREFIX}/scores/{yes_no}", key=key)
    assert again.status == 410
    async with service.db.transaction() as session:
        reads = await session.scalar(
            select(func.count()).select_from(ScoreAccess).where(ScoreAccess.check_name.is_(None))
        )
    assert reads == 0
