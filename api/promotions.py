"""Sponsor routes: create, list, look up and cancel promotions.

Thin: the body is read and validated with services.promotions.PromotionDraft (api.errors
read_model), the service does the work, and this module only maps its view onto the response
models in api.schemas. Authentication, body and rate limits are the middleware's (api.app).
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from api import schemas
from api.access import SPONSOR_KEY
from api.errors import ApiError, ValidationFailed, read_model, respond
from api.limits import row_id
from services.promotions import (
    COUNT_NAMES,
    InvalidPromotion,
    PromotionDraft,
    PromotionNotFound,
    PromotionService,
    PromotionView,
)
from texts import api as texts

PROMOTIONS_KEY: web.AppKey[PromotionService] = web.AppKey("promotions", PromotionService)
# Called after a promotion that starts now is stored, so its fan-out need not wait for a tick.
PromotionCreated = Callable[[], None]
ON_CREATED_KEY: web.AppKey[PromotionCreated] = web.AppKey("promotion_created")

_VOUCHER_TAGS = ("none", "shared", "unique")


assert set(schemas.PromotionCounts.model_fields) == {*COUNT_NAMES, "redeemed"}


def promotion_model(view: PromotionView) -> schemas.Promotion:
    # Validated, not just constructed: a row that breaks the documented shape (an unknown
    # status, a shared promotion without its code) fails here rather than reach a sponsor.
    p = view.promotion
    vouchers: dict[str, object] = {"kind": p.voucher_kind}
    if p.voucher_kind == "shared":
        vouchers["code"] = p.voucher_code
    elif p.voucher_kind == "unique":
        vouchers["count"] = p.voucher_count
    sent = view.sent_per_minute
    return schemas.Promotion.model_validate(
        {
            "id": p.id,
            "title": p.title,
            "text": p.text,
            "button": (
                {"label": p.button_label, "url": p.button_url}
                if p.button_label and p.button_url
                else None
            ),
            "audience": {
                "min_band": p.audience_min_band,
                "min_score": p.audience_min_score,
                "postcode_districts": p.audience_districts,
                "max_recipients": p.audience_max_recipients,
            },
            "starts_at": p.starts_at,
            "expires_at": p.expires_at,
            "vouchers": vouchers,
            "status": view.status,
            "created_at": p.created_at,
            "counts": view.counts,
            "sent_per_minute": (
                None if sent is None else [{"minute": m.minute, "count": m.count} for m in sent]
            ),
            "paid_broadcast": bool(p.paid_broadcast),
            "delivery_estimate": (
                None
                if view.estimate is None
                else {
                    "audience": view.estimate.audience,
                    "send_rate": view.estimate.send_rate,
                    "quiet_hours": view.estimate.quiet_hours,
                    "sending_seconds": round(view.estimate.sending_seconds, 1),
                    "estimated_finish": view.estimate.finishes_at,
                }
            ),
        }
    )


def _tidy_fields(fields: dict[str, str]) -> dict[str, str]:
    """pydantic puts the union's tag in a discriminated path (``vouchers.unique.count``); the
    sponsor wrote ``vouchers.count``."""
    tidy: dict[str, str] = {}
    for path, message in fields.items():
        parts = path.split(".")
        if len(parts) > 2 and parts[0] == "vouchers" and parts[1] in _VOUCHER_TAGS:
            parts = [parts[0], *parts[2:]]
        tidy.setdefault(".".join(parts), message)
    return tidy


def _promotion_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    promotion_id = row_id(raw)
    if promotion_id is None:
        raise ApiError(404, texts.no_promotion(raw))
    return promotion_id


def _sponsor_id(request: web.Request) -> int:

    return request[SPONSOR_KEY].id


async def create_promotion(request: web.Request) -> web.Response:
    try:
        draft = await read_model(request, PromotionDraft)
    except ValidationFailed as problem:
        raise ValidationFailed(_tidy_fields(problem.fields)) from problem
    service = request.app[PROMOTIONS_KEY]
    try:
        view = await service.create(_sponsor_id(request), draft)
    except InvalidPromotion as problem:
        raise ValidationFailed(problem.fields) from problem
    if (
        view.promotion.status == "scheduled"
        and view.promotion.starts_at <= view.promotion.created_at
    ):
        on_created = request.app.get(ON_CREATED_KEY)
        if on_created is not None:
            on_created()
    location = f"{request.path}/{view.promotion.id}"
    return respond(promotion_model(view), status=201, headers={"Location": location})


async def list_promotions(request: web.Request) -> web.Response:
    views = await request.app[PROMOTIONS_KEY].list_for(_sponsor_id(request))
    return respond(schemas.PromotionList(promotions=[promotion_model(view) for view in views]))


async def get_promotion(request: web.Request) -> web.Response:
    promotion_id = _promotion_id(request)
    try:
        view = await request.app[PROMOTIONS_KEY].get(_sponsor_id(request), promotion_id)
    except PromotionNotFound as exc:
        raise ApiError(404, texts.no_promotion(promotion_id)) from exc
    return respond(promotion_model(view))


async def cancel_promotion(request: web.Request) -> web.Response:
    promotion_id = _promotion_id(request)
    try:
        view = await request.app[PROMOTIONS_KEY].cancel(_sponsor_id(request), promotion_id)
    except PromotionNotFound as exc:
        raise ApiError(404, texts.no_promotion(promotion_id)) from exc
    return respond(promotion_model(view))


def add_promotion_routes(
    app: web.Application,
    promotions: PromotionService,
    on_created: PromotionCreated | None = None,
) -> None:
    app[PROMOTIONS_KEY] = promotions
    if on_created is not None:
        app[ON_CREATED_KEY] = on_created
    app.router.add_post("/promotions", create_promotion, name="create_promotion")
    app.router.add_get("/promotions", list_promotions, name="list_promotions")
    app.router.add_get("/promotions/{id:[0-9]+}", get_promotion, name="get_promotion")
    app.router.add_delete("/promotions/{id:[0-9]+}", cancel_promotion, name="cancel_promotion")
