"""Every body the HTTP API reads or writes, declared once as pydantic models.

Handlers validate requests with these (api.errors.read_model) and build every response from
them (``model.model_dump(mode="json")``); api.openapi generates the document's schemas from the
same classes, so what is served and what is documented cannot drift apart. Class names are the
document's component names (``Error``, ``Promotion``, ...), which clients may generate code
from: rename with care.

The promotion request (``PromotionDraft``) is declared in services.promotions, because the
service takes it as its input and services never import the API.

Timestamps: every one the API writes is ISO 8601 in UTC with a ``Z`` and whole seconds
(``2026-11-21T12:00:00Z``), whatever the database hands back (SQLite gives naive datetimes).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.json_schema import SkipJsonSchema

from api.limits import MAX_ID
from scoring.bands import BAND_NAMES, SCORE_MAX, SCORE_MIN
from services.checks import MAX_AGE, MAX_MONTHS, MIN_AGE, MIN_MONTHS
from services.clock import as_aware_utc
from services.events import MAX_BATCH
from services.open_data import MIN_CELL
from services.validation import NI_NUMBER_PATTERN, InvalidNINumber, normalise_ni_number
from texts import api as texts

# -- shared pieces ------------------------------------------------------------------------------


def api_timestamp(moment: datetime) -> str:
    """The API's one timestamp format: ``2026-11-21T12:00:00Z``."""
    return as_aware_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


