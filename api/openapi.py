"""The OpenAPI 3.1 document served at ``GET /api/v1/openapi.json``, generated.

Each operation is one ``Operation`` row in OPERATIONS below: its route name, words, request
model, parameters and replies. The schemas come from the pydantic models in api.schemas (and
services.promotions.PromotionDraft) through pydantic's own JSON Schema generator; each
operation's security and its 401/413/429 replies follow from its route name by the same rule
api.app enforces (api.access). tests/api checks both directions: every route registered under
/api/v1 is documented, and every documented response is what the running server sends.

Why pydantic's own JSON Schema and a small route table rather than a library: pydantic already
validates every request, and its 2020-12 JSON Schema is what OpenAPI 3.1 uses, so no new
dependency is needed and the routes stay plain aiohttp. aiohttp-pydantic would have us rewrite
each handler as a class-based ``PydanticView`` and answer validation errors in its own shape
instead of our 422 ``fields``; apispec needs a third-party pydantic plugin on top and would
still take the paths from docstrings or hand-written dicts, i.e. more code to say the same.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema

from api import schemas
from api.access import caller_for
from api.limits import (
    EVENTS_MAX_BODY_BYTES,
    MAX_BODY_BYTES,
    MAX_ID,
    MAX_JSON_DEPTH,
    REQUESTS_PER_MINUTE,
)
from services.growth_report import DEFAULT_WEEKS as GROWTH_DEFAULT_WEEKS
from services.growth_report import MAX_WEEKS as GROWTH_MAX_WEEKS
from services.growth_report import MIN_COUNT as GROWTH_MIN_COUNT
from services.promotions import PromotionDraft

API_PREFIX = "/api/v1"
_SCHEMAS = "#/components/schemas/"


@dataclass(frozen=True)
class Reply:
    """One documented response: a model's JSON, or ``content`` given as is."""

    description: str
    body: type[BaseModel] | None = None
    headers: Mapping[str, Any] = field(default_factory=dict)
    content: Mapping[str, Any] | None = None


_BOOST_KEY_REFUSED = (
    "`boost_key_not_allowed`: a Boost key (a landlord, letting agent or council a citizen "
    "invited) only reports rent and council tax on POST /events."
)


@dataclass(frozen=True)
class Param:
    name: str
    where: Literal["path", "query"]
    type: Any  # an annotation; its schema is pydantic's
    default: Any = None


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # under API_PREFIX unless under_api is False
    route: str  # the aiohttp route name: who may call it (api.access)
    operation_id: str
    summary: str
    replies: Mapping[str, Reply | str]  # a str names one of _SHARED_REPLIES
    description: str | None = None
    body: type[BaseModel] | None = None
    params: tuple[Param, ...] = ()
    under_api: bool = True  # False: not behind api.app's guard, so no 401/413/429

    @property
    def url(self) -> str:
        return f"{API_PREFIX}{self.path}" if self.under_api else self.path


_WWW_AUTHENTICATE = {"WWW-Authenticate": {"schema": {"type": "string"}}}
_SHARED_REPLIES: dict[str, Reply] = {
    "Unauthorized": Reply(
        "The `Authorization: Bearer <key>` header is missing or the key is not valid.",
        schemas.Error,
        _WWW_AUTHENTICATE,
    ),
    "PartnerUnauthorized": Reply(
        "The `Authorization: Bearer <key>` header is missing or is not a valid partner key.",
        schemas.Error,
        _WWW_AUTHENTICATE,
    ),
    "OperatorUnauthorized": Reply(
        "The `Authorization: Bearer <key>` header is missing or is not a valid operator key "
        "(sponsor and partner keys are refused here, and operator keys everywhere else).",
        schemas.Error,
        _WWW_AUTHENTICATE,
    ),
    "PayloadTooLarge": Reply(
        f"The request body is larger than {MAX_BODY_BYTES} bytes.", schemas.Error
    ),
    "ValidationFailed": Reply(
        "The request body or parameters are invalid; `fields` says which and why.",
        schemas.ValidationError,
    ),
    "RateLimited": Reply(
        f"More than {REQUESTS_PER_MINUTE} requests in the last minute with this key.",
        schemas.Error,
        {
            "Retry-After": {
                "required": True,
                "description": "Seconds to wait before the next request will be accepted.",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    ),
    "NotFound": Reply("No such route or resource.", schemas.Error),
    "BadRequest": Reply(
        "The body is not usable JSON: not UTF-8, malformed, or nested more than "
        f"{MAX_JSON_DEPTH} deep.",
        schemas.Error,
    ),
}
# What api.app's guard may answer before a handler runs, by who may call the route.
_GUARD_REPLIES: dict[str, dict[str, str]] = {
    "public": {"413": "PayloadTooLarge"},
    "sponsor": {"401": "Unauthorized", "413": "PayloadTooLarge", "429": "RateLimited"},
    "partner": {"401": "PartnerUnauthorized", "413": "PayloadTooLarge", "429": "RateLimited"},
    "operator": {"401": "OperatorUnauthorized", "413": "PayloadTooLarge", "429": "RateLimited"},
}
_SECURITY: dict[str, list[dict[str, list[str]]] | None] = {
    "public": [],
    "partner": [{"partnerKey": []}],
    "operator": [{"operatorKey": []}],
    "sponsor": None,  # the document's default
}
_SECURITY_SCHEMES = {
    "sponsorKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "A sponsor API key (`bz_sp_...`) from `britizen sponsor add NAME`.",
    },
    "partnerKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "A data partner API key (`bz_pt_...`) from `britizen partner add NAME`.",
    },
    "operatorKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "An operator API key (`bz_op_...`) from `britizen operator add NAME`.",
    },
}

