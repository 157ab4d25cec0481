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
    BoostInvite,
    BoostLink,
    BoostPartner,
    BoostReview,
    OutboxMessage,
    Partner,
    PaymentEvent,
    RetainedRecord,
)
from tests.api.boost_helpers import boost_partner, token_of
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
