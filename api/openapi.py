"""The OpenAPI 3.1 document served at ``GET /api/v1/openapi.json``.

Built from plain dicts so each feature adds its paths and schemas here beside the existing ones.
tests/api checks both directions: every route registered under /api/v1 is documented, and every
documented response is what the running server actually sends.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic.json_schema import models_json_schema

from api.limits import MAX_BODY_BYTES, REQUESTS_PER_MINUTE
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
