"""``POST /api/v1/checks``: a yes/no answer about a citizen instead of their score (issue 20).

The body names one check from the fixed list (api.schemas.Check; the rules are
services.checks) and the citizen's consent: their one-time code from /share, or an access
request of the partner's that named this very check and that the citizen allowed. The answer
is ``{"check", "result", "computed_at"}`` and nothing else about the person.

Refusals, each JSON naming the reason: 404 for a code or request that does not exist (or is
another partner's), 410 for one expired or already used, 403 ``not_consented`` for a request
not (yet) allowed or that asked something else, 409 for a threshold moved within 90 days
(services.checks.THRESHOLD_LOCK), 422 naming the field for a bad body (an unknown check is
``check.name``).
"""

from __future__ import annotations

from typing import Any, TypeVar, get_args

from aiohttp import web
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from api import schemas
from api.app import PARTNER_KEY, RouteAdder
from api.errors import NOT_CONSENTED, ApiError, ValidationFailed, parse_json, respond
from services.checks import CHECK_NAMES, Check, ThresholdMoved
from services.sharing import (
    CodeNotFound,
    CodeSpent,
    NotConsented,
    RequestNotFound,
    RequestSpent,
    SharingService,
)
from storage.statuses import CheckName
from texts import checks as texts

CHECKS_SHARING_KEY: web.AppKey[SharingService] = web.AppKey("checks_sharing", SharingService)

_TAGS = tuple(get_args(t.model_fields["name"].annotation)[0] for t in schemas.CHECK_TYPES)
assert _TAGS == CHECK_NAMES, "api.schemas.Check must list services.checks' checks in order"
_UNKNOWN_TAG = ("union_tag_invalid", "union_tag_not_found")

ModelT = TypeVar("ModelT", bound=BaseModel)


def check_fields(problem: PydanticValidationError) -> dict[str, str]:
    """Field paths as the partner wrote them: pydantic puts the check's name in the path
    (``check.age_at_least.value``), and says an unknown name in its own words."""
    fields: dict[str, str] = {}
    for item in problem.errors():
        loc, message = [str(part) for part in item["loc"]], item["msg"]
        if loc[:1] == ["check"]:
            # An optional check (access requests) is a union with None: pydantic reports
            # both members, and the null one says only that the value is not null.
            if loc[1:2] == ["none"]:
                continue
            loc = [part for part in loc if not part.startswith("tagged-union[")]
            if item["type"] in _UNKNOWN_TAG and len(loc) == 1:
                loc, message = ["check", "name"], texts.UNKNOWN_CHECK
            elif len(loc) > 2 and loc[1] in _TAGS:
                loc = ["check", *loc[2:]]
        fields.setdefault(".".join(loc) or "body", message)
    return fields


async def read_with_check(request: web.Request, model: type[ModelT]) -> ModelT:
    """Like api.errors.read_model, with check_fields' paths."""
    payload = parse_json(await request.read() or b"null")
    try:
        return model.model_validate(payload)
    except PydanticValidationError as problem:
        raise ValidationFailed(check_fields(problem)) from problem


def to_check(model: BaseModel) -> Check:
    return Check(CheckName(getattr(model, "name")), getattr(model, "value", None))  # noqa: B009


def check_json(check: Check) -> dict[str, Any]:
    out: dict[str, Any] = {"name": check.name.value}
    if check.value is not None:
        out["value"] = check.value
    return out


async def post_check(request: web.Request) -> web.Response:
    body = await read_with_check(request, schemas.CheckBody)
    if body.code is None and body.access_request_id is None:
        raise ValidationFailed({"code": texts.NO_CONSENT})
    if body.code is not None and body.access_request_id is not None:
        raise ValidationFailed({"access_request_id": texts.BOTH_CONSENTS})
    try:
        answer = await request.app[CHECKS_SHARING_KEY].answer_check(
            request[PARTNER_KEY].id,
            to_check(body.check),
            code=body.code,
            request_id=body.access_request_id,
        )
    except (CodeNotFound, RequestNotFound) as problem:
        raise ApiError(404, str(problem)) from None
    except (CodeSpent, RequestSpent) as problem:
        raise ApiError(410, str(problem)) from None
    except NotConsented as problem:
        raise ApiError(403, str(problem), error=NOT_CONSENTED) from None
    except ThresholdMoved as moved:
        raise ApiError(409, str(moved)) from None
    return respond(
        schemas.CheckResult.model_validate(
            {
                "check": check_json(answer.check),
                "result": answer.result,
                "computed_at": answer.computed_at,
            }
        )
    )


def check_routes(sharing: SharingService) -> RouteAdder:
    def add(app: web.Application) -> None:
        app[CHECKS_SHARING_KEY] = sharing
        app.router.add_post("/checks", post_check, name="partner.checks")

    return add