Timestamp = Annotated[
    datetime,
    PlainSerializer(api_timestamp, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
BandName = Literal["Poor", "Fair", "Good", "Very good", "Excellent"]
assert get_args(BandName) == BAND_NAMES, "BandName must list scoring.bands' names in order"


def _is_none(value: object) -> bool:
    return value is None


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def omitted_if_none(description: str | None = None) -> Any:
    """A response field that is left out of the body, not sent as null, when it has no value
    (``sent_per_minute`` on list items, ``score`` before access is allowed, ...). Declare its
    type as ``X | SkipJsonSchema[None]`` so the document does not offer null either."""
    return Field(
        default=None, exclude_if=_is_none, json_schema_extra=_no_default, description=description
    )


class Request(BaseModel):
    # Unknown fields are refused by name, so a typo is a clear 422 rather than ignored.
    model_config = ConfigDict(extra="forbid")


class Response(BaseModel):
    # No unexpected field can leak into a response (and the document says so).
    model_config = ConfigDict(extra="forbid")


# -- errors -------------------------------------------------------------------------------------


class Error(Response):
    """Every error under /api: a stable code to branch on and a sentence for people (a 422
    adds `fields`: see ValidationError)."""

    error: str = Field(description="A stable machine-readable code, e.g. `unauthorized`.")
    detail: str = Field(description="A human-readable explanation.")


class ValidationError(Response):
    """422: the request body or parameters are invalid."""

    error: Literal["validation"]
    detail: str
    fields: dict[str, str] = Field(
        description="Dotted field path (e.g. `audience.min_score`) to what is wrong."
    )


# -- service and sponsor ------------------------------------------------------------------------


class Health(BaseModel):
    """Liveness and database reachability (served by bot.server, outside /api)."""

    status: Literal["ok", "degraded"]
    database: bool
    mode: Literal["webhook", "polling"]
    sandbox: bool = Field(description="Whether the in-process Bot API stand-in is serving.")
    scheduler_lock: bool = Field(
        description="Whether this instance runs the scheduled jobs and the sender."
    )
    instance: str = Field(description="hostname:pid, or the configured name")


class Sponsor(Response):
    id: int
    name: str


# -- promotions (the request is services.promotions.PromotionDraft) ------------------------------


class Button(Response):
    label: str
    url: str


class Audience(Response):
    min_band: BandName | None
    min_score: int | None = Field(
        description="The effective minimum: the higher of min_score and the floor of min_band."
    )
    postcode_districts: list[str] | None
    max_recipients: int | None


class NoVoucherCodes(Response):
    kind: Literal["none"]


class SharedVoucherCode(Response):
    kind: Literal["shared"]
    code: str = Field(description="The one code everyone who taps Redeem is shown.")


class UniqueVoucherCodes(Response):
    kind: Literal["unique"]
    count: int = Field(description="Codes generated, one per person who taps Redeem.")


Vouchers = Annotated[NoVoucherCodes | SharedVoucherCode | UniqueVoucherCodes, Discriminator("kind")]
PromotionStatus = Literal["scheduled", "sending", "completed", "cancelled", "expired"]
Count = Annotated[int, Field(ge=0)]


class PromotionCounts(Response):
    """Live counts. `targeted`: people in the audience (at creation; once sending, the number
    actually queued). `queued`: waiting or in flight. `sent`, `failed`, `unreachable` (blocked
    the bot or left Telegram), `uncertain` (in flight at a crash, not resent), `cancelled`
    (cancelled, expired or opted out before sending), `redeemed`."""

    targeted: Count
    queued: Count
    sent: Count
    failed: Count
    unreachable: Count
    uncertain: Count
    cancelled: Count
    redeemed: Count


class SentMinute(Response):
    minute: Timestamp
    count: int = Field(ge=1)


class DeliveryEstimate(Response):
    audience: int = Field(
        ge=0, description="People still to send to: the audience before the start."
    )
    send_rate: float = Field(gt=0, description="Messages a second this broadcast goes at.")
    quiet_hours: bool = Field(
        description="Whether sending pauses 21:00-08:00 (free broadcasts do; paid don't)."
    )
    sending_seconds: float = Field(
        ge=0, description="Seconds of sending at that rate (a lower bound: replies share it)."
    )
    estimated_finish: Timestamp = Field(
        description="The start plus the sending time and any quiet hours in between."
    )


class Promotion(Response):
    id: int
    title: str
    text: str
    button: Button | None
    audience: Audience
    starts_at: Timestamp
    expires_at: Timestamp
    vouchers: Vouchers
    status: PromotionStatus = Field(
        description=(
            "`scheduled` until it starts; `sending` once queued; `completed` when nothing "
            "is left to send; `cancelled` (DELETE) or `expired` stop what was still queued."
        )
    )
    created_at: Timestamp
    counts: PromotionCounts
    sent_per_minute: list[SentMinute] | SkipJsonSchema[None] = omitted_if_none(
        "Messages sent per minute (UTC), oldest first; single lookups only."
    )
    paid_broadcast: bool = Field(
        default=False, description="Sent as a paid broadcast (allow_paid_broadcast)."
    )
    delivery_estimate: DeliveryEstimate | SkipJsonSchema[None] = omitted_if_none(
        "How long sending what is left takes (creation and single lookups only)."
    )


class PromotionList(Response):
    promotions: list[Promotion]


# -- partners: payment events -------------------------------------------------------------------


def _ni_number(raw: str) -> str:
    try:
        return normalise_ni_number(raw)
    except InvalidNINumber:
        raise ValueError(texts.NI_NUMBER) from None


NINumber = Annotated[
    str,
    Field(
        max_length=32,
        description="UK National Insurance number; hashed on arrival, never stored in clear. "
        "The pattern is the canonical form; spaces, hyphens and lower case are accepted too.",
        examples=["AB123456C"],
        json_schema_extra={"pattern": NI_NUMBER_PATTERN},
    ),
    AfterValidator(_ni_number),
]
EventId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")]


class EventIn(Request):
    id: EventId = Field(description="Your id for the event: sending it again counts once.")
    ni_number: NINumber
    kind: Literal["bill", "loan_instalment", "rent", "council_tax"]
    outcome: Literal["on_time", "late", "missed"]
    occurred_on: date = Field(
        description="When the payment fell due: within the last six years, not in the future."
    )


class EventBatch(Request):
    events: list[EventIn] = Field(min_length=1, max_length=MAX_BATCH)


class EventResult(Response):
    id: str
    status: Literal["accepted", "held", "duplicate", "refused"]
    reason: str | SkipJsonSchema[None] = omitted_if_none("Why it was held or refused.")


class EventBatchResult(Response):
    received: int
    accepted: int
    held: int = Field(description="Recorded but held for review (see `events[].reason`).")
    duplicates: int
    refused: int
    events: list[EventResult] = Field(
        description="One entry per event, in the order sent. `accepted` means recorded (for "
        "someone not yet registered: kept for 90 days). `held` means recorded but held for "
        "review: more events of one kind in one month about one person than real accounts "
        "produce (at most 3 a month per partner, person and kind). A held event does not "
        "count until Britizen releases it."
    )


# -- partners: yes/no checks (issue 20; the rules are services.checks) ---------------------------


class BandAtLeast(Request):
    """True when the band of the person's latest score is this band or a higher one."""

    name: Literal["band_at_least"]
    value: BandName


class NoMissedPaymentsMonths(Request):
    """True when no payment recorded as missed fell due in the last `value` months (records
    under dispute or held for review are left out, as the score leaves them out)."""

    name: Literal["no_missed_payments_months"]
    value: int = Field(ge=MIN_MONTHS, le=MAX_MONTHS, description="Months, 1 to 72.")


class VerifiedIdentity(Request):
    """True when registration checked the person's NI number and date of birth and the
    account is not locked after wrong NI numbers (someone else may hold the phone)."""

    name: Literal["verified_identity"]


class AgeAtLeast(Request):
    """True when the person is at least `value` years old today (UK date)."""

    name: Literal["age_at_least"]
    value: int = Field(ge=MIN_AGE, le=MAX_AGE, description="Years, 16 to 120.")


Check = Annotated[
    BandAtLeast | NoMissedPaymentsMonths | VerifiedIdentity | AgeAtLeast, Discriminator("name")
]
"""One question from the fixed list, chosen by `name`. There is no `score_at_least`: moving a
threshold over 350-950 would find the exact score by bisection."""
CHECK_TYPES = (BandAtLeast, NoMissedPaymentsMonths, VerifiedIdentity, AgeAtLeast)

ShareCodeText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        description="The citizen's one-time code from /share, e.g. `ABCD-EFGH` (case and "
        "dashes do not matter).",
        examples=["ABCD-EFGH"],
    ),
]
AccessRequestId = Annotated[
    int,
    Field(ge=1, le=MAX_ID, description="An access request of yours that named this check."),
]


