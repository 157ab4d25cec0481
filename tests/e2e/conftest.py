"""End-to-end fixtures: the real service (PTB Application + aiohttp server) against the stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.service import BritizenService
from bot.settings import Settings
from services.clock import ManualClock
from standin import BotApiStandIn
from tests.standin.driver import Citizen
from tests.support.outbox_drain import settle_hook

TEST_TOKEN = "123456:TEST-TOKEN-britizen"
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
START = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def make_settings(standin: BotApiStandIn, db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_token": TEST_TOKEN,
        "telegram_api_url": standin.base_url,
        "database_url": db_url,
        "secret_key": TEST_SECRET,
        "http_port": 0,
        "send_rate": 1000,
        # The stand-in has no per-chat limit unless a test sets one (test_per_chat_limit.py
        # does, and paces): conversations here run at machine speed, not a message a second.
        "chat_send_interval": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


ServiceFactory = Callable[..., Awaitable[BritizenService]]


@pytest.fixture
async def start_service(
    standin: BotApiStandIn, db_url: str, clock: ManualClock
) -> AsyncIterator[ServiceFactory]:
    """Start (and at the end stop) services on the test database; call again to 'restart'."""
    running: list[BritizenService] = []

    hooks: list[Callable[[], Awaitable[bool]]] = []

    async def start(**overrides: Any) -> BritizenService:
        service = BritizenService(make_settings(standin, db_url, **overrides), clock=clock)
        await service.start()
        running.append(service)
        # "The bot sent nothing" waits for this service's outbox to drain first.
        hook = settle_hook(service)
        hooks.append(hook)
        standin.settle_hooks.append(hook)
        return service

    yield start
    for hook in hooks:
        if hook in standin.settle_hooks:
            standin.settle_hooks.remove(hook)
    for service in reversed(running):
        await service.stop()


@pytest.fixture
async def service(start_service: ServiceFactory) -> BritizenService:
    return await start_service()


@pytest.fixture
def citizen(standin: BotApiStandIn) -> Callable[..., Citizen]:
    def make(user_id: int, name: str = "Alice") -> Citizen:
        return Citizen(standin, user_id, name)

    return make


async def register(
    person: Citizen,
    ni_number: str,
    dob: str = "14/03/1990",
    postcode: str | None = None,
    *,
    offers: bool | None = None,
) -> None:
    """The whole registration conversation, asserting on each answer.

    Registration ends with the question about sponsor offers: left unanswered by default (so
    offers stay off), or answered Yes (``offers=True``) or No thanks (``offers=False``)."""
    await person.send("/start")
    await person.expect("Welcome to Britizen")
    await person.press("I agree")
    await person.expect("National Insurance number")
    await person.send(ni_number)
    await person.expect("saved as")
    await person.send(dob)
    await person.expect("postcode district")
    if postcode is None:
        await person.press("Skip")
    else:
        await person.send(postcode)
    await person.expect("You're registered")
    await person.expect("would you like offers from Britizen's sponsors?")
    if offers is True:
        await person.press("Yes, send me offers")
        await person.expect("Offers are on")
    elif offers is False:
        await person.press("No thanks")
        await person.expect("you won't get any sponsor offers")
