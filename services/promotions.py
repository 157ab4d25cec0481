"""Sponsors' promotions: create, list, look up and cancel; the audience rule; vouchers; counts.

The request shape and its rules are the pydantic models below (one place: the HTTP API reads
its body with them, and the OpenAPI document is generated from them). Rules that need the
clock (expiry in the future, after the start) are checked by PromotionService.create.

The audience (contract of issue 6): opted-in, reachable citizens; if a minimum score is set,
their current score is at least it (no score row: not included); if districts are set, their
postcode district is one of them; at most ``max_recipients`` people, lowest citizen id first.
``audience_select`` is that rule as one SQL query, shared by the count at creation and by the
fan-out's INSERT ... SELECT, so the number a sponsor is told is the number the engine uses.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.bands import BAND_FLOORS, BAND_NAMES
from services.clock import Clock, as_aware_utc, system_clock
from services.delivery_estimate import DeliveryEstimate, estimate_delivery
from services.promotion_messages import (
    MAX_BUTTON_LABEL_LENGTH,
    MAX_BUTTON_URL_LENGTH,
    MAX_TEXT_LENGTH,
    MAX_TITLE_LENGTH,
)
from services.sponsor_text import HttpsUrl, PlainLine, PlainText, UtcDatetime
from services.validation import InvalidPostcode, normalise_postcode_district
from storage.db import Database
from storage.models import Citizen, Promotion, Score
from storage.repositories import outbox, promotions
from storage.statuses import OutboxStatus, PromotionStatus

# -- limits --------------------------------------------------------------------------------------

MAX_VOUCHER_CODE_LENGTH = 64
MAX_UNIQUE_VOUCHERS = 100_000
MAX_DISTRICTS = 500
MAX_RECIPIENTS = 10_000_000
# A promotion is an offer, not a standing order: it starts within a year and lasts at most one.
MAX_LEAD_TIME = timedelta(days=366)
MAX_DURATION = timedelta(days=366)
# The settings' defaults (bot/settings.py), until bot/service.py configures the real ones.
DEFAULT_SEND_RATE = 25.0
DEFAULT_PAID_SEND_RATE = 1000.0


def _known_band(name: str) -> str:
    if name not in BAND_NAMES:
        listed = ", ".join(f"'{band}'" for band in BAND_NAMES[:-1])
        raise PydanticCustomError(
            "literal_error", f"Input should be {listed} or '{BAND_NAMES[-1]}'"
        )
    return name


BandName = Annotated[
    str, AfterValidator(_known_band), WithJsonSchema({"type": "string", "enum": list(BAND_NAMES)})
]
"""A band name from scoring.bands (the one table), as a promotion's min_band."""

# Unique codes: uppercase letters and digits without the look-alikes 0/O, 1/I/L. 31 symbols,
# 10 of them per code: 31**10 is about 8e14, so 100,000 codes collide with odds of ~1e-5
# (and a collision is simply drawn again).
VOUCHER_ALPHABET = "".join(ch for ch in string.ascii_uppercase + string.digits if ch not in "0O1IL")
VOUCHER_CODE_LENGTH = 10

# Outbox statuses as the sponsor sees them.
COUNT_NAMES = ("targeted", "queued", "sent", "failed", "unreachable", "uncertain", "cancelled")


# -- the request -----------------------------------------------------------------------------


