"""JSON in and out: requests read as models, responses written from them, one error shape.

Errors are ``{"error": code, "detail": text}``, plus ``fields`` for 422 (api.schemas.Error and
ValidationError). Handlers raise ApiError (or ValidationFailed); the middleware in api.app turns
those, aiohttp's own HTTP exceptions and anything unexpected into this JSON, so no client ever
sees HTML.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from api import schemas
from api.limits import MAX_JSON_DEPTH
from texts import api as texts

ModelT = TypeVar("ModelT", bound=BaseModel)

# aiohttp's exceptions carry a status; clients branch on a stable code, not on reason phrases.
_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation",
    429: "rate_limited",
    500: "internal",
}
# 403s that say why the citizen's consent does not cover what was asked (issue 20).
SCORE_NOT_SHARED = "score_not_shared"
NOT_CONSENTED = "not_consented"
BOOST_KEY_NOT_ALLOWED = "boost_key_not_allowed"
"""A Boost key (services.boost) on a route other than POST /events (api.access)."""
"""Every ``error`` code the API answers with: ERROR_CODES (tests/api check the README lists
them all, so a client author can branch on each)."""
ERROR_CODES = frozenset(_CODES.values()) | {SCORE_NOT_SHARED, NOT_CONSENTED, BOOST_KEY_NOT_ALLOWED}


def error_code(status: int) -> str:
    return _CODES.get(status, f"http_{status}")


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        detail: str,
        *,
        error: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error or error_code(status)
        self.detail = detail
        self.headers = dict(headers or {})

    def response(self) -> web.Response:
        return error_response(self.status, self.error, self.detail, headers=self.headers)


class ValidationFailed(ApiError):
    """422 with the offending fields as dotted paths (``audience.min_score``) to messages."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__(422, texts.INVALID_FIELDS, error="validation")
        self.fields = dict(fields)

    def response(self) -> web.Response:
        body = schemas.ValidationError(error="validation", detail=self.detail, fields=self.fields)
        return respond(body, status=422)


def respond(
    body: BaseModel, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """``body`` as the JSON response: the one way a handler answers with JSON."""
    return web.json_response(body.model_dump(mode="json"), status=status, headers=headers)


def error_response(
    status: int, error: str, detail: str, *, headers: Mapping[str, str] | None = None
) -> web.Response:
    return respond(schemas.Error(error=error, detail=detail), status=status, headers=headers)


def fields_from_pydantic(problem: PydanticValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in problem.errors():
        path = ".".join(str(part) for part in item["loc"]) or "body"
        # Keep the first message per field: one clear reason is easier to act on than three.
        fields.setdefault(path, item["msg"])
    return fields


# A JSON string (escapes included), and the brackets left once strings are taken out.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def json_too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``raw`` nests arrays and objects more than ``limit`` deep (brackets inside
    strings do not count). Linear, and run before parsing: json recurses once per level."""
    depth = 0
    for bracket in _BRACKET.finditer(_JSON_STRING.sub(b"", raw)):
        depth += 1 if bracket.group() in b"[{" else -1
        if depth > limit:
            return True
    return False


def parse_json(raw: bytes) -> Any:
    """``raw`` as JSON, or 400 (``bad_request``) for a body that is not usable JSON: nested
    more than MAX_JSON_DEPTH deep (``[`` x 20,000 would be a RecursionError inside json), not
    UTF-8, malformed, or a number too long to convert (ValueError)."""
    if json_too_deep(raw):
        raise ApiError(400, texts.NOT_JSON)
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError too
        raise ApiError(400, texts.NOT_JSON) from exc


async def read_model(request: web.Request, model: type[ModelT]) -> ModelT:
    """The JSON body validated as ``model``; every problem becomes a 422 naming its field.

    The middleware has already read the body within the size limit, so this never reads more
    than that limit. A body that is not usable JSON is 400 (parse_json).
    """
    payload = parse_json(await request.read() or b"null")
    try:
        return model.model_validate(payload)
    except PydanticValidationError as problem:
        raise ValidationFailed(fields_from_pydantic(problem)) from problem