# Any other id is 404 (api.limits.row_id).
_ROW_ID = Param("id", "path", Annotated[int, Field(ge=1, le=MAX_ID)])

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "get", "/healthz", "public.health", "health",
        "Liveness and database reachability (public).",
        {
            "200": Reply("The service and database are up.", schemas.Health),
            "503": Reply("The database is unreachable.", schemas.Health),
        },
        under_api=False,
    ),
    Operation(
        "get", "/openapi.json", "openapi", "openapi", "This document (public).",
        {
            "200": Reply(
                "The OpenAPI document.",
                content={"application/json": {"schema": {"type": "object"}}},
            )
        },
    ),
    Operation(
        "get", "/sponsor", "whoami", "whoami", "The sponsor the API key belongs to.",
        {"200": Reply("The authenticated sponsor.", schemas.Sponsor)},
    ),
    Operation(
        "post", "/promotions", "create_promotion", "create_promotion",
        "Create a promotion; it is sent to its audience when it starts.",
        {
            "201": Reply(
                "Created; `counts.targeted` is how many people it reaches right now.",
                schemas.Promotion,
                {"Location": {"schema": {"type": "string"}}},
            ),
            "422": "ValidationFailed",
        },
        description=(
            "Only citizens who opted in to offers receive it, labelled as sponsored with "
            "your name and with a Stop offers button. Starts now unless `starts_at` is "
            "later. Unique vouchers (up to 100,000) are generated now."
        ),
        body=PromotionDraft,
    ),
    Operation(
        "get", "/promotions", "list_promotions", "list_promotions",
        "Your promotions, newest first, with live counts.",
        {"200": Reply("Your promotions.", schemas.PromotionList)},
    ),
    Operation(
        "get", "/promotions/{id}", "get_promotion", "get_promotion",
        "One of your promotions with live counts and sends per minute.",
        {"200": Reply("The promotion.", schemas.Promotion), "404": "NotFound"},
        params=(_ROW_ID,),
    ),
    Operation(
        "delete", "/promotions/{id}", "cancel_promotion", "cancel_promotion",
        "Cancel: nothing more is sent. Idempotent.",
        {"200": Reply("The promotion, cancelled.", schemas.Promotion), "404": "NotFound"},
        description="An expired promotion stays `expired`; anything else becomes "
        "`cancelled` and every message not yet sent is dropped.",
        params=(_ROW_ID,),
    ),
    Operation(
        "post", "/events", "partner.events", "reportEvents", "Report payment events (partners).",
        {
            "200": Reply("What became of each.", schemas.EventBatchResult),
            "403": Reply(
                "A Boost key (a landlord, letting agent or council a citizen invited) reported "
                "a kind other than `rent` or `council_tax`, or about someone who did not "
                "invite it; `detail` names the fields. Nothing in the request was recorded.",
                schemas.Error,
            ),
            "422": "ValidationFailed",
        },
        description=(
            "Up to 1,000 events per request (bodies up to "
            f"{EVENTS_MAX_BODY_BYTES} bytes). An event about someone not registered "
            "is held and applied if they register within 90 days, then purged. The "
            "same event id counts once. Events about a person who erased their "
            "account are refused. The answer never says whether someone is registered."
        ),
        body=schemas.EventBatch,
    ),
    Operation(
        "post", "/access-requests", "partner.access_request", "requestScoreAccess",
        "Ask a citizen to let you see their score (partners).",
        {
            "202": Reply("The request, pending.", schemas.AccessRequest),
            "403": Reply(_BOOST_KEY_REFUSED, schemas.Error),
            "409": Reply(
                "The person declined your last request under 30 days ago, or has blocked "
                "requests from you, or you were answered this check with another value in the "
                "last 90 days; the detail says which and when you may ask again.",
                schemas.Error,
            ),
            "422": "ValidationFailed",
        },
        description=(
            "Name one yes/no `check` (answered with POST /checks once allowed), or none to "
            "ask for the score itself. The citizen gets Allow / Deny / Block buttons under "
            "the exact question, or a plain statement that you ask for their score. The "
            "request is 202 and pending whoever the NI number belongs to (or nobody); poll "
            "its status. It expires after 24 hours. Manners: after a Deny you may not ask "
            "about the same person for 30 days (409); a person may block you for good (409); "
            "at most 500 of your requests may be open from the last 24 hours (429, with "
            "Retry-After)."
        ),
        body=schemas.AccessRequestBody,
    ),
    Operation(
        "get", "/access-requests/{id}", "partner.access_request_status", "getScoreAccess",
        "An access request's status; once a request for the score is allowed, the score, "
        "read once (a check's answer comes from POST /checks).",
        {
            "200": Reply("The request.", schemas.AccessRequest),
            "403": Reply(_BOOST_KEY_REFUSED, schemas.Error),
            "404": "NotFound",
        },
        params=(_ROW_ID,),
    ),
    Operation(
        "get", "/scores/{code}", "partner.score", "getSharedScore",
        "A score shared with a one-time code (partners).",
        {
            "200": Reply("Band, score, computed at.", schemas.SharedScore),
            "403": Reply(
                "`score_not_shared`: the citizen made this code for yes/no answers only; "
                "it still answers one check (POST /checks). `boost_key_not_allowed`: "
                "a Boost key may not read scores (the code stays unused).",
                schemas.Error,
            ),
            "404": "NotFound",
            "410": Reply("The code has expired or was used.", schemas.Error),
        },
        description="Only for a code the citizen made to share their score (\"Share my "
        "score instead\" in /share); by default a code answers one yes/no check instead. "
        "Codes last 10 minutes and work once. Every read is logged and shown to the citizen.",
        params=(Param("code", "path", str),),
    ),
    Operation(
        "post", "/checks", "partner.checks", "askCheck",
        "Ask one yes/no question about a citizen, with their consent (partners).",
        {
            "200": Reply("The answer, and nothing else about the person.", schemas.CheckResult),
            "403": Reply(
                "`not_consented`: the access request is not allowed (still pending, or "
                "denied), asked for the score, or named another check. "
                "`boost_key_not_allowed`: a Boost key may not ask checks.",
                schemas.Error,
            ),
            "404": "NotFound",
            "409": Reply(
                "You were answered this check about this person with another value in the "
                "last 90 days; the detail says which and until when.",
                schemas.Error,
            ),
            "410": Reply("The code or request has expired or was used.", schemas.Error),
            "422": "ValidationFailed",
        },
        description=(
            "Checks: `band_at_least` (a band name), `no_missed_payments_months` (1-72), "
            "`verified_identity` (no value), `age_at_least` (16-120). There is no "
            "`score_at_least`: moving a threshold would find the exact score by bisection. "
            "Consent is the citizen's one-time `code` from /share (any code; a code works "
            "once) or `access_request_id`, a request of yours that named this exact check and "
            "that the citizen allowed (once). One consent, one answer; the citizen is told the "
            "question and the answer. For 90 days after an answer you may ask the same person "
            "a check of that kind only with the same value (409)."
        ),
        body=schemas.CheckBody,
    ),
    Operation(
        "get", "/open-data/score-bands", "public.score_bands", "scoreBands",
        "Citizens by score band and postcode area (public, open data).",
        {
            "200": Reply(
                "The distribution.",
                schemas.ScoreBands,
                content={"text/csv": {"schema": {"type": "string"}}},
            ),
            "422": "ValidationFailed",
        },
        description="JSON with a JSON-LD `@context`, or CSV with `?format=csv` "
        "(leading `#` lines carry the licence and computed time). Cells under 10 "
        "people are suppressed.",
        params=(Param("format", "query", schemas.OpenDataFormat, default="json"),),
    ),
    Operation(
        "get", "/operator", "operator.whoami", "whoamiOperator",
        "The operator the API key belongs to (operators).",
        {"200": Reply("The authenticated operator.", schemas.Operator)},
    ),
    Operation(
        "get", "/operator/growth", "operator.growth", "growthReport",
        "The growth report: adoption over time, by postcode area, and the referral funnel "
        "(operators).",
        {
            "200": Reply("The report.", schemas.GrowthReport),
            "422": "ValidationFailed",
        },
        description=(
            "Registered, verified and weekly active citizens week by week; by postcode area "
            "the registrations, growth over 7 and 28 days, adoption share of the eligible "
            "population (BRITIZEN_POPULATION_FILE) and Rogers stage; the areas furthest below "
            "the median share; invite links made, opened, registered and verified. Per-area "
            f"counts under {GROWTH_MIN_COUNT} people are suppressed (null)."
        ),
        params=(
            Param(
                "weeks", "query", Annotated[int, Field(ge=1, le=GROWTH_MAX_WEEKS)],
                default=GROWTH_DEFAULT_WEEKS,
            ),
        ),
    ),
)  # fmt: skip

