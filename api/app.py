"""The HTTP API as an aiohttp sub-application mounted at /api/v1 by bot.server.

One middleware guards everything under /api, in this order: an announced body over the limit
(413, before any work), an unknown route (404), a method the route does not take (405 with
Allow), the API key (401) unless the route is public, of the one kind the route takes
(api.access: a sponsor, partner or operator key, each refused on the others' routes),
the per-key rate (429), then reading the body within the limit (413 for chunked uploads).
Whatever goes wrong comes back as JSON (see api.errors), never aiohttp's HTML pages.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from api import schemas
from api.access import BOOST_PARTNER_ROUTES, SPONSOR_KEY, caller_for
from api.errors import BOOST_KEY_NOT_ALLOWED, ApiError, error_code, error_response, respond
from api.limits import EVENTS_MAX_BODY_BYTES, MAX_BODY_BYTES, RateLimiter, SlidingWindowLimiter
from api.openapi import API_PREFIX, openapi_document
from api.promotions import PromotionCreated, add_promotion_routes
from services.api_clients import KEY_PREFIXES, kind_of_key
from services.operators import OperatorService
from services.partners import PartnerService
from services.promotions import PromotionService
from services.sponsors import SponsorService
from storage.models import Operator, Partner, Sponsor
from texts import api as texts
from texts import boost as boost_texts

logger = logging.getLogger(__name__)

SPONSORS_KEY: web.AppKey[SponsorService] = web.AppKey("sponsors", SponsorService)
LIMITER_KEY: web.AppKey[RateLimiter] = web.AppKey("limiter")
PARTNERS_KEY: web.AppKey[PartnerService] = web.AppKey("partners", PartnerService)
PARTNER_KEY: web.RequestKey[Partner] = web.RequestKey("partner", Partner)
OPERATORS_KEY: web.AppKey[OperatorService] = web.AppKey("operators", OperatorService)
OPERATOR_KEY: web.RequestKey[Operator] = web.RequestKey("operator", Operator)

Client = Sponsor | Partner | Operator

# Routes allowed a larger body than MAX_BODY_BYTES, by route name.
BODY_LIMITS = {"partner.events": EVENTS_MAX_BODY_BYTES}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _bearer_key(request: web.Request) -> str | None:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return key.strip()


async def _authenticate(request: web.Request, kind: str) -> Client:
    challenge = {"WWW-Authenticate": 'Bearer realm="britizen"'}
    key = _bearer_key(request)
    if key is None:
        raise ApiError(401, texts.MISSING_KEY, headers=challenge)
    sent = kind_of_key(key)
    if sent is not None and sent != kind:
        # Named, not just "not valid": a sponsor holding an operator key (or the other way
        # round) should learn at once that it is the wrong kind, not that it was revoked.
        prefix = next(p for p, k in KEY_PREFIXES.items() if k == sent)
        raise ApiError(401, texts.other_kinds_key(sent, prefix, kind), headers=challenge)
    caller: Client | None
    if kind == "partner":
        caller = await request.app[PARTNERS_KEY].authenticate(key)
    elif kind == "operator":
        operators = request.app.get(OPERATORS_KEY)
        caller = None if operators is None else await operators.authenticate(key)
    else:
        caller = await request.app[SPONSORS_KEY].authenticate(key)
    if caller is None:
        raise ApiError(401, texts.wrong_key(kind), headers=challenge)
    return caller


def _too_large(limit: int = MAX_BODY_BYTES) -> ApiError:
    return ApiError(413, texts.body_too_large(limit))


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    route_name = request.match_info.route.name
    limit = BODY_LIMITS.get(route_name or "", MAX_BODY_BYTES)
    announced = request.content_length
    if announced is not None and announced > limit:
        raise _too_large(limit)
    routing_problem = request.match_info.http_exception
    if isinstance(routing_problem, web.HTTPNotFound):
        raise ApiError(404, texts.no_such_route(request.method, request.path))
    if isinstance(routing_problem, web.HTTPMethodNotAllowed):
        # Before the key check: a wrong method is wrong whoever asks (and TRACE on a public
        # route must not be told to authenticate).
        raise ApiError(
            405,
            texts.method_not_allowed(request.method, request.path),
            headers={"Allow": routing_problem.headers["Allow"]},
        )
    caller: Client | None = None
    kind = caller_for(route_name or "")
    if kind != "public":
        caller = await _authenticate(request, kind)
        # Only authenticated callers are counted: a wrong key costs a hash and one indexed
        # lookup, and guessing a 256-bit key is hopeless, so failures need no limit here.
        counted_as = f"{type(caller).__name__.lower()}:{caller.id}"
        retry_after = await request.app[LIMITER_KEY].hit(counted_as)
        if retry_after is not None:
            raise ApiError(
                429, texts.rate_limited(retry_after), headers={"Retry-After": str(retry_after)}
            )
    # The root app allows 1 MiB for Telegram's webhook; the API's own, smaller limit applies
    # here. Reading now also catches chunked bodies that announced no length.
    request = request.clone(client_max_size=limit)
    if (
        isinstance(caller, Partner)
        and route_name not in BOOST_PARTNER_ROUTES
        and await request.app[PARTNERS_KEY].is_boost_partner(caller.id)
    ):
        # A Boost key reports rent and council tax for its own tenants and nothing else: no
        # score with a code, no yes/no checks, no access requests (api.access).
        raise ApiError(403, boost_texts.API_BOOST_KEY_REFUSED, error=BOOST_KEY_NOT_ALLOWED)
    if isinstance(caller, Sponsor):
        request[SPONSOR_KEY] = caller
    elif isinstance(caller, Partner):
        request[PARTNER_KEY] = caller
    elif isinstance(caller, Operator):
        request[OPERATOR_KEY] = caller
    if request.body_exists:
        try:
            await request.read()
        except web.HTTPRequestEntityTooLarge as exc:
            raise _too_large(limit) from exc
    return await handler(request)


@web.middleware
async def api_errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await _guarded(request, handler)
    except ApiError as problem:
        return problem.response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects are responses, not errors
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return error_response(exc.status, error_code(exc.status), exc.reason, headers=headers)
    except Exception:
        logger.exception("unhandled error in %s %s", request.method, request.path)
        return error_response(500, "internal", texts.UNEXPECTED)


async def openapi_json(_request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


async def whoami(request: web.Request) -> web.Response:
    sponsor = request[SPONSOR_KEY]
    return respond(schemas.Sponsor(id=sponsor.id, name=sponsor.name))


async def not_found(request: web.Request) -> web.Response:
    """Anything under /api outside /api/v1 (e.g. a mistyped version) is still a JSON 404."""
    return error_response(404, "not_found", texts.no_such_route(request.method, request.path))


RouteAdder = Callable[[web.Application], None]


def build_api_app(
    sponsors: SponsorService,
    limiter: RateLimiter | None = None,
    *,
    promotions: PromotionService | None = None,
    on_promotion_created: PromotionCreated | None = None,
    partners: PartnerService | None = None,
    extra_routes: tuple[RouteAdder, ...] = (),
) -> web.Application:
    app = web.Application(middlewares=[api_errors_as_json])
    app[SPONSORS_KEY] = sponsors
    app[LIMITER_KEY] = limiter or SlidingWindowLimiter()
    if partners is not None:
        app[PARTNERS_KEY] = partners
    app.router.add_get("/openapi.json", openapi_json, name="openapi")
    app.router.add_get("/sponsor", whoami, name="whoami")
    if promotions is not None:
        add_promotion_routes(app, promotions, on_promotion_created)
    for add_routes in extra_routes:
        add_routes(app)
    return app


def mount_api(
    root: web.Application,
    sponsors: SponsorService,
    *,
    limiter: RateLimiter | None = None,
    promotions: PromotionService | None = None,
    on_promotion_created: PromotionCreated | None = None,
    partners: PartnerService | None = None,
    extra_routes: tuple[RouteAdder, ...] = (),
) -> web.Application:
    """Mount the API at /api/v1 on ``root``; returns the sub-application."""
    api = build_api_app(
        sponsors,
        limiter,
        promotions=promotions,
        on_promotion_created=on_promotion_created,
        partners=partners,
        extra_routes=extra_routes,
    )
    root.add_subapp(API_PREFIX, api)
    # Registered after the sub-app, so it only sees what /api/v1 did not claim.
    root.router.add_route("*", "/api", not_found)
    root.router.add_route("*", "/api/{tail:.*}", not_found)
    return api
