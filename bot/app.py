"""Application factory: the PTB Application wired to our services."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, ContextTypes

import handlers
from bot.aiohttp_request import AiohttpRequest
from bot.settings import Settings
from bot.updates import PerUserUpdateProcessor
from handlers.context import BotContext, BotData
from notifications.send_budget import BudgetRateLimiter, SendBudget
from services.container import Services

BotApplication = Application[Any, BotContext, Any, Any, BotData, Any]


def file_url_for(api_url: str) -> str:
    """PTB's base_file_url from its base_url: '.../bot' -> '.../file/bot'."""
    root, _, last = api_url.rstrip("/").rpartition("/")
    return f"{root}/file/{last}"


def build_application(
    settings: Settings, services: Services, budget: SendBudget, *, with_updater: bool
) -> BotApplication:
    builder = (
        Application.builder()
        .token(settings.require_token())
        .base_url(settings.telegram_api_url)
        .base_file_url(file_url_for(settings.telegram_api_url))
        .context_types(ContextTypes(context=BotContext, bot_data=BotData))
        .concurrent_updates(PerUserUpdateProcessor(working_limit=settings.concurrent_updates))
        # Replies to a person's own message go straight out; messages the bot starts itself go
        # through the notifications outbox. Both spend from one budget for the bot, shared by
        # every instance (notifications/send_budget.py), replies first.
        .rate_limiter(BudgetRateLimiter(budget))
        # Replies over aiohttp, not PTB's default httpx: a fraction of the CPU per request
        # (bot/aiohttp_request.py). getUpdates gets its own one-connection client, as in PTB.
        .request(AiohttpRequest(connection_pool_size=64))
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
    )
    # The per-chat pace, on the limits the replies and the outbox sender share (the dispatcher
    # holds the same object, so this holds for it whichever is made first).
    budget.chats.set_interval(settings.chat_send_interval)
    if not with_updater:
        builder = builder.updater(None)
    app: BotApplication = builder.build()
    app.bot_data.services = services
    app.bot_data.timezone = settings.tz
    app.bot_data.admin_ids = frozenset(settings.admin_ids)
    app.bot_data.payment_provider_token = settings.payment_provider_token
    handlers.register(app)
    return app
