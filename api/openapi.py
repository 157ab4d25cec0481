"""The OpenAPI 3.1 document served at ``GET /api/v1/openapi.json``.

Built from plain dicts so each feature adds its paths and schemas here beside the existing ones.
tests/api checks both directions: every route registered under /api/v1 is documented, and every
documented response is what the running server actually sends.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic.json_schema import models_json_schema

from api.limits import EVENTS_MAX_BODY_BYTES, MAX_BODY_BYTES, REQUESTS_PER_MINUTE
from scoring.bands import BAND_NAMES
from services.promotions import COUNT_NAMES, PromotionDraft

API_PREFIX = "/api/v1"

_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {
            "type": "string",
            "description": "A stable machine-readable code, e.g. `unauthorized`.",
        },
        "detail": {"type": "string", "description": "A human-readable explanation."},
    },
}

_VALIDATION_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "detail", "fields"],
    "properties": {
        "error": {"const": "validation"},
        "detail": {"type": "string"},
        "fields": {
            "type": "object",
            "description": "Dotted field path (e.g. `audience.min_score`) to what is wrong.",
            "additionalProperties": {"type": "string"},
        },
    },
}


def _json(schema_ref: str, description: str, **extra: Any) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": schema_ref}}},
        **extra,
    }


_COMPONENTS: dict[str, Any] = {
    "securitySchemes": {
        "sponsorKey": {
            "type": "http",
            "scheme": "bearer",
            "description": "A sponsor API key (`bz_sp_...`) from `britizen sponsor add NAME`.",
        }
    },
    "schemas": {
        "Error": _ERROR_SCHEMA,
        "ValidationError": _VALIDATION_ERROR_SCHEMA,
        "Sponsor": {
            "type": "object",
            "required": ["id", "name"],
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
            "additionalProperties": False,
        },
        "Health": {
            "type": "object",
            "required": ["status", "database", "mode"],
            "properties": {
                "status": {"enum": ["ok", "degraded"]},
                "database": {"type": "boolean"},
                "mode": {"enum": ["webhook", "polling"]},
                "scheduler_lock": {
                    "type": "boolean",
                    "description": "Whether this instance runs the scheduled jobs and the sender.",
                },
                "instance": {
                    "type": "string",
                    "description": "hostname:pid, or the configured name",
                },
            },
        },
    },
    "responses": {
        "Unauthorized": _json(
            "#/components/schemas/Error",
            "The `Authorization: Bearer <key>` header is missing or the key is not valid.",
            headers={"WWW-Authenticate": {"schema": {"type": "string"}}},
        ),
        "PayloadTooLarge": _json(
            "#/components/schemas/Error",
            f"The request body is larger than {MAX_BODY_BYTES} bytes.",
        ),
        "ValidationFailed": _json(
            "#/components/schemas/ValidationError",
            "The request body or parameters are invalid; `fields` says which and why.",
        ),
        "RateLimited": _json(
            "#/components/schemas/Error",
            f"More than {REQUESTS_PER_MINUTE} requests in the last minute with this key.",
            headers={
                "Retry-After": {
                    "required": True,
                    "description": "Seconds to wait before the next request will be accepted.",
                    "schema": {"type": "integer", "minimum": 1},
                }
            },
        ),
        "NotFound": _json("#/components/schemas/Error", "No such route or resource."),
    },
}

# -- promotions ------------------------------------------------------------------------------

# The request body's schema comes from the pydantic models that validate it, so the document
# and the validation cannot drift apart.
_DRAFT_REFS, _DRAFT_SCHEMAS = models_json_schema(
    [(PromotionDraft, "validation")], ref_template="#/components/schemas/{model}"
)
_COMPONENTS["schemas"].update(_DRAFT_SCHEMAS["$defs"])

_NULLABLE_INT: dict[str, Any] = {"type": ["integer", "null"]}
_COUNTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "Live counts. `targeted`: people in the audience (at creation; once sending, the number "
        "actually queued). `queued`: waiting or in flight. `sent`, `failed`, `unreachable` "
        "(blocked the bot or left Telegram), `uncertain` (in flight at a crash, not resent), "
        "`cancelled` (cancelled, expired or opted out before sending), `redeemed`."
    ),
    "required": [*COUNT_NAMES, "redeemed"],
    "properties": {name: {"type": "integer", "minimum": 0} for name in (*COUNT_NAMES, "redeemed")},
    "additionalProperties": False,
}
_PROMOTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "id",
        "title",
        "text",
        "button",
        "audience",
        "starts_at",
        "expires_at",
        "vouchers",
        "status",
        "created_at",
        "counts",
    ],
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "text": {"type": "string"},
        "button": {
            "oneOf": [
                {
                    "type": "object",
                    "required": ["label", "url"],
                    "properties": {"label": {"type": "string"}, "url": {"type": "string"}},
                    "additionalProperties": False,
                },
                {"type": "null"},
            ]
        },
        "audience": {
            "type": "object",
            "required": ["min_band", "min_score", "postcode_districts", "max_recipients"],
            "properties": {
                "min_band": {"type": ["string", "null"]},
                "min_score": {
                    **_NULLABLE_INT,
                    "description": "The effective minimum: the higher of min_score and the "
                    "floor of min_band.",
                },
                "postcode_districts": {
                    "type": ["array", "null"],
                    "items": {"type": "string"},
                },
                "max_recipients": _NULLABLE_INT,
            },
            "additionalProperties": False,
        },
        "starts_at": {"type": "string", "format": "date-time"},
        "expires_at": {"type": "string", "format": "date-time"},
        "vouchers": {
            "type": "object",
            "required": ["kind"],
            "properties": {
                "kind": {"enum": ["none", "shared", "unique"]},
                "code": {"type": "string", "description": "The shared code (kind shared)."},
                "count": {"type": "integer", "description": "Codes generated (kind unique)."},
            },
            "additionalProperties": False,
        },
        "status": {
            "enum": ["scheduled", "sending", "completed", "cancelled", "expired"],
            "description": (
                "`scheduled` until it starts; `sending` once queued; `completed` when nothing "
                "is left to send; `cancelled` (DELETE) or `expired` stop what was still queued."
            ),
        },
        "created_at": {"type": "string", "format": "date-time"},
        "counts": {"$ref": "#/components/schemas/PromotionCounts"},
        "sent_per_minute": {
            "type": "array",
            "description": "Messages sent per minute (UTC), oldest first; single lookups only.",
            "items": {
                "type": "object",
                "required": ["minute", "count"],
                "properties": {
                    "minute": {"type": "string", "format": "date-time"},
                    "count": {"type": "integer", "minimum": 1},
                },
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
}
_COMPONENTS["schemas"].update(
    {
        "PromotionCounts": _COUNTS_SCHEMA,
        "Promotion": _PROMOTION_SCHEMA,
        "PromotionList": {
            "type": "object",
            "required": ["promotions"],
            "properties": {
                "promotions": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/Promotion"},
                }
            },
            "additionalProperties": False,
        },
    }
)
_PROMOTION_ID: dict[str, Any] = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}
_NOT_YOURS: dict[str, Any] = {"$ref": "#/components/responses/NotFound"}

_AUTHENTICATED_ERRORS: dict[str, Any] = {
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "413": {"$ref": "#/components/responses/PayloadTooLarge"},
    "429": {"$ref": "#/components/responses/RateLimited"},
}

_PATHS: dict[str, Any] = {
    "/healthz": {
        "get": {
            "operationId": "health",
            "summary": "Liveness and database reachability (public).",
            "security": [],
            "responses": {
                "200": _json("#/components/schemas/Health", "The service and database are up."),
                "503": _json("#/components/schemas/Health", "The database is unreachable."),
            },
        }
    },
    f"{API_PREFIX}/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document (public).",
            "security": [],
            "responses": {
                "200": {
                    "description": "The OpenAPI document.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "413": {"$ref": "#/components/responses/PayloadTooLarge"},
            },
        }
    },
    f"{API_PREFIX}/sponsor": {
        "get": {
            "operationId": "whoami",
            "summary": "The sponsor the API key belongs to.",
            "responses": {
                "200": _json("#/components/schemas/Sponsor", "The authenticated sponsor."),
                **_AUTHENTICATED_ERRORS,
            },
        }
    },
    f"{API_PREFIX}/promotions": {
        "post": {
            "operationId": "create_promotion",
            "summary": "Create a promotion; it is sent to its audience when it starts.",
            "description": (
                "Only citizens who opted in to offers receive it, labelled as sponsored with "
                "your name and with a Stop offers button. Starts now unless `starts_at` is "
                "later. Unique vouchers (up to 100,000) are generated now."
            ),
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": _DRAFT_REFS[(PromotionDraft, "validation")]}
                },
            },
            "responses": {
                "201": _json(
                    "#/components/schemas/Promotion",
                    "Created; `counts.targeted` is how many people it reaches right now.",
                    headers={"Location": {"schema": {"type": "string"}}},
                ),
                "422": {"$ref": "#/components/responses/ValidationFailed"},
                **_AUTHENTICATED_ERRORS,
            },
        },
        "get": {
            "operationId": "list_promotions",
            "summary": "Your promotions, newest first, with live counts.",
            "responses": {
                "200": _json("#/components/schemas/PromotionList", "Your promotions."),
                **_AUTHENTICATED_ERRORS,
            },
        },
    },
    f"{API_PREFIX}/promotions/{{id}}": {
        "get": {
            "operationId": "get_promotion",
            "parameters": [_PROMOTION_ID],
            "summary": "One of your promotions with live counts and sends per minute.",
            "responses": {
                "200": _json("#/components/schemas/Promotion", "The promotion."),
                "404": _NOT_YOURS,
                **_AUTHENTICATED_ERRORS,
            },
        },
        "delete": {
            "operationId": "cancel_promotion",
            "parameters": [_PROMOTION_ID],
            "summary": "Cancel: nothing more is sent. Idempotent.",
            "description": "An expired promotion stays `expired`; anything else becomes "
            "`cancelled` and every message not yet sent is dropped.",
            "responses": {
                "200": _json("#/components/schemas/Promotion", "The promotion, cancelled."),
                "404": _NOT_YOURS,
                **_AUTHENTICATED_ERRORS,
            },
        },
    },
}

# --- Partners, score sharing, open data (issue 7) --------------------------------------------

_PARTNER: list[dict[str, list[str]]] = [{"partnerKey": []}]
_COMPONENTS["securitySchemes"]["partnerKey"] = {
    "type": "http",
    "scheme": "bearer",
    "description": "A data partner API key (`bz_pt_...`) from `britizen partner add NAME`.",
}
_NI_NUMBER = {
    "type": "string",
    "maxLength": 32,
    "description": "UK National Insurance number; hashed on arrival, never stored in clear.",
    "examples": ["QQ123456C"],
}
_SHARED_SCORE = {
    "type": "object",
    "required": ["band", "score", "computed_at"],
    "properties": {
        "band": {"enum": list(BAND_NAMES)},
        "score": {"type": "integer", "minimum": 350, "maximum": 950},
        "computed_at": {"type": "string", "format": "date-time"},
    },
    "additionalProperties": False,
}
_CELL_PROPERTIES = {
    "count": {"type": ["integer", "null"], "minimum": 10},
    "suppressed": {"type": "boolean"},
}
_CELL = {
    "type": "object",
    "required": ["count", "suppressed"],
    "properties": _CELL_PROPERTIES,
}
_COMPONENTS["schemas"].update(
    {
        "EventBatch": {
            "type": "object",
            "required": ["events"],
            "additionalProperties": False,
            "properties": {
                "events": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 1000,
                    "items": {
                        "type": "object",
                        "required": ["id", "ni_number", "kind", "outcome", "occurred_on"],
                        "additionalProperties": False,
                        "properties": {
                            "id": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": 128,
                                "description": "Your id for the event: sending it again "
                                "counts once.",
                            },
                            "ni_number": _NI_NUMBER,
                            "kind": {"enum": ["bill", "loan_instalment"]},
                            "outcome": {"enum": ["on_time", "late", "missed"]},
                            "occurred_on": {"type": "string", "format": "date"},
                        },
                    },
                }
            },
        },
        "EventBatchResult": {
            "type": "object",
            "required": ["received", "accepted", "duplicates", "refused", "events"],
            "properties": {
                "received": {"type": "integer"},
                "accepted": {"type": "integer"},
                "duplicates": {"type": "integer"},
                "refused": {"type": "integer"},
                "events": {
                    "type": "array",
                    "description": "One entry per event, in the order sent. `accepted` means "
                    "recorded (for someone not yet registered: held for 90 days).",
                    "items": {
                        "type": "object",
                        "required": ["id", "status"],
                        "properties": {
                            "id": {"type": "string"},
                            "status": {"enum": ["accepted", "duplicate", "refused"]},
                            "reason": {"type": "string"},
                        },
                    },
                },
            },
        },
        "AccessRequestBody": {
            "type": "object",
            "required": ["ni_number"],
            "additionalProperties": False,
            "properties": {"ni_number": _NI_NUMBER},
        },
        "AccessRequest": {
            "type": "object",
            "required": ["id", "status", "created_at", "expires_at"],
            "properties": {
                "id": {"type": "integer"},
                "status": {"enum": ["pending", "allowed", "denied", "used", "expired"]},
                "created_at": {"type": "string", "format": "date-time"},
                "expires_at": {"type": "string", "format": "date-time"},
                "score": {"$ref": "#/components/schemas/SharedScore"},
            },
        },
        "SharedScore": _SHARED_SCORE,
        "ScoreBands": {
            "type": "object",
            "required": [
                "@context",
                "license",
                "licence",
                "computed_at",
                "suppression",
                "total",
                "bands",
                "areas",
            ],
            "properties": {
                "@context": {"type": "object"},
                "license": {"type": "string", "format": "uri"},
                "licence": {"type": "string"},
                "computed_at": {"type": "string", "format": "date-time"},
                "suppression": {
                    "type": "object",
                    "required": ["threshold", "note", "suppressed_cells"],
                    "properties": {
                        "threshold": {"type": "integer"},
                        "note": {"type": "string"},
                        "suppressed_cells": {"type": "integer"},
                    },
                },
                "total": _CELL,
                "bands": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["band", "min_score", "max_score", "count", "suppressed"],
                        "properties": {
                            "band": {"type": "string"},
                            "min_score": {"type": "integer"},
                            "max_score": {"type": "integer"},
                            **_CELL_PROPERTIES,
                        },
                    },
                },
                "areas": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["area", "total", "bands"],
                        "properties": {
                            "area": {"type": "string"},
                            "total": _CELL,
                            "bands": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["band", "count", "suppressed"],
                                    "properties": {"band": {"type": "string"}, **_CELL_PROPERTIES},
                                },
                            },
                        },
                    },
                },
            },
        },
    }
)
_COMPONENTS["responses"]["PartnerUnauthorized"] = _json(
    "#/components/schemas/Error",
    "The `Authorization: Bearer <key>` header is missing or is not a valid partner key.",
    headers={"WWW-Authenticate": {"schema": {"type": "string"}}},
)
_PARTNER_ERRORS: dict[str, Any] = {
    "401": {"$ref": "#/components/responses/PartnerUnauthorized"},
    "413": {"$ref": "#/components/responses/PayloadTooLarge"},
    "429": {"$ref": "#/components/responses/RateLimited"},
}


def _body(schema_ref: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": schema_ref}}}}


_PATHS.update(
    {
        f"{API_PREFIX}/events": {
            "post": {
                "operationId": "reportEvents",
                "summary": "Report payment events (partners).",
                "description": (
                    "Up to 1,000 events per request (bodies up to "
                    f"{EVENTS_MAX_BODY_BYTES} bytes). An event about someone not registered "
                    "is held and applied if they register within 90 days, then purged. The "
                    "same event id counts once. Events about a person who erased their "
                    "account are refused. The answer never says whether someone is registered."
                ),
                "security": _PARTNER,
                "requestBody": _body("#/components/schemas/EventBatch"),
                "responses": {
                    "200": _json("#/components/schemas/EventBatchResult", "What became of each."),
                    "422": {"$ref": "#/components/responses/ValidationFailed"},
                    **_PARTNER_ERRORS,
                },
            }
        },
        f"{API_PREFIX}/access-requests": {
            "post": {
                "operationId": "requestScoreAccess",
                "summary": "Ask a citizen to let you see their score (partners).",
                "description": (
                    "The citizen gets Allow / Deny buttons. The request is 202 and pending "
                    "whoever the NI number belongs to (or nobody); poll its status. It expires "
                    "after 24 hours."
                ),
                "security": _PARTNER,
                "requestBody": _body("#/components/schemas/AccessRequestBody"),
                "responses": {
                    "202": _json("#/components/schemas/AccessRequest", "The request, pending."),
                    "422": {"$ref": "#/components/responses/ValidationFailed"},
                    **_PARTNER_ERRORS,
                },
            }
        },
        f"{API_PREFIX}/access-requests/{{id}}": {
            "get": {
                "operationId": "getScoreAccess",
                "summary": "An access request's status; once allowed, the score, read once.",
                "security": _PARTNER,
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": _json("#/components/schemas/AccessRequest", "The request."),
                    "404": {"$ref": "#/components/responses/NotFound"},
                    **_PARTNER_ERRORS,
                },
            }
        },
        f"{API_PREFIX}/scores/{{code}}": {
            "get": {
                "operationId": "getSharedScore",
                "summary": "A score shared with a one-time code (partners).",
                "description": "Codes last 10 minutes and work once. Every read is logged and "
                "shown to the citizen.",
                "security": _PARTNER,
                "parameters": [
                    {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": _json("#/components/schemas/SharedScore", "Band, score, computed at."),
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "410": _json("#/components/schemas/Error", "The code has expired or was used."),
                    **_PARTNER_ERRORS,
                },
            }
        },
        f"{API_PREFIX}/open-data/score-bands": {
            "get": {
                "operationId": "scoreBands",
                "summary": "Citizens by score band and postcode area (public, open data).",
                "description": "JSON with a JSON-LD `@context`, or CSV with `?format=csv` "
                "(leading `#` lines carry the licence and computed time). Cells under 10 "
                "people are suppressed.",
                "security": [],
                "parameters": [
                    {
                        "name": "format",
                        "in": "query",
                        "required": False,
                        "schema": {"enum": ["json", "csv"], "default": "json"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "The distribution.",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ScoreBands"}
                            },
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                    "413": {"$ref": "#/components/responses/PayloadTooLarge"},
                    "422": {"$ref": "#/components/responses/ValidationFailed"},
                },
            }
        },
    }
)

_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Britizen HTTP API",
        "version": "1.0.0",
        "description": (
            "JSON over HTTPS. Send `Authorization: Bearer <api key>` unless an operation says it "
            'is public. Every error is JSON: `{"error": code, "detail": text}`, with '
            "`fields` added for 422. Limits: request bodies up to "
            f"{MAX_BODY_BYTES} bytes; {REQUESTS_PER_MINUTE} requests per minute per key "
            "(per server instance), after which 429 says when to retry."
        ),
    },
    "servers": [{"url": "/"}],
    "security": [{"sponsorKey": []}],
    "paths": _PATHS,
    "components": _COMPONENTS,
}


def openapi_document() -> dict[str, Any]:
    """A fresh copy, so no caller can alter what the next request is served."""
    return copy.deepcopy(_DOCUMENT)
