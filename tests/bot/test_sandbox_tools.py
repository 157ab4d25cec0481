"""The sandbox's tools for a newcomer (issue 15): a demo partner key beside the sponsor key, a
test citizen who reviews disputes, the nightly pass on demand; and the home page at ``/``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest
from sqlalchemy import func, select

from api.schemas import Health
from bot.sandbox import CITIZENS, DEMO_PARTNER_NAME, REVIEWERS, demo_partner_key
from services.clock import ManualClock
from services.partners import PARTNER_KEY_PREFIX, PartnerService
from storage.db import Database
from storage.models import Partner, ScoreHistory
from tests.e2e.conftest import TEST_SECRET
from tests.support.sandbox import (
    RunningSandbox,
    bot_says,
    press,
    sandbox_db_url,
    sandbox_service,
    say,
)

__all__ = ["sandbox_db_url", "sandbox_service"]  # fixtures used here
ALICE = CITIZENS[0]


@pytest.fixture
async def http(sandbox_service: RunningSandbox) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=sandbox_service.url) as session:
        yield session


async def test_the_demo_partner_key_is_shown_and_works_on_partner_routes(
    http: aiohttp.ClientSession,
) -> None:
    async with http.get("/sandbox/api/state") as response:
        state = await response.json()
    partner = state["partner"]
    assert partner["name"] == DEMO_PARTNER_NAME
    assert partner["api_key"].startswith(PARTNER_KEY_PREFIX)
    # Accepted as a partner (no such request: 404), where a wrong key is a 401...
    path = "/api/v1/access-requests/999999"
    bearer = {"Authorization": f"Bearer {partner['api_key']}"}
    async with http.get(path, headers=bearer) as answer:
        assert answer.status == 404
    async with http.get(path, headers={"Authorization": f"Bearer {PARTNER_KEY_PREFIX}x"}) as wrong:
        assert wrong.status == 401
    # ...and refused where only sponsors may go.
    async with http.get("/api/v1/sponsor", headers=bearer) as answer:
        assert answer.status in (401, 403)


async def test_every_start_gives_the_demo_partner_a_new_key_and_retires_the_old(
    db: Database,
) -> None:
    clock = ManualClock(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    secret = TEST_SECRET.encode()
    partners = PartnerService(db, secret, clock)
    first, name = await demo_partner_key(db, secret, clock)
    second, _ = await demo_partner_key(db, secret, clock)
    assert name == DEMO_PARTNER_NAME and first != second
    assert await partners.authenticate(first) is None
    renewed = await partners.authenticate(second)
    assert renewed is not None and renewed.name == DEMO_PARTNER_NAME
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Partner)) == 1


async def test_one_test_citizen_reviews_disputes(
    sandbox_service: RunningSandbox, http: aiohttp.ClientSession
) -> None:
    async with http.get("/sandbox/api/state") as response:
        citizens = (await response.json())["citizens"]
    reviewers = [person["id"] for person in citizens if person["reviewer"]]
    assert reviewers == list(REVIEWERS) and len(reviewers) == 1
    assert sandbox_service.service.services.disputes.is_reviewer(reviewers[0])
    await say(http, reviewers[0], "/review")
    await bot_says(http, reviewers[0], 0, "No disputes are waiting for review")
    # Everyone else is told /review is not for them.
    await say(http, ALICE.user_id, "/review")
    await bot_says(http, ALICE.user_id, 0, "is for Britizen's reviewers")


async def test_the_nightly_pass_runs_from_the_page(
    sandbox_service: RunningSandbox, http: aiohttp.ClientSession
) -> None:
    user = ALICE.user_id
    await say(http, user, "/start")
    since, welcome = await bot_says(http, user, 0, "Welcome to Britizen")
    await press(http, user, welcome, "I agree")
    since, _ = await bot_says(http, user, since, "National Insurance number")
    for text, reply in ((ALICE.ni_number, "saved as"), (ALICE.date_of_birth, "postcode")):
        await say(http, user, text)
        since, prompt = await bot_says(http, user, since, reply)
    await press(http, user, prompt, "Skip")
    await bot_says(http, user, since, "You're registered")

    db = sandbox_service.service.db
    async with db.transaction() as session:
        before = await session.scalar(select(func.count()).select_from(ScoreHistory))
    async with http.post("/sandbox/api/nightly-pass", json={}) as response:
        assert response.status == 200, await response.text()
        summary = await response.json()
    assert summary["users"] == 1 and summary["band_changes"] == 0
    # One more point on Alice's history chart.
    async with db.transaction() as session:
        after = await session.scalar(select(func.count()).select_from(ScoreHistory))
    assert after == (before or 0) + 1


async def test_the_home_page_links_the_sandbox_portal_and_api(
    http: aiohttp.ClientSession,
) -> None:
    async with http.get("/") as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        assert "Content-Security-Policy" in response.headers
        page = await response.text()
    for link in ("/sandbox", "/portal", "/api/v1/openapi.json"):
        assert f'href="{link}"' in page
        async with http.get(link) as target:
            assert target.status == 200, link


async def test_healthz_is_the_declared_health_shape(http: aiohttp.ClientSession) -> None:
    async with http.get("/healthz") as response:
        body = await response.json()
    health = Health.model_validate(body)
    assert health.sandbox is True and health.status == "ok" and health.mode == "polling"
    assert set(body) == set(Health.model_fields)