_DESCRIPTION = (
    "JSON over HTTPS. Send `Authorization: Bearer <api key>` unless an operation says it "
    'is public. Every error is JSON: `{"error": code, "detail": text}`, with '
    "`fields` added for 422. Limits: request bodies up to "
    f"{MAX_BODY_BYTES} bytes; {REQUESTS_PER_MINUTE} requests per minute per key "
    "(counted across all server instances), after which 429 says when to retry."
)


class _Generator(GenerateJsonSchema):
    # A title per property only repeats its name; the models keep theirs.
    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def _models() -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    """Every model the document names: request bodies as validated, the rest as serialised."""
    found: dict[type[BaseModel], JsonSchemaMode] = {}
    replies = [*_SHARED_REPLIES.values()]
    for op in OPERATIONS:
        if op.body is not None:
            found[op.body] = "validation"
        replies += [r for r in op.replies.values() if isinstance(r, Reply)]
    for reply in replies:
        if reply.body is not None:
            # A model both read and written would need two schemas; none is, so far.
            assert found.setdefault(reply.body, "serialization") == "serialization"
    return list(found.items())


Refs = Mapping[type[BaseModel], dict[str, str]]


def _content(reply: Reply, refs: Refs) -> dict[str, Any]:
    content: dict[str, Any] = {}
    if reply.body is not None:
        content["application/json"] = {"schema": refs[reply.body]}
    content.update(reply.content or {})
    return content