class CheckBody(Request):
    """Give exactly one of `code` and `access_request_id`: the citizen's consent. Each buys
    one answer."""

    check: Check
    code: ShareCodeText | SkipJsonSchema[None] = Field(default=None, json_schema_extra=_no_default)
    access_request_id: AccessRequestId | SkipJsonSchema[None] = Field(
        default=None, json_schema_extra=_no_default
    )


class CheckResult(Response):
    """The answer and when it was worked out; nothing else about the person."""

    check: Check
    result: bool
    computed_at: Timestamp


# -- partners: score sharing --------------------------------------------------------------------


class AccessRequestBody(Request):
    ni_number: NINumber
    check: Check | SkipJsonSchema[None] = Field(
        default=None,
        json_schema_extra=_no_default,
        description="The one yes/no question to ask (the citizen sees it before allowing); "
        "answer it with POST /api/v1/checks. Omitted: the request asks to see the score "
        "itself, and the citizen is told so plainly.",
    )


class SharedScore(Response):
    band: BandName
    score: int = Field(ge=SCORE_MIN, le=SCORE_MAX)
    computed_at: Timestamp


class AccessRequest(Response):
    id: int
    status: Literal["pending", "allowed", "denied", "used", "expired"]
    created_at: Timestamp
    expires_at: Timestamp
    score: SharedScore | SkipJsonSchema[None] = omitted_if_none(
        "Once allowed: the score, in this answer only (requests for the score)."
    )
    check: Check | SkipJsonSchema[None] = omitted_if_none(
        "The yes/no question the request asks; absent when it asks for the score."
    )


