"""Partner routes: payment events in batches, and asking a citizen to share their score.

Both take a partner key (route names start with "partner.", see api.app). NI numbers are
validated and canonicalised here, hashed by the service, and never echoed or logged: a bad
one is reported by its position in the batch with a fixed message.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from api.app import PARTNER_KEY, RouteAdder
from api.errors import ApiError, ValidationFailed, read_model
from services.clock import Clock
from services.events import (
    EVENT_KINDS,
    MAX_BATCH,
    OUTCOMES,
    REFUSED_REASON,
    EventService,
    EventStatus,
    IncomingEvent,
)
from services.sharing import RequestNotFound, RequestState, SharingService
from services.validation import InvalidNINumber, normalise_ni_number

EVENTS_KEY: web.AppKey[EventService] = web.AppKey("events", EventService)
SHARING_KEY: web.AppKey[SharingService] = web.AppKey("sharing", SharingService)
CLOCK_KEY: web.AppKey[Clock] = web.AppKey("clock")

NI_MESSAGE = "must be a UK National Insurance number: two letters, six digits, then A, B, C or D"


def _ni_number(raw: str) -> str:
    try:
        return normalise_ni_number(raw)
    except InvalidNINumber:
        # A fixed message: the citizen-facing one can quote part of what was sent.
        raise ValueError(NI_MESSAGE) from None


NINumber = Annotated[str, Field(max_length=32), AfterValidator(_ni_number)]
EventId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")]


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: EventId = Field(description="The partner's own id for the event; a resend counts once.")
    ni_number: NINumber
    kind: Literal["bill", "loan_instalment"]
    outcome: Literal["on_time", "late", "missed"]
    occurred_on: date


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[EventIn] = Field(min_length=1, max_length=MAX_BATCH)


class AccessRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ni_number: NINumber


assert EVENT_KINDS == ("bill", "loan_instalment") and OUTCOMES == ("on_time", "late", "missed")


async def post_events(request: web.Request) -> web.Response:
    batch = await read_model(request, EventBatch)
    # A day's grace for partners in other time zones; beyond that a date is a mistake.
    latest = request.app[CLOCK_KEY]().date() + timedelta(days=1)
    future = {
        f"events.{i}.occurred_on": "must not be in the future"
        for i, event in enumerate(batch.events)
        if event.occurred_on > latest
    }
    if future:
        raise ValidationFailed(future)
    partner = request[PARTNER_KEY]
    result = await request.app[EVENTS_KEY].report(
        partner.id,
        [IncomingEvent(e.id, e.ni_number, e.kind, e.outcome, e.occurred_on) for e in batch.events],
    )
    events: list[dict[str, Any]] = []
    for item in result.results:
        entry: dict[str, Any] = {"id": item.external_id, "status": item.status.value}
        if item.status is EventStatus.REFUSED:
            entry["reason"] = REFUSED_REASON
        events.append(entry)
    return web.json_response(
        {
            "received": len(result.results),
            "accepted": result.count(EventStatus.ACCEPTED),
            "duplicates": result.count(EventStatus.DUPLICATE),
            "refused": result.count(EventStatus.REFUSED),
            "events": events,
        }
    )


def request_json(state: RequestState) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": state.id,
        "status": state.status,
        "created_at": state.created_at.isoformat(),
        "expires_at": state.expires_at.isoformat(),
    }
    if state.score is not None:
        body["score"] = {
            "band": state.score.band,
            "score": state.score.score,
            "computed_at": state.score.computed_at.isoformat(),
        }
    return body


async def post_access_request(request: web.Request) -> web.Response:
    body = await read_model(request, AccessRequestIn)
    state = await request.app[SHARING_KEY].request_access(request[PARTNER_KEY].id, body.ni_number)
    return web.json_response(request_json(state), status=202)


async def get_access_request(request: web.Request) -> web.Response:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise ApiError(404, "no such access request")
    try:
        state = await request.app[SHARING_KEY].read_request(request[PARTNER_KEY].id, int(raw))
    except RequestNotFound as problem:
        raise ApiError(404, str(problem)) from None
    return web.json_response(request_json(state))


def partner_routes(events: EventService, sharing: SharingService, clock: Clock) -> RouteAdder:
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
