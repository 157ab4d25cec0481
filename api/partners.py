"""Partner routes: payment events in batches, and asking a citizen to share their score.

Both take a partner key (route names start with "partner.", see api.access). NI numbers are
validated and canonicalised by the request models (api.schemas), hashed by the service, and
never echoed or logged: a bad one is reported by its position in the batch with a fixed
message.
"""

from __future__ import annotations

from datetime import date
from typing import get_args

from aiohttp import web

from api import schemas
from api.app import PARTNER_KEY, RouteAdder
from api.checks import check_json, read_with_check, to_check
from api.errors import ApiError, ValidationFailed, read_model, respond
from api.limits import row_id
from services.boost import OutsideBoostScope
from services.checks import ThresholdMoved
from services.clock import Clock
from services.event_rules import YEARS_KEPT, earliest_date, latest_date
from services.events import (
    EVENT_KINDS,
    HELD_REASON,
    OUTCOMES,
    REFUSED_REASON,
    EventService,
    EventStatus,
    IncomingEvent,
)
from services.sharing import RequestNotFound, RequestRefused, RequestState, SharingService
from texts import api as texts
from texts import boost as boost_texts

EVENTS_KEY: web.AppKey[EventService] = web.AppKey("events", EventService)
SHARING_KEY: web.AppKey[SharingService] = web.AppKey("sharing", SharingService)
CLOCK_KEY: web.AppKey[Clock] = web.AppKey("clock")

assert get_args(schemas.EventIn.model_fields["kind"].annotation) == EVENT_KINDS
assert get_args(schemas.EventIn.model_fields["outcome"].annotation) == OUTCOMES


def _date_problems(batch: schemas.EventBatch, today: date) -> dict[str, str]:
    """Dates outside what a credit record keeps (services.event_rules), by field."""
    earliest, latest = earliest_date(today), latest_date(today)
    too_old = texts.too_long_ago(YEARS_KEPT, earliest.isoformat())
    problems: dict[str, str] = {}
    for i, event in enumerate(batch.events):
        if event.occurred_on > latest:
            problems[f"events.{i}.occurred_on"] = texts.IN_THE_FUTURE
        elif event.occurred_on < earliest:
            problems[f"events.{i}.occurred_on"] = too_old
    return problems


def _reason(status: EventStatus) -> str | None:
    if status is EventStatus.REFUSED:
        return REFUSED_REASON
    if status is EventStatus.HELD:
        return HELD_REASON
    return None


async def post_events(request: web.Request) -> web.Response:
    batch = await read_model(request, schemas.EventBatch)
    problems = _date_problems(batch, request.app[CLOCK_KEY]().date())
    if problems:
        raise ValidationFailed(problems)
    partner = request[PARTNER_KEY]
    try:
        result = await request.app[EVENTS_KEY].report(
            partner.id,
            [
                IncomingEvent(e.id, e.ni_number, e.kind, e.outcome, e.occurred_on)
                for e in batch.events
            ],
        )
    except OutsideBoostScope as outside:
        raise ApiError(403, boost_texts.api_outside_scope(outside.fields)) from None
    return respond(
        schemas.EventBatchResult(
            received=len(result.results),
            accepted=result.count(EventStatus.ACCEPTED),
            held=result.count(EventStatus.HELD),
            duplicates=result.count(EventStatus.DUPLICATE),
            refused=result.count(EventStatus.REFUSED),
            events=[
                schemas.EventResult(
                    id=item.external_id,
                    status=item.status.value,
                    reason=_reason(item.status),
                )
                for item in result.results
            ],
        )
    )


def access_request_model(state: RequestState) -> schemas.AccessRequest:
    score = state.score
    return schemas.AccessRequest.model_validate(
        {
            "id": state.id,
            "status": state.status,
            "created_at": state.created_at,
            "expires_at": state.expires_at,
            "score": (
                None
                if score is None
                else {"band": score.band, "score": score.score, "computed_at": score.computed_at}
            ),
            "check": None if state.check is None else check_json(state.check),
        }
    )


async def post_access_request(request: web.Request) -> web.Response:
    body = await read_with_check(request, schemas.AccessRequestBody)
    check = None if body.check is None else to_check(body.check)
    try:
        state = await request.app[SHARING_KEY].request_access(
            request[PARTNER_KEY].id, body.ni_number, check
        )
    except RequestRefused as refused:
        headers = {"Retry-After": str(refused.retry_after)} if refused.retry_after else None
        raise ApiError(refused.status, str(refused), headers=headers) from None
    except ThresholdMoved as moved:
        raise ApiError(409, str(moved)) from None
    return respond(access_request_model(state), status=202)


async def get_access_request(request: web.Request) -> web.Response:
    request_id = row_id(request.match_info["id"])
    if request_id is None:
        raise ApiError(404, texts.NO_ACCESS_REQUEST)
    try:
        state = await request.app[SHARING_KEY].read_request(request[PARTNER_KEY].id, request_id)
    except RequestNotFound as problem:
        raise ApiError(404, str(problem)) from None
    return respond(access_request_model(state))


def partner_routes(
    events: EventService,
    sharing: SharingService,
    clock: Clock,
) -> RouteAdder:
    def add(app: web.Application) -> None:
        app[EVENTS_KEY] = events
        app[SHARING_KEY] = sharing
        app[CLOCK_KEY] = clock
        app.router.add_post("/events", post_events, name="partner.events")
        app.router.add_post("/access-requests", post_access_request, name="partner.access_request")
        app.router.add_get(
            "/access-requests/{id}", get_access_request, name="partner.access_request_status"
        )

    return add