# -- open data ----------------------------------------------------------------------------------

OpenDataFormat = Literal["json", "csv"]

CellCount = Literal[0] | Annotated[int, Field(ge=MIN_CELL)] | None
"""A published count is 0 or at least MIN_CELL; a suppressed one is null."""


class Cell(Response):
    count: CellCount
    suppressed: bool


class BandCell(Response):
    band: BandName
    min_score: int
    max_score: int
    count: CellCount
    suppressed: bool


class AreaBandCell(Response):
    band: BandName
    count: CellCount
    suppressed: bool


class AreaCells(Response):
    area: str
    total: Cell
    bands: list[AreaBandCell]


class Suppression(Response):
    threshold: int
    note: str = Field(description="Why counts under the threshold are suppressed (primary).")
    complementary: str = Field(
        description="Why further cells are suppressed, so the small ones cannot be worked out "
        "from the rest (complementary)."
    )
    suppressed_cells: int = Field(description="How many cells are suppressed, for both reasons.")


class ScoreBands(Response):
    """JSON-LD: the `@context` maps each field to schema.org or Britizen's vocabulary."""

    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    context: dict[str, Any] = Field(alias="@context")
    type: Literal["schema:Dataset"] = Field(alias="@type")
    name: str
    description: str
    license: str = Field(json_schema_extra={"format": "uri"})
    licence: str
    computed_at: Timestamp
    suppression: Suppression
    total: Cell
    bands: list[BandCell]
    areas: list[AreaCells]


# -- operators: the growth report (services.growth_report; GET /operator/growth) ----------------

RogersStage = Literal["innovators", "early_adopters", "early_majority", "late_majority", "laggards"]
_SMALL = "null when 1 to `min_count` - 1 people (suppressed)."


class Operator(Response):
    id: int
    name: str


class GrowthWeek(Response):
    start: date
    end: date = Field(description="The week is the 7 days before this date's same time.")
    registered: int = Field(description="Accounts existing at the week's end.")
    verified: int = Field(description="Of those, registration completed (today: all).")
    active: int = Field(description="Citizens with at least one recorded action that week.")


class GrowthArea(Response):
    area: str = Field(description="Postcode area (letters of the district), or `unknown`.")
    registered: int | None = Field(description=_SMALL)
    verified: int | None = Field(description=_SMALL)
    new_7d: int | None = Field(description=f"Registered in the last 7 days; {_SMALL}")
    new_28d: int | None = Field(description=f"Registered in the last 28 days; {_SMALL}")
    growth_7d: float | None = Field(description="new_7d / accounts 7 days ago, a fraction.")
    growth_28d: float | None = Field(description="new_28d / accounts 28 days ago, a fraction.")
    population: int | None = Field(description="Eligible population from the operator's file.")
    share: float | None = Field(description="verified / population, a fraction.")
    stage: RogersStage | None


class GrowthFunnel(Response):
    links_made: int = Field(description="Invite links made (one per citizen who asked).")
    opened: int = Field(description="Times a link was opened by someone without an account.")
    registered: int = Field(description="Registrations completed through a live link.")
    verified: int = Field(description="Credited referrals: one per NI number, not after erasure.")


class GrowthGap(Response):
    area: str
    share: float | None
    gap: float | None = Field(description="Median share minus this area's, a fraction.")
    stage: RogersStage


class GrowthReport(Response):
    """The operators' growth report: adoption over time, by area, the referral funnel."""

    computed_at: Timestamp
    registered: int
    verified: int
    min_count: int = Field(description="Per-area counts below this are suppressed (null).")
    population_file: str | None = Field(description="The file's name, if one is set.")
    population_error: str | None = Field(description="Why the population file was not used.")
    median_share: float | None
    weeks: list[GrowthWeek]
    areas: list[GrowthArea]
    funnel: GrowthFunnel
    below_median: list[GrowthGap] = Field(
        description="Areas furthest below the median adoption share, furthest first."
    )
