"""The aiohttp server: health, the Telegram webhook, the HTTP API and the pages beside them."""

from __future__ import annotations

import hmac
import json
import logging
from typing import TYPE_CHECKING

from aiohttp import web
from telegram import Update

from api.app import mount_api
from api.checks import check_routes
from api.errors import json_too_deep
from api.limits import REQUESTS_PER_MINUTE
from api.open_data import open_data_routes
from api.operator import operator_routes
from api.partners import partner_routes
from api.schemas import Health
from api.scores import score_routes
from bot.pages import mount_boost_pages, mount_pages
from services.growth_report import GrowthReportService
from services.operators import OperatorService
from services.rate_limits import ApiRateLimiter

if TYPE_CHECKING:
    from bot.service import BritizenService

logger = logging.getLogger(__name__)

SERVICE_KEY: web.AppKey[BritizenService] = web.AppKey("service")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram updates are small; anything bigger than this is not from Telegram.
MAX_WEBHOOK_BODY = 1024 * 1024


async def healthz(request: web.Request) -> web.Response:
    service = request.app[SERVICE_KEY]
    database_ok = await service.services.db.ping()
    body = Health(
        status="ok" if database_ok else "degraded",
        database=database_ok,
        mode="webhook" if service.settings.webhook_url else "polling",
        sandbox=service.sandbox is not None,
        # Whether this instance runs the scheduled jobs and the outbox sender right now.
        scheduler_lock=service.leader.is_leader,
        instance=service.instance_name,
    ).model_dump(mode="json")
    return web.json_response(body, status=200 if database_ok else 503)


async def telegram_webhook(request: web.Request) -> web.Response:
    service = request.app[SERVICE_KEY]
    expected = service.settings.webhook_secret
    if expected is not None:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return web.json_response({"error": "bad secret token"}, status=403)
    try:
        # Depth first: json recurses once a level, so `[` x 20,000 would be a RecursionError.
        raw = await request.read()
        if json_too_deep(raw):
            raise ValueError("nested too deeply")
        payload = json.loads(raw)
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, long numbers
        return web.json_response({"error": "body must be a JSON update"}, status=400)
    if not isinstance(payload, dict) or "update_id" not in payload:
        return web.json_response({"error": "update_id is required"}, status=400)
    app = service.application
    update = Update.de_json(payload, app.bot)
    # Handle before answering: if we die mid-update Telegram redelivers it, and the update
    # ledger makes the redelivery harmless.
    await app.update_processor.process_update(update, app.process_update(update))
    return web.json_response({"ok": True})


def build_web_app(service: BritizenService) -> web.Application:
    web_app = web.Application(client_max_size=MAX_WEBHOOK_BODY)
    web_app[SERVICE_KEY] = service
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_post("/telegram/webhook", telegram_webhook)
    services = service.services
    mount_api(
        web_app,
        services.sponsors,
        limiter=ApiRateLimiter(services.db, REQUESTS_PER_MINUTE, services.clock),
        promotions=services.promotions,
        on_promotion_created=service.request_promotion_run,
        partners=services.partners,
        extra_routes=(
            partner_routes(services.events, services.sharing, services.clock),
            score_routes(services.sharing),
            check_routes(services.sharing),
            open_data_routes(services.open_data),
            operator_routes(
                OperatorService(
                    services.db, service.settings.resolved_secret_key(), services.clock
                ),
                GrowthReportService(services.db, services.clock, service.settings.population_file),
            ),
        ),
    )
    mount_pages(web_app, sandbox=service.sandbox is not None)
    mount_boost_pages(web_app, services.boost)
    if service.sandbox is not None:
        service.sandbox.mount(web_app)
    return web_app
