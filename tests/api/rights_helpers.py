"""Helpers for the partner, sharing and open-data API tests, and their conformance scenarios.

The scenarios are merged into tests/api/test_sponsor_api.py's SCENARIOS, so the one
conformance test checks every documented response of these routes against the document.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from api.limits import EVENTS_MAX_BODY_BYTES, REQUESTS_PER_MINUTE
from api.openapi import API_PREFIX
from bot.service import BritizenService

Reply = Any
Call = Callable[..., Awaitable[Any]]


def ni(n: int) -> str:
    """A distinct, valid NI number for test person ``n``."""
    return f"AB{n:06d}C"


async def register_directly(
    service: BritizenService, telegram_id: int, ni_number: str, postcode: str | None = None
) -> int:
    """Registration through the service (the bot conversation is tested in tests/e2e)."""
    reg = service.services.registration
    await reg.begin(telegram_id)
    await reg.give_consent(telegram_id)
    await reg.submit_ni_number(telegram_id, ni_number)
    await reg.submit_date_of_birth(telegram_id, "14/03/1990")
    done = await reg.complete(telegram_id, telegram_id, f"Person {telegram_id}", postcode)
    return done.citizen_id


async def new_partner(service: BritizenService, name: str = "Southern Water") -> tuple[int, str]:
    partner, key = await service.services.partners.create(name)
    return partner.id, key


def event(
    event_id: str,
    ni_number: str,
    outcome: str = "on_time",
    occurred_on: str = "2026-11-01",
    kind: str = "bill",
) -> dict[str, str]:
    return {
        "id": event_id,
        "ni_number": ni_number,
        "kind": kind,
        "outcome": outcome,
        "occurred_on": occurred_on,
    }


def batch(*events: dict[str, str]) -> bytes:
    return json.dumps({"events": list(events)}).encode()


def scenarios(call: Call) -> dict[tuple[str, str, str], Callable[..., Awaitable[Reply]]]:
    """One way to provoke each documented response of the issue-7 routes."""
    counter = iter(range(1, 10_000))

    async def partner_key(service: BritizenService) -> str:
        return (await new_partner(service, f"Scenario partner {next(counter)}"))[1]

    async def code_for(service: BritizenService) -> str:
        telegram_id = 990_000 + next(counter)
        await register_directly(service, telegram_id, ni(telegram_id % 1_000_000))
        # A code that reads the score: the citizen chose "Share my score instead".
        return (await service.services.sharing.new_code(telegram_id, share_score=True)).code

    def rate_limited(path: str, method: str, data: bytes | None = None) -> Any:
        async def run(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
            key = await partner_key(service)
            for _ in range(REQUESTS_PER_MINUTE):
                await call(http, service, path, method=method, key=key, data=data)
            return await call(http, service, path, method=method, key=key, data=data)

        return run

    def not_json(path: str) -> Any:
        async def run(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
            key = await partner_key(service)
            return await call(http, service, path, method="POST", key=key, data=b'{"a":' * 6000)

        return run

    def no_key(path: str, method: str) -> Any:
        async def run(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
            return await call(http, service, path, method=method)

        return run

    def oversized(path: str, method: str, size: int, key: bool = True) -> Any:
        async def run(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
            k = await partner_key(service) if key else None
            return await call(http, service, path, method=method, key=k, data=b"x" * (size + 1))

        return run

    events = f"{API_PREFIX}/events"
    requests = f"{API_PREFIX}/access-requests"
    request_status = f"{API_PREFIX}/access-requests/{{id}}"
    scores = f"{API_PREFIX}/scores/{{code}}"
    bands = f"{API_PREFIX}/open-data/score-bands"
    small = 64 * 1024

    async def events_ok(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        # Accepted, duplicate, and four bills in one month about one person: held.
        burst = [event(f"sc-h{i}", ni(5), "missed") for i in range(4)]
        data = batch(event("sc-1", ni(1)), event("sc-1", ni(1)), *burst)
        return await call(
            http, service, events, method="POST", key=await partner_key(service), data=data
        )

    async def events_bad(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        data = batch(event("sc-2", "not a number"))
        return await call(
            http, service, events, method="POST", key=await partner_key(service), data=data
        )

    async def request_ok(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        data = json.dumps({"ni_number": ni(2)}).encode()
        return await call(
            http, service, requests, method="POST", key=await partner_key(service), data=data
        )

    async def request_bad(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        return await call(
            http, service, requests, method="POST", key=await partner_key(service), data=b"{}"
        )

    async def request_declined(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        telegram_id = 990_000 + next(counter)
        await register_directly(service, telegram_id, ni(telegram_id % 1_000_000))
        key = await partner_key(service)
        data = json.dumps({"ni_number": ni(telegram_id % 1_000_000)}).encode()
        made = await call(http, service, requests, method="POST", key=key, data=data)
        await service.services.sharing.answer_request(telegram_id, made.json["id"], False)
        return await call(http, service, requests, method="POST", key=key, data=data)

    async def status_ok(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        key = await partner_key(service)
        made = await call(
            http,
            service,
            requests,
            method="POST",
            key=key,
            data=json.dumps({"ni_number": ni(3)}).encode(),
        )
        return await call(http, service, f"{requests}/{made.json['id']}", key=key)

    async def status_missing(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        return await call(http, service, f"{requests}/999999", key=await partner_key(service))

    async def score_ok(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        code = await code_for(service)
        return await call(
            http, service, f"{API_PREFIX}/scores/{code}", key=await partner_key(service)
        )

    async def score_missing(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        return await call(
            http, service, f"{API_PREFIX}/scores/ZZZZ-ZZZZ", key=await partner_key(service)
        )

    async def score_used(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        code, key = await code_for(service), await partner_key(service)
        await call(http, service, f"{API_PREFIX}/scores/{code}", key=key)
        return await call(http, service, f"{API_PREFIX}/scores/{code}", key=key)

    async def bands_ok(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        return await call(http, service, bands)

    async def events_outside_boost(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        from tests.api.boost_helpers import boost_partner

        n = next(counter)
        _citizen, key = await boost_partner(service, 970_000 + n, ni(7000 + n), f"Landlord {n}")
        data = batch(event(f"sc-b{n}", ni(6000 + n), kind="rent"))
        return await call(http, service, events, method="POST", key=key, data=data)

    async def request_by_boost(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        from tests.api.boost_helpers import boost_partner

        n = next(counter)
        _citizen, key = await boost_partner(service, 971_000 + n, ni(8000 + n), f"Agent {n}")
        data = json.dumps({"ni_number": ni(8000 + n)}).encode()
        return await call(http, service, requests, method="POST", key=key, data=data)

    async def status_by_boost(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        from tests.api.boost_helpers import boost_partner

        n = next(counter)
        _citizen, key = await boost_partner(service, 972_000 + n, ni(9000 + n), f"Council {n}")
        return await call(http, service, f"{requests}/1", key=key)

    async def bands_bad(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        return await call(http, service, f"{bands}?format=xml")

    return {
        (events, "post", "200"): events_ok,
        (events, "post", "400"): not_json(events),
        (events, "post", "401"): no_key(events, "POST"),
        (events, "post", "403"): events_outside_boost,
        (events, "post", "413"): oversized(events, "POST", EVENTS_MAX_BODY_BYTES),
        (events, "post", "422"): events_bad,
        (events, "post", "429"): rate_limited(events, "POST", batch(event("rl", ni(4)))),
        (requests, "post", "202"): request_ok,
        (requests, "post", "400"): not_json(requests),
        (requests, "post", "401"): no_key(requests, "POST"),
        (requests, "post", "403"): request_by_boost,
        (requests, "post", "413"): oversized(requests, "POST", small),
        (requests, "post", "409"): request_declined,
        (requests, "post", "422"): request_bad,
        (requests, "post", "429"): rate_limited(requests, "POST", b"{}"),
        (request_status, "get", "200"): status_ok,
        (request_status, "get", "401"): no_key(f"{requests}/1", "GET"),
        (request_status, "get", "403"): status_by_boost,
        (request_status, "get", "404"): status_missing,
        (request_status, "get", "413"): oversized(f"{requests}/1", "GET", small),
        (request_status, "get", "429"): rate_limited(f"{requests}/1", "GET"),
        (scores, "get", "200"): score_ok,
        (scores, "get", "401"): no_key(f"{API_PREFIX}/scores/ABCD-EFGH", "GET"),
        (scores, "get", "404"): score_missing,
        (scores, "get", "410"): score_used,
        (scores, "get", "413"): oversized(f"{API_PREFIX}/scores/ABCD-EFGH", "GET", small),
        (scores, "get", "429"): rate_limited(f"{API_PREFIX}/scores/ABCD-EFGH", "GET"),
        (bands, "get", "200"): bands_ok,
        (bands, "get", "413"): oversized(bands, "GET", small, key=False),
        (bands, "get", "422"): bands_bad,
    }
