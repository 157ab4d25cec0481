"""The per-key rate limit is counted in the database: every instance on it shares the count."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import aiohttp
import pytest
from sqlalchemy import func, select

from api.limits import REQUESTS_PER_MINUTE
from api.openapi import API_PREFIX
from bot.service import BritizenService
from services.clock import ManualClock
from services.rate_limits import ApiRateLimiter
from storage.db import Database
from storage.models import ApiRateCount
from tests.api.rights_helpers import new_partner
from tests.api.test_sponsor_api import assert_json_error, call, new_sponsor

WHOAMI = f"{API_PREFIX}/sponsor"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_two_instances_on_one_database_share_the_limit(
    start_service: Callable[..., Awaitable[BritizenService]],
    http: aiohttp.ClientSession,
    clock: ManualClock,
) -> None:
    first, second = await start_service(), await start_service()
    busy = await new_sponsor(first, "Busy Ltd")
    _id, partner = await new_partner(first)
    half = REQUESTS_PER_MINUTE // 2
    for service in (first, second):
        for _ in range(half):
            assert (await call(http, service, WHOAMI, key=busy)).status == 200
    # Each instance has seen only half the limit; together they have seen all of it.
    for service in (first, second):
        reply = await call(http, service, WHOAMI, key=busy)
        assert_json_error(reply, 429, "rate_limited")
        assert 1 <= int(reply.headers["Retry-After"]) <= 60
    # Per key: a partner (and another sponsor) is not held back by a busy sponsor.
    reply = await call(http, second, f"{API_PREFIX}/access-requests/1", key=partner)
    assert_json_error(reply, 404, "not_found")
    quiet = await new_sponsor(second, "Quiet Ltd")
    assert (await call(http, second, WHOAMI, key=quiet)).status == 200
    # The next minute starts afresh, on either instance.
    clock.advance(minutes=1)
    assert (await call(http, second, WHOAMI, key=busy)).status == 200


async def test_retry_after_is_the_rest_of_the_minute_and_old_windows_are_dropped(
    db: Database,
) -> None:
    clock = ManualClock(datetime(2026, 11, 21, 12, 0, 45, 500_000, tzinfo=UTC))
    limiter = ApiRateLimiter(db, 2, clock)
    assert await limiter.hit("sponsor:1") is None
    assert await limiter.hit("sponsor:1") is None
    assert await limiter.hit("sponsor:1") == 15  # 14.5 s left, rounded up
    assert await limiter.hit("partner:1") is None
    clock.advance(seconds=15)
    assert await limiter.hit("sponsor:1") is None
    async with db.transaction() as session:
        rows = await session.scalar(select(func.count()).select_from(ApiRateCount))
    assert rows == 2  # sponsor:1's old minute is gone; partner:1's stays until it is back
