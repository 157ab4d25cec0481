"""Helpers for the yes/no check tests (issue 20), and their conformance scenarios: one way to
provoke each documented response of POST /api/v1/checks, and the 403 of GET /scores/{code}.
Merged into tests/api/test_sponsor_api.py's SCENARIOS like tests/api/rights_helpers.py's."""

from __future__ import annotations

import itertools
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from api.limits import REQUESTS_PER_MINUTE
from api.openapi import API_PREFIX
from bot.service import BritizenService
from tests.api.rights_helpers import new_partner, ni, register_directly

CHECKS = f"{API_PREFIX}/checks"
REQUESTS = f"{API_PREFIX}/access-requests"
Reply = Any
Call = Callable[..., Awaitable[Any]]


def body(check: dict[str, Any], **consent: Any) -> str:
    return json.dumps({"check": check, **consent})


def band(value: str) -> dict[str, Any]:
    return {"name": "band_at_least", "value": value}


def age(value: int) -> dict[str, Any]:
    return {"name": "age_at_least", "value": value}


def no_missed(months: int) -> dict[str, Any]:
    return {"name": "no_missed_payments_months", "value": months}


VERIFIED: dict[str, Any] = {"name": "verified_identity"}


def scenarios(call: Call) -> dict[tuple[str, str, str], Callable[..., Awaitable[Reply]]]:
    counter = itertools.count(1)

    async def partner_key(service: BritizenService) -> str:
        return (await new_partner(service, f"Check scenario partner {next(counter)}"))[1]

    async def person(service: BritizenService) -> tuple[int, str]:
        telegram_id = 980_000 + next(counter)
        ni_number = ni(telegram_id % 1_000_000)
        await register_directly(service, telegram_id, ni_number)
        return telegram_id, ni_number

    async def code_for(service: BritizenService, *, share_score: bool = False) -> str:
        telegram_id, _ = await person(service)
        return (await service.services.sharing.new_code(telegram_id, share_score=share_score)).code

    async def ask(
        http: aiohttp.ClientSession, service: BritizenService, key: str, data: str
    ) -> Reply:
        return await call(http, service, CHECKS, method="POST", key=key, data=data)

    async def ok(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        code = await code_for(service)
        return await ask(http, service, await partner_key(service), body(age(18), code=code))

    async def pending(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        _, ni_number = await person(service)
        key = await partner_key(service)
        data = json.dumps({"ni_number": ni_number, "check": VERIFIED})
        made = await call(http, service, REQUESTS, method="POST", key=key, data=data)
        return await ask(http, service, key, body(VERIFIED, access_request_id=made.json["id"]))

    async def missing(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        key = await partner_key(service)
        return await ask(http, service, key, body(VERIFIED, code="ZZZZ-ZZZZ"))

    async def moved_threshold(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        telegram_id, _ = await person(service)
        key = await partner_key(service)
        sharing = service.services.sharing
        first = (await sharing.new_code(telegram_id)).code
        await ask(http, service, key, body(band("Good"), code=first))
        second = (await sharing.new_code(telegram_id)).code
        return await ask(http, service, key, body(band("Fair"), code=second))

    async def used(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        code, key = await code_for(service), await partner_key(service)
        await ask(http, service, key, body(VERIFIED, code=code))
        return await ask(http, service, key, body(VERIFIED, code=code))

    async def unknown_check(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        key = await partner_key(service)
        return await ask(http, service, key, body({"name": "score_at_least", "value": 700}))

    async def not_json(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        key = await partner_key(service)
        return await call(http, service, CHECKS, method="POST", key=key, data=b"{" * 100)

    async def no_key(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        return await call(http, service, CHECKS, method="POST", data=body(VERIFIED, code="X"))

    async def oversized(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        key = await partner_key(service)
        data = b"x" * (64 * 1024 + 1)
        return await call(http, service, CHECKS, method="POST", key=key, data=data)

    async def rate_limited(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        key = await partner_key(service)
        for _ in range(REQUESTS_PER_MINUTE):
            await call(http, service, f"{REQUESTS}/1", key=key)
        return await ask(http, service, key, body(VERIFIED, code="ZZZZ-ZZZZ"))

    async def score_refused(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
        code = await code_for(service)
        return await call(
            http, service, f"{API_PREFIX}/scores/{code}", key=await partner_key(service)
        )

    return {
        (CHECKS, "post", "200"): ok,
        (CHECKS, "post", "400"): not_json,
        (CHECKS, "post", "401"): no_key,
        (CHECKS, "post", "403"): pending,
        (CHECKS, "post", "404"): missing,
        (CHECKS, "post", "409"): moved_threshold,
        (CHECKS, "post", "410"): used,
        (CHECKS, "post", "413"): oversized,
        (CHECKS, "post", "422"): unknown_check,
        (CHECKS, "post", "429"): rate_limited,
        (f"{API_PREFIX}/scores/{{code}}", "get", "403"): score_refused,
    }