def telegram_length(value: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (most emoji count as two)."""
    return len(value.encode("utf-16-le")) // 2


def _max_telegram_length(limit: int) -> AfterValidator:
    def check(value: str) -> str:
        if telegram_length(value) > limit:
            raise PydanticCustomError(
                "telegram_length",
                "must be at most {limit} characters as Telegram counts them "
                "(most emoji count as two)",
                {"limit": limit},
            )
        return value

    return AfterValidator(check)


def _district(value: str) -> str:
    try:
        return normalise_postcode_district(value)
    except InvalidPostcode as exc:
        raise PydanticCustomError("postcode_district", exc.message) from exc


def _unique_districts(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


StrictInt = Annotated[int, Field(strict=True)]
# JSON Schema counts code points; Telegram counts UTF-16 units, which no schema can express.
_UTF16 = "The length limit is counted as Telegram counts it: most emoji count as two."


class _Model(BaseModel):
    # Unknown fields are refused by name, so a typo ("expire_at") is a clear 422, not ignored.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ButtonIn(_Model):
    """An optional link button under the message."""

    label: Annotated[
        PlainLine, Field(min_length=1, max_length=MAX_BUTTON_LABEL_LENGTH, description="Its text."),
        _max_telegram_length(MAX_BUTTON_LABEL_LENGTH),
    ]  # fmt: skip
    url: Annotated[
        HttpsUrl,
        Field(
            min_length=1, max_length=MAX_BUTTON_URL_LENGTH,
            description="An https:// URL on a DNS host name (ASCII; `xn--` for international "
            "names): no user info, port or IP address (services.sponsor_text).",
        ),
    ]  # fmt: skip


class AudienceIn(_Model):
    """Who receives it. Only citizens who opted in to offers and can be reached, always."""

    min_band: BandName | None = Field(
        default=None, description="At least this score band (its floor is used as a minimum)."
    )
    min_score: Annotated[StrictInt, Field(ge=350, le=950)] | None = Field(
        default=None, description="At least this current score (350-950)."
    )
    postcode_districts: (
        Annotated[
            list[Annotated[str, AfterValidator(_district)]],
            Field(min_length=1, max_length=MAX_DISTRICTS),
            AfterValidator(_unique_districts),
        ]
        | None
    ) = Field(default=None, description="Only these postcode districts, e.g. `SO17`.")
    max_recipients: Annotated[StrictInt, Field(ge=1, le=MAX_RECIPIENTS)] | None = Field(
        default=None, description="At most this many people (lowest citizen id first)."
    )

    def effective_min_score(self) -> int | None:
        """The higher of min_score and the floor of min_band (what the audience uses)."""
        floors = [
            value
            for value in (self.min_score, BAND_FLOORS.get(self.min_band or ""))
            if value is not None
        ]
        return max(floors) if floors else None


class NoVouchers(_Model):
    kind: Literal["none"]


class SharedVoucher(_Model):
    """One code shown to everyone who taps Redeem."""

    kind: Literal["shared"]
    code: Annotated[PlainLine, Field(min_length=1, max_length=MAX_VOUCHER_CODE_LENGTH)]


class UniqueVouchers(_Model):
    """``count`` distinct codes made by Britizen, one per person who taps Redeem."""

    kind: Literal["unique"]
    count: Annotated[StrictInt, Field(ge=1, le=MAX_UNIQUE_VOUCHERS)]


VouchersIn = Annotated[
    NoVouchers | SharedVoucher | UniqueVouchers,
    Discriminator(
        "kind",
        custom_error_type="voucher_kind",
        custom_error_message="kind must be one of 'none', 'shared' or 'unique'",
    ),
]


class PromotionDraft(_Model):
    """The body of ``POST /api/v1/promotions``."""

    title: Annotated[
        PlainLine, Field(min_length=1, max_length=MAX_TITLE_LENGTH, description=_UTF16),
        _max_telegram_length(MAX_TITLE_LENGTH),
    ]  # fmt: skip
    text: Annotated[
        PlainText,
        Field(
            min_length=1, max_length=MAX_TEXT_LENGTH,
            description=f"Plain text, no markup; lines separated by `\\n`. {_UTF16}",
        ),
        _max_telegram_length(MAX_TEXT_LENGTH),
    ]  # fmt: skip
    button: ButtonIn | None = None
    audience: AudienceIn = Field(default_factory=AudienceIn)
    starts_at: UtcDatetime | None = Field(
        default=None,
        description="ISO 8601 with a UTC offset; null or omitted (or in the past) means now.",
    )
    expires_at: UtcDatetime = Field(
        description="ISO 8601 with a UTC offset; in the future and after starts_at."
    )
    vouchers: VouchersIn = Field(default_factory=lambda: NoVouchers(kind="none"))
    paid_broadcast: bool = Field(
        default=False,
        description=(
            "Send as a paid broadcast (Telegram's allow_paid_broadcast, charged in Stars): up "
            "to 1,000 messages a second at any hour, instead of the free rate in the day only."
        ),
    )


# -- results and errors ----------------------------------------------------------------------


class PromotionNotFound(Exception):
    """No promotion with that id belongs to this sponsor (another sponsor's looks the same)."""


class InvalidPromotion(ValueError):
    """Fields that failed a rule needing more than the body (the clock); path -> message."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


@dataclass(frozen=True)
class SentMinute:
    minute: datetime
    count: int


@dataclass(frozen=True)
class PromotionView:
    """A promotion with its live counts, as the sponsor sees it."""

    promotion: Promotion
    counts: dict[str, int]
    sent_per_minute: list[SentMinute] | None = None
    estimate: DeliveryEstimate | None = None

    @property
    def status(self) -> str:
        # Fanned out and nothing left to send: the sponsor sees "completed".
        if self.promotion.status == PromotionStatus.SENDING and self.counts.get("queued", 0) == 0:
            return "completed"
        return self.promotion.status


@dataclass
class _Counts:
    by_status: dict[str, int] = field(default_factory=dict)
    redeemed: int = 0


# -- the audience ------------------------------------------------------------------------------


def audience_select(
    *columns: Any,
    min_score: int | None,
    districts: Sequence[str] | None,
    max_recipients: int | None,
    ids: tuple[int, int] | None = None,
) -> Select[Any]:
    """The audience rule as one query selecting ``columns`` (Citizen/Score columns, literals).

    `ids` (after, through) limits it to citizen ids in that range: one chunk of a fan-out.
    """
    query = (
        select(*columns)
        .select_from(Citizen)
        .where(Citizen.marketing_opt_in.is_(True), Citizen.unreachable_at.is_(None))
    )
    if ids is not None:
        query = query.where(Citizen.id > ids[0], Citizen.id <= ids[1])
    if min_score is not None:
        # An inner join: someone with no score yet is not in a score-limited audience.
        query = query.join(Score, Score.citizen_id == Citizen.id).where(Score.score >= min_score)
    if districts:
        query = query.where(Citizen.postcode_district.in_(list(districts)))
    if max_recipients is not None:
        # Only a cap needs an order (lowest ids first). Without one the rows go in as the scan
        # finds them: sorting 100,000 rows that carry the message text spilled to disk on
        # PostgreSQL, for an order nobody relies on (the dispatcher orders by priority, id).
        query = query.order_by(Citizen.id).limit(max_recipients)
    return query


def promotion_audience(promotion: Promotion, *columns: Any) -> Select[Any]:
    return audience_select(
        *columns,
        min_score=promotion.audience_min_score,
        districts=promotion.audience_districts,
        max_recipients=promotion.audience_max_recipients,
    )


def promotion_audience_chunk(
    promotion: Promotion, ids: tuple[int, int], room: int | None, *columns: Any
) -> Select[Any]:
    """One chunk of the audience: citizen ids in (after, through], at most `room` of them
    (what a max_recipients cap leaves after the chunks before; lowest ids first, as the whole
    audience's cap would take them)."""
    return audience_select(
        *columns,
        min_score=promotion.audience_min_score,
        districts=promotion.audience_districts,
        max_recipients=room,
        ids=ids,
    )


def in_audience(
    promotion: Promotion,
    *,
    marketing_opt_in: bool,
    unreachable: bool,
    score: int | None,
    district: str | None,
) -> bool:
    """The same rule for one person in Python (for /offers); max_recipients is not applied
    here (it depends on everyone else), the fan-out's queued rows are the truth for that."""
    if not marketing_opt_in or unreachable:
        return False
    if promotion.audience_min_score is not None and (
        score is None or score < promotion.audience_min_score
    ):
        return False
    return not (promotion.audience_districts and district not in promotion.audience_districts)


# -- vouchers --------------------------------------------------------------------------------


def generate_voucher_codes(count: int) -> list[str]:
    """``count`` distinct random codes (see VOUCHER_ALPHABET), from the OS's CSPRNG.

    Vectorised: random bytes below 248 (= 8 x 31) taken modulo 31 are uniform over the alphabet,
    so there is no modulo bias and no Python loop per character.
    """
    alphabet = np.frombuffer(VOUCHER_ALPHABET.encode(), dtype=np.uint8)
    size = len(VOUCHER_ALPHABET)
    limit = 256 - 256 % size
    codes: set[str] = set()
    while len(codes) < count:
        missing = count - len(codes)
        needed = missing * VOUCHER_CODE_LENGTH
        raw = np.frombuffer(secrets.token_bytes(needed * 2 + 64), dtype=np.uint8)
        raw = raw[raw < limit][:needed]
        if len(raw) < needed:
            continue  # astronomically unlikely: draw again
        chars = alphabet[raw % size].reshape(missing, VOUCHER_CODE_LENGTH)
        codes.update(row.tobytes().decode() for row in chars)
    return list(codes)


# -- the service -------------------------------------------------------------------------------


class PromotionService:
    def __init__(
        self, db: Database, clock: Clock = system_clock, timezone: ZoneInfo | None = None
    ) -> None:
        self._db = db
        self._clock = clock
        self._timezone = timezone or ZoneInfo("Europe/London")
        self.configure_delivery()

    def configure_delivery(
        self,
        *,
        send_rate: float = DEFAULT_SEND_RATE,
        paid_send_rate: float = DEFAULT_PAID_SEND_RATE,
        quiet_hours: bool = True,
    ) -> None:
        """The rates and hours broadcasts go at (the settings'), for the sponsor's estimate."""
        self.send_rate = send_rate
        self.paid_send_rate = paid_send_rate
        self.quiet_hours = quiet_hours

    def estimate(self, promotion: Promotion, audience: int) -> DeliveryEstimate:
        """How long sending to `audience` people takes, from the promotion's start."""
        return estimate_delivery(
            audience,
            as_aware_utc(promotion.starts_at),
            send_rate=self.send_rate,
            paid_send_rate=self.paid_send_rate,
            paid_broadcast=bool(promotion.paid_broadcast),
            quiet_hours=self.quiet_hours,
            timezone=self._timezone,
        )

    def _check_times(self, draft: PromotionDraft, now: datetime) -> tuple[datetime, datetime]:
        problems: dict[str, str] = {}
        starts = now if draft.starts_at is None else max(as_aware_utc(draft.starts_at), now)
        expires = as_aware_utc(draft.expires_at)
        if expires <= now:
            problems["expires_at"] = "must be in the future"
        elif expires <= starts:
            problems["expires_at"] = "must be after starts_at"
        elif expires - starts > MAX_DURATION:
            problems["expires_at"] = f"must be at most {MAX_DURATION.days} days after the start"
        if starts - now > MAX_LEAD_TIME:
            problems["starts_at"] = f"must be within {MAX_LEAD_TIME.days} days from now"
        if problems:
            raise InvalidPromotion(problems)
        return starts, expires

    async def create(self, sponsor_id: int, draft: PromotionDraft) -> PromotionView:
        """Store a promotion (and its unique vouchers) and count its audience right now.

        Status is ``scheduled``; the fan-out (notifications.promotions) queues it when its
        start comes. Raises InvalidPromotion for rules that need the clock.
        """
        now = self._clock()
        starts, expires = self._check_times(draft, now)
        audience = draft.audience
        vouchers = draft.vouchers
        promotion = Promotion(
            sponsor_id=sponsor_id,
            title=draft.title,
            text=draft.text,
            button_label=draft.button.label if draft.button else None,
            button_url=draft.button.url if draft.button else None,
            audience_min_band=audience.min_band,
            audience_min_score=audience.effective_min_score(),
            audience_districts=audience.postcode_districts,
            audience_max_recipients=audience.max_recipients,
            starts_at=starts,
            expires_at=expires,
            voucher_kind=vouchers.kind,
            voucher_code=vouchers.code if isinstance(vouchers, SharedVoucher) else None,
            voucher_count=vouchers.count if isinstance(vouchers, UniqueVouchers) else None,
            status=PromotionStatus.SCHEDULED.value,
            targeted=0,
            created_at=now,
            paid_broadcast=draft.paid_broadcast,
        )
        codes = (
            generate_voucher_codes(vouchers.count) if isinstance(vouchers, UniqueVouchers) else []
        )
        async with self._db.transaction() as session:
            session.add(promotion)
            await session.flush()
            if codes:
                await promotions.insert_vouchers(
                    session, promotion.id, codes, postgresql=not self._db.is_sqlite
                )
            matched = promotion_audience(promotion, Citizen.id).subquery()
            promotion.targeted = int(
                await session.scalar(select(func.count()).select_from(matched)) or 0
            )
        return PromotionView(
            promotion,
            self._empty_counts(promotion),
            estimate=self.estimate(promotion, promotion.targeted),
        )

    async def list_for(self, sponsor_id: int) -> list[PromotionView]:
        """The sponsor's promotions, newest first, each with its live counts."""
        async with self._db.transaction() as session:
            found = await promotions.of_sponsor(session, sponsor_id)
            counts = await self._counts(session, promotions.ids_of_sponsor(sponsor_id))
        return [PromotionView(p, self._as_counts(p, counts.get(p.id))) for p in found]

    async def get(self, sponsor_id: int, promotion_id: int) -> PromotionView:
        """One promotion with its counts and sends per minute; PromotionNotFound if it is not
        this sponsor's."""
        async with self._db.transaction() as session:
            promotion = await self._owned(session, sponsor_id, promotion_id)
            counts = await self._counts(session, [promotion.id])
            minutes = await self._sent_per_minute(session, promotion.id)
        shown = self._as_counts(promotion, counts.get(promotion.id))
        # Still to send: the whole audience before the fan-out, what is queued after it.
        left = (
            promotion.targeted if promotion.status == PromotionStatus.SCHEDULED else shown["queued"]
        )
        return PromotionView(promotion, shown, minutes, self.estimate(promotion, left))

    async def cancel(self, sponsor_id: int, promotion_id: int) -> PromotionView:
        """Stop a promotion: nothing more is sent. Idempotent; an expired one stays expired."""
        now = self._clock()
        async with self._db.transaction() as session:
            # The write comes first: it takes the row lock (PostgreSQL) or the write lock
            # (SQLite), so a fan-out of this promotion either finished before it (and its rows
            # are cancelled below) or starts after it (and finds the promotion cancelled).
            await promotions.cancel(session, sponsor_id, promotion_id, now)
            promotion = await self._owned(session, sponsor_id, promotion_id)
            if promotion.status == PromotionStatus.CANCELLED:
                await outbox.cancel_pending(session, [promotion_id], "cancelled by the sponsor")
        return await self.get(sponsor_id, promotion_id)

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    async def _owned(session: AsyncSession, sponsor_id: int, promotion_id: int) -> Promotion:
        promotion = await promotions.owned(session, sponsor_id, promotion_id)
        if promotion is None:
            raise PromotionNotFound(promotion_id)
        return promotion

    @staticmethod
    async def _counts(
        session: AsyncSession, wanted: Collection[int] | Select[Any]
    ) -> dict[int, _Counts]:
        """Counts per promotion for ``wanted`` (a list of ids, or a subquery of them)."""
        counts: dict[int, _Counts] = {}
        for promotion_id, status, count in await promotions.outbox_counts(session, wanted):
            counts.setdefault(promotion_id, _Counts()).by_status[status] = count
        for promotion_id, count in await promotions.redemption_counts(session, wanted):
            counts.setdefault(promotion_id, _Counts()).redeemed = count
        return counts

    @staticmethod
    def _empty_counts(promotion: Promotion) -> dict[str, int]:
        return PromotionService._as_counts(promotion, None)

    @staticmethod
    def _as_counts(promotion: Promotion, counts: _Counts | None) -> dict[str, int]:
        counts = counts or _Counts()
        by_status = counts.by_status
        # Finished rows are pruned after a while (notifications.housekeeping); what they were
        # is kept on the promotion, so each figure is the counter plus the rows still there.
        return {
            "targeted": promotion.targeted,
            "queued": by_status.get(OutboxStatus.PENDING, 0)
            + by_status.get(OutboxStatus.SENDING, 0),
            "sent": by_status.get(OutboxStatus.SENT, 0) + (promotion.pruned_sent or 0),
            "failed": by_status.get(OutboxStatus.FAILED, 0) + (promotion.pruned_failed or 0),
            "unreachable": by_status.get(OutboxStatus.UNREACHABLE, 0)
            + (promotion.pruned_unreachable or 0),
            "uncertain": by_status.get(OutboxStatus.UNCERTAIN, 0)
            + (promotion.pruned_uncertain or 0),
            "cancelled": by_status.get(OutboxStatus.CANCELLED, 0)
            + (promotion.pruned_cancelled or 0),
            "redeemed": counts.redeemed,
        }

    async def _sent_per_minute(self, session: AsyncSession, promotion_id: int) -> list[SentMinute]:
        rows = await promotions.sent_per_minute(session, promotion_id, sqlite=self._db.is_sqlite)
        return [
            SentMinute(as_aware_utc(datetime.strptime(minute, "%Y-%m-%d %H:%M")), count)
            for minute, count in rows
        ]