def _response(reply: Reply, refs: Refs) -> dict[str, Any]:
    out: dict[str, Any] = {"description": reply.description, "content": _content(reply, refs)}
    if reply.headers:
        out["headers"] = dict(reply.headers)
    return out


def _parameter(param: Param) -> dict[str, Any]:
    schema = TypeAdapter(param.type).json_schema(schema_generator=_Generator)
    if param.default is not None:
        schema["default"] = param.default
    return {
        "name": param.name,
        "in": param.where,
        "required": param.where == "path",
        "schema": schema,
    }


def _operation(op: Operation, refs: Refs) -> dict[str, Any]:
    caller = caller_for(op.route)
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary}
    if op.description:
        out["description"] = op.description
    if _SECURITY[caller] is not None:
        out["security"] = _SECURITY[caller]
    if op.params:
        out["parameters"] = [_parameter(p) for p in op.params]
    replies = {**(_GUARD_REPLIES[caller] if op.under_api else {}), **op.replies}
    if op.body is not None:
        json_body = {"application/json": {"schema": refs[op.body]}}
        out["requestBody"] = {"required": True, "content": json_body}
        replies["400"] = "BadRequest"  # api.errors.parse_json
    out["responses"] = {
        status: (
            {"$ref": f"#/components/responses/{reply}"}
            if isinstance(reply, str)
            else _response(reply, refs)
        )
        for status, reply in sorted(replies.items())
    }
    return out


@functools.cache
def _document() -> dict[str, Any]:
    models = _models()
    by_mode, generated = models_json_schema(
        models, ref_template=_SCHEMAS + "{model}", schema_generator=_Generator
    )
    refs = {model: dict(by_mode[model, mode]) for model, mode in models}
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.url, {})[op.method] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Britizen HTTP API", "version": "1.0.0", "description": _DESCRIPTION},
        "servers": [{"url": "/"}],
        "security": [{"sponsorKey": []}],
        "paths": paths,
        "components": {
            "securitySchemes": _SECURITY_SCHEMES,
            "schemas": generated["$defs"],
            "responses": {name: _response(r, refs) for name, r in _SHARED_REPLIES.items()},
        },
    }


def openapi_document() -> dict[str, Any]:
    """A fresh copy, so no caller can alter what the next request is served."""
    return copy.deepcopy(_document())
