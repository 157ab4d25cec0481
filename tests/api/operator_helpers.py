"""Operator keys for the API tests, and one way to provoke each documented response of the
operator routes (merged into tests/api/test_sponsor_api.py's SCENARIOS)."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from api.limits import REQUESTS_PER_MINUTE
from api.openapi import API_PREFIX
from bot.service import BritizenService
from services.operators import OperatorService

Reply = Any
Call = Callable[..., Awaitable[Any]]
WHOAMI = f"{API_PREFIX}/operator"
GROWTH = f"{API_PREFIX}/operator/growth"
_names = itertools.count(1)


async def new_operator(service: BritizenService, name: str | None = None) -> str:
    operators = OperatorService(
        service.db, service.settings.resolved_secret_key(), service.services.clock
    )
    _operator, key = await operators.create(name or f"Operator {next(_names)}")
    return key


def scenarios(call: Call) -> dict[tuple[str, str, str], Callable[..., Awaitable[Reply]]]:
    def run(path: str, status: str) -> Callable[..., Awaitable[Reply]]:
        async def scenario(http: aiohttp.ClientSession, service: BritizenService) -> Reply:
            key: str | None = await new_operator(service)
            data: bytes | None = None
            target = path
            if status == "401":
                key = None
            elif status == "413":
                data = b"x" * (1024 * 1024)
            elif status == "422":
                target = f"{path}?weeks=0"
            elif status == "429":
                for _ in range(REQUESTS_PER_MINUTE):
                    await call(http, service, path, key=key)
            return await call(http, service, target, key=key, data=data)

        return scenario

    statuses = {WHOAMI: ("200", "401", "413", "429"), GROWTH: ("200", "401", "413", "422", "429")}
    return {
        (path, "get", status): run(path, status)
        for path, codes in statuses.items()
        for status in codes
    }
