"""The OpenAPI 3.1 document served at ``GET /api/v1/openapi.json``.

Built from plain dicts so each feature adds its paths and schemas here beside the existing ones.
tests/api checks both directions: every route registered under /api/v1 is documented, and every
documented response is what the running server actually sends.
"""

from __future__ import annotations

import copy
from typing import Any

from api.limits import MAX_BODY_BYTES, REQUESTS_PER_MINUTE

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
