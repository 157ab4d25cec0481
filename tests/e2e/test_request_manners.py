"""Access requests have manners (issue 17): a 30-day cool-down after a Deny, a block for good
from the request or from /share, and a daily cap on a partner's open requests."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest

import services.sharing
from api.openapi import API_PREFIX
from bot.service import BritizenService
from services.clock import ManualClock
from tests.api.rights_helpers import ni
from tests.api.test_sponsor_api import Reply, call
from tests.e2e.conftest import register
from tests.standin.driver import Citizen
from texts import api as api_texts

REQUESTS = f"{API_PREFIX}/access-requests"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def ask(
    http: aiohttp.ClientSession, service: BritizenService, key: str, ni_number: str
) -> Reply:
    data = json.dumps({"ni_number": ni_number}).encode()
    return await call(http, service, REQUESTS, method="POST", key=key, data=data)


async def test_after_a_deny_the_partner_waits_30_days(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    http: aiohttp.ClientSession,
    clock: ManualClock,
) -> None:
    dee = citizen(951, "Dee")
    await register(dee, "AB 95 10 01 A")
    _partner, key = await service.services.partners.create("Nosy Lender")
    first = await ask(http, service, key, "AB951001A")
    assert first.status == 202
    await dee.expect("Nosy Lender asks to see your Britizen score")
    assert dee.buttons() == ["Allow", "Deny", "🚫 Deny and never ask again"]
    await dee.press("Deny")
    await dee.expect("Denied")
    for _ in range(3):  # asking again and again: refused, and Dee hears nothing
        again = await ask(http, service, key, "AB951001A")
        assert again.status == 409
        assert again.json["error"] == "conflict"
        assert again.json["detail"].startswith("ni_number: this person declined")
        assert "2026-12-21T12:00:00Z" in again.json["detail"]
    await dee.expect_nothing()
    # Strangers are never refused this way: nothing tells a partner who is registered.
    assert (await ask(http, service, key, ni(424242))).status == 202
    clock.advance(days=30, seconds=1)
    assert (await ask(http, service, key, "AB951001A")).status == 202
    await dee.expect("Nosy Lender asks to see")


async def test_a_block_from_the_request_holds_until_undone_in_share(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    http: aiohttp.ClientSession,
    clock: ManualClock,
) -> None:
    eli = citizen(952, "Eli")
    await register(eli, "AB 95 20 02 B")
    _partner, key = await service.services.partners.create("Pushy Bank")
    await ask(http, service, key, "AB952002B")
    await eli.expect("Pushy Bank asks to see")
    await eli.press("🚫 Deny and never ask again")
    await eli.expect("Pushy Bank can't ask you again")
    clock.advance(days=400)
    blocked = await ask(http, service, key, "AB952002B")
    assert (blocked.status, blocked.json["detail"]) == (
        409,
        api_texts.PARTNER_BLOCKED,
    )
    await eli.expect_nothing()
    await eli.send("/share")
    await eli.expect("Blocked from asking: Pushy Bank.")
    await eli.press("Unblock Pushy Bank")
    unblocked = await eli.expect("Nobody is blocked.", "one-time code is unchanged")
    assert "Blocked from asking" not in unblocked.text
    assert (await ask(http, service, key, "AB952002B")).status == 202


async def test_a_partner_can_be_blocked_from_share_and_its_open_request_is_denied(
    service: BritizenService, citizen: Callable[..., Citizen], http: aiohttp.ClientSession
) -> None:
    fay = citizen(953, "Fay")
    await register(fay, "AB 95 30 03 C")
    _partner, key = await service.services.partners.create("Data Broker")
    made = await ask(http, service, key, "AB953003C")
    await fay.expect("Data Broker asks to see")
    await fay.send("/share")
    screen = await fay.expect("one-time code")
    code = re.search(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b", screen.text)
    assert code is not None
    await fay.press("🚫 Block Data Broker")
    await fay.expect("Blocked from asking: Data Broker.", "one-time code is unchanged")
    status = await call(http, service, f"{REQUESTS}/{made.json['id']}", key=key)
    assert status.json["status"] == "denied"
    assert (await ask(http, service, key, "AB953003C")).status == 409
    # Blocking didn't retire the code Fay may have handed to someone else.
    _other, reader = await service.services.partners.create("Letting Agent")
    check = json.dumps({"code": code.group(0), "check": {"name": "verified_identity"}})
    shared = await call(
        http, service, f"{API_PREFIX}/checks", method="POST", key=reader, data=check
    )
    assert shared.status == 200 and shared.json["result"] is True


async def test_a_partner_has_a_daily_cap_on_open_requests(
    service: BritizenService,
    http: aiohttp.ClientSession,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(services.sharing, "OPEN_REQUESTS_PER_DAY", 3)
    _partner, key = await service.services.partners.create("Flood Co")
    for n in range(3):
        assert (await ask(http, service, key, ni(700 + n))).status == 202
    capped = await ask(http, service, key, ni(710))
    assert capped.status == 429
    assert capped.headers["Retry-After"] == "3600"
    assert capped.json["detail"] == api_texts.too_many_open_requests(3)
    _other, other_key = await service.services.partners.create("Polite Co")
    assert (await ask(http, service, other_key, ni(710))).status == 202
    clock.advance(days=1, seconds=1)
    assert (await ask(http, service, key, ni(710))).status == 202
