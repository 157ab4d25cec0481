"""Fixtures: a running stand-in, and the echo bot wired to it by polling or by webhook."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram import Update

from standin import BotApiStandIn
from tests.standin.echo_bot import WEBHOOK_SECRET, EchoBot, WebhookReceiver, build_echo_bot


@pytest.fixture
async def polling_bot(standin: BotApiStandIn) -> AsyncIterator[EchoBot]:
    bot = build_echo_bot(standin)
    async with bot.app:
        await bot.app.start()
        assert bot.app.updater is not None
        await bot.app.updater.start_polling(poll_interval=0.0)
        try:
            yield bot
        finally:
            await bot.app.updater.stop()
            await bot.app.stop()


@pytest.fixture
async def webhook_bot(standin: BotApiStandIn) -> AsyncIterator[tuple[EchoBot, WebhookReceiver]]:
    bot = build_echo_bot(standin, webhook=True)
    receiver = WebhookReceiver()

    async def hook(request: web.Request) -> web.Response:
        receiver.hits += 1
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != WEBHOOK_SECRET:
            receiver.bad_secrets += 1
            return web.Response(status=403)
        if receiver.fail_first > 0:
            receiver.fail_first -= 1
            return web.Response(status=500)
        update = Update.de_json(await request.json(), bot.app.bot)
        await bot.app.update_queue.put(update)
        return web.Response()

    web_app = web.Application()
    web_app.router.add_post("/hook", hook)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    receiver.url = f"http://127.0.0.1:{port}/hook"
    try:
        async with bot.app:
            await bot.app.bot.set_webhook(receiver.url, secret_token=WEBHOOK_SECRET)
            await bot.app.start()
            try:
                yield bot, receiver
            finally:
                await bot.app.stop()
    finally:
        await runner.cleanup()
