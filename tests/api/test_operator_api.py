"""Operator keys and the growth report over loopback HTTP, on SQLite and PostgreSQL: each kind
of key opens only its own routes (both directions), the report's JSON, the funnel's counters."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from api.openapi import API_PREFIX
from bot.service import BritizenService
from services.secrets import keyed_hash
from storage.models import InviteCode, Operator
from tests.api.operator_helpers import GROWTH, WHOAMI, new_operator
from tests.api.rights_helpers import new_partner, ni, register_directly
from tests.api.test_sponsor_api import assert_json_error, call, new_sponsor

DEMO_FILE = Path(__file__).parents[2] / "data" / "population_demo.csv"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def growth_service(start_service: Callable[..., Awaitable[BritizenService]]) -> Any:
    return await start_service(population_file=DEMO_FILE)


async def test_an_operator_key_opens_the_operator_routes_and_is_stored_hashed(
    growth_service: BritizenService, http: aiohttp.ClientSession
) -> None:
    key = await new_operator(growth_service, "Growth team")
    assert key.startswith("bz_op_") and len(key) == 6 + 43
    me = await call(http, growth_service, WHOAMI, key=key)
    assert me.status == 200 and me.json["name"] == "Growth team"
    async with growth_service.db.transaction() as session:
        stored = await session.scalar(select(Operator.api_key_hash))
    secret = growth_service.settings.resolved_secret_key()
    assert stored == keyed_hash(secret, "api-key", key) and key not in str(stored)


@pytest.mark.parametrize(
    "path",
    [f"{API_PREFIX}/sponsor", f"{API_PREFIX}/promotions", f"{API_PREFIX}/access-requests/1"],
)
async def test_an_operator_key_is_refused_on_sponsor_and_partner_routes(
    service: BritizenService, http: aiohttp.ClientSession, path: str
) -> None:
    key = await new_operator(service)
    reply = await call(http, service, path, key=key)
    assert_json_error(reply, 401, "unauthorized")
    assert "an operator key (bz_op_...)" in reply.json["detail"]
    needed = "a partner key" if "access-requests" in path else "a sponsor key"
    assert needed in reply.json["detail"]
    # The same route answers its own kind (so the refusal above is about the key's kind).
    own = (
        (await new_partner(service, "Own partner"))[1]
        if "access-requests" in path
        else await new_sponsor(service, "Own sponsor")
    )
    assert (await call(http, service, path, key=own)).status in (200, 404)


@pytest.mark.parametrize("kind", ["sponsor", "partner"])
@pytest.mark.parametrize("path", [WHOAMI, GROWTH])
async def test_sponsor_and_partner_keys_are_refused_on_operator_routes(
    service: BritizenService, http: aiohttp.ClientSession, kind: str, path: str
) -> None:
    key = (
        await new_sponsor(service, f"S {path}")
        if kind == "sponsor"
        else (await new_partner(service, f"P {path}"))[1]
    )
    reply = await call(http, service, path, key=key)
    assert_json_error(reply, 401, "unauthorized")
    assert f"a {kind} key" in reply.json["detail"] and "an operator key" in reply.json["detail"]
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    assert "registered" not in reply.body.decode()  # nothing of the report leaked
    # A made-up operator key: refused as not valid, no kind to name.
    fake = await call(http, service, path, key="bz_op_" + "A" * 43)
    assert_json_error(fake, 401, "unauthorized")
    assert fake.json["detail"] == "the API key is not a valid operator key"
    assert (await call(http, service, path, key=await new_operator(service))).status == 200


async def test_weeks_out_of_range_is_422_naming_the_field(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    key = await new_operator(service)
    for bad in ("0", "105", "x", "٣"):
        reply = await call(http, service, f"{GROWTH}?weeks={bad}", key=key)
        assert_json_error(reply, 422, "validation")
        assert set(reply.json["fields"]) == {"weeks"}
    for weeks in (1, 3, 104):
        ok = await call(http, service, f"{GROWTH}?weeks={weeks}", key=key)
        assert ok.status == 200 and len(ok.json["weeks"]) == weeks


async def test_the_growth_report_counts_an_invite_opened_registered_and_verified(
    growth_service: BritizenService, http: aiohttp.ClientSession
) -> None:
    service = growth_service
    alice = 700_001
    await register_directly(service, alice, ni(1), "SO17")
    code = await service.services.invites.code_for(alice)
    reg = service.services.registration
    # Bob opens Alice's link twice (two /start taps) and registers; Carol opens it and leaves.
    for person, times in ((700_002, 2), (700_003, 1)):
        for _ in range(times):
            await reg.begin(person, invite_payload=code)
    await reg.give_consent(700_002)
    await reg.submit_ni_number(700_002, ni(2))
    await reg.submit_date_of_birth(700_002, "01/02/1991")
    done = await reg.complete(700_002, 700_002, "Bob", "SO14")
    assert done.invite is not None and done.invite.credited
    # An existing citizen opening the link is a friend request, not a funnel "open".
    await service.services.invites.open_link(alice, code)
    async with service.db.transaction() as session:
        row = await session.scalar(select(InviteCode))
    assert row is not None and (row.opened_count, row.registered_count) == (3, 1)

    key = await new_operator(service)
    reply = await call(http, service, GROWTH, key=key)
    assert reply.status == 200, reply.body
    body = reply.json
    assert body["funnel"] == {"links_made": 1, "opened": 3, "registered": 1, "verified": 1}
    assert body["registered"] == body["verified"] == 2
    assert body["population_file"] == "population_demo.csv" and body["population_error"] is None
    so = next(a for a in body["areas"] if a["area"] == "SO")
    # Two people: below the threshold, so the counts and share are hidden; the stage is not.
    assert so["verified"] is None and so["share"] is None and so["stage"] == "innovators"
    assert so["population"] == 1200
    assert body["weeks"][-1]["registered"] == 2 and body["weeks"][-1]["active"] >= 2
    assert body["min_count"] == 10


async def test_without_a_population_file_the_report_leaves_shares_out(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    await register_directly(service, 700_010, ni(10), "E1")
    reply = await call(http, service, GROWTH, key=await new_operator(service))
    assert reply.status == 200
    assert reply.json["population_file"] is None and reply.json["median_share"] is None
    assert [a["area"] for a in reply.json["areas"]] == ["E"]
    assert reply.json["areas"][0]["stage"] is None


async def test_a_bad_population_file_is_named_in_the_report_not_a_500(
    start_service: Callable[..., Awaitable[BritizenService]],
    http: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    bad = tmp_path / "population.csv"
    bad.write_text("area,population\nSO,1200\nPO;1500\n")
    service = await start_service(population_file=bad)
    reply = await call(http, service, GROWTH, key=await new_operator(service))
    assert reply.status == 200
    assert "population.csv, line 3" in reply.json["population_error"]
