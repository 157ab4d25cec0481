"""Webhook mode: secret-token check, redelivery, and the health endpoint."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp

from bot.service import BritizenService
from standin import BotApiStandIn
from tests.e2e.conftest import ServiceFactory
from tests.standin.driver import Citizen

SECRET = "webhook-secret-123"


async def test_registration_over_webhook_with_secret(
    start_service: ServiceFactory, citizen: Callable[..., Citizen], standin: BotApiStandIn
) -> None:
    service = await start_service(
        webhook_url="http://127.0.0.1:1/telegram/webhook", webhook_secret=SECRET
    )
    # The stand-in delivers to wherever setWebhook pointed; aim it at the port we really got.
    await service.application.bot.set_webhook(
        f"http://127.0.0.1:{service.http_port}/telegram/webhook", secret_token=SECRET
    )
    kim = citizen(201, "Kim")
    await kim.send("/start")
    await kim.expect("Welcome to Britizen")
    await kim.press("I agree")
    await kim.expect("National Insurance")


async def test_webhook_refuses_a_wrong_secret_and_bad_bodies(start_service: ServiceFactory) -> None:
    service = await start_service(
        webhook_url="http://127.0.0.1:1/telegram/webhook", webhook_secret=SECRET
    )
    url = f"http://127.0.0.1:{service.http_port}/telegram/webhook"
    async with aiohttp.ClientSession() as http:
        async with http.post(
            url, json={"update_id": 1}, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}
        ) as r:
            assert r.status == 403
        async with http.post(
            url, data="not json", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
        ) as r:
            assert r.status == 400
            assert "update" in (await r.json())["error"]


async def test_a_redelivered_update_has_no_second_effect(
    start_service: ServiceFactory, standin: BotApiStandIn, citizen: Callable[..., Citizen]
) -> None:
    service = await start_service(
        webhook_url="http://127.0.0.1:1/telegram/webhook", webhook_secret=SECRET
    )
    citizen(202, "Lee")
    update = {
        "update_id": 777,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": 202, "type": "private", "first_name": "Lee"},
            "from": {"id": 202, "is_bot": False, "first_name": "Lee"},
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    url = f"http://127.0.0.1:{service.http_port}/telegram/webhook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with aiohttp.ClientSession() as http:
        for _ in range(2):  # Telegram retries when it didn't get our 200 in time
            async with http.post(url, json=update, headers=headers) as response:
                assert response.status == 200
    helps = [
        call
        for call in standin.calls_of("sendMessage")
        if call.params.get("chat_id") == 202 and "/cancel" in str(call.params.get("text"))
    ]
    assert len(helps) == 1


async def test_healthz_reports_the_database(service: BritizenService) -> None:
    url = f"http://127.0.0.1:{service.http_port}/healthz"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200
        body = await response.json()
    assert body["database"] is True
    assert body["mode"] == "polling"
