"""The citizen's side of promotions: the marketing opt-in, /offers and redeeming a voucher.

Promotions are marketing, so nothing reaches anyone who hasn't opted in (asked once after
registration, changeable in /settings). Opting out cancels, in the same transaction, every
promotion message still queued for that person.

Who qualifies for an offer (what /offers lists and what Redeem accepts): the promotion is live
(status ``sending``, started, not expired, not cancelled) and either the person was one of its
recipients (an outbox row for them that isn't cancelled) or the audience is open-ended (no
``max_recipients``) and they match the audience rule now (:func:`in_audience`, the same rule the
fan-out applies in SQL).

Redeeming issues a code once per person per promotion: a unique code to one person only, under
any concurrency. The first statement is a no-op write to the presser's own row, which takes the
row lock (PostgreSQL) or the database write lock (SQLite) before anything is read, so one
person's double taps run one after the other and the second sees the first's redemption; on
PostgreSQL different people take different free codes with ``FOR UPDATE SKIP LOCKED``; and the
unique pairs on ``vouchers`` and ``redemptions`` are the database's last word.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts import citizen_for
from services.clock import Clock, as_aware_utc
from services.promotion_messages import PROMOTION_KIND
from services.promotions import in_audience as promotion_in_audience
from storage.db import Database
from storage.models import Citizen, OutboxMessage, Promotion, Redemption, Score, Sponsor, Voucher
from storage.repositories import citizens
from storage.statuses import OutboxStatus, PromotionStatus, VoucherKind

PAGE_SIZE = 5
"""Offers shown per /offers page (each is its own message, up to ~4,000 characters)."""

OPTED_OUT_ERROR = "opted out"

# PostgreSQL: how long a redeem waits for other people's in-flight redeems of the last free
# codes before saying they're all taken (see OffersService._issue).
LOCKED_RETRIES = 50
LOCKED_RETRY_SECONDS = 0.02

# --------------------------------------------------------------------------------------------
# Refusals: each has its own wording in handlers/offers.py


class OfferError(Exception):
    """Redeem refused; the subclass says why."""


class OfferNotFound(OfferError):
    """No such promotion (only a forged button names one)."""


class OfferNotStarted(OfferError):
    """Not sent yet: nobody has a button for it unless it was forged."""


class OfferEnded(OfferError):
    def __init__(self, expires_at: datetime) -> None:
        super().__init__("offer ended")
        self.expires_at = expires_at


class OfferWithdrawn(OfferError):
    """The sponsor cancelled it."""


class NotForYou(OfferError):
    """Live, but the presser isn't in its audience (and wasn't sent it)."""


class NoVoucher(OfferError):
    """The offer has no voucher to redeem."""


class VouchersGone(OfferError):
    """Every unique code has been issued."""


# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class MarketingChange:
    opted_in: bool
    changed: bool
    """False when the person already had this setting (a second tap)."""
    cancelled: int
    """Promotion messages that were still queued and are now cancelled."""


@dataclass(frozen=True)
class Offer:
    promotion_id: int
    sponsor_name: str
    title: str
    text: str
    button_label: str | None
    button_url: str | None
    expires_at: datetime
    voucher_kind: str
    redeemed_code: str | None
    """The code already revealed to this person, if they redeemed it."""

    @property
    def has_voucher(self) -> bool:
        return self.voucher_kind != VoucherKind.NONE


@dataclass(frozen=True)
class OfferPage:
    offers: list[Offer]
    total: int
    page: int
    pages: int
    opted_in: bool

    @property
    def first(self) -> int:
        """1-based position of the first offer on this page (0 when there are none)."""
        return self.page * PAGE_SIZE + 1 if self.offers else 0

    @property
    def last(self) -> int:
        return self.page * PAGE_SIZE + len(self.offers)


@dataclass(frozen=True)
class RedeemedVoucher:
    promotion_id: int
    code: str
    title: str
    sponsor_name: str
    expires_at: datetime
    again: bool
    """True when this person had redeemed it before: the same code, shown again."""


# --------------------------------------------------------------------------------------------
# The rules, pure


def is_live(promotion: Promotion, now: datetime) -> bool:
    return (
        promotion.status == PromotionStatus.SENDING
        and promotion.cancelled_at is None
        and as_aware_utc(promotion.starts_at) <= now < as_aware_utc(promotion.expires_at)
    )


def in_audience(promotion: Promotion, citizen: Citizen, score: int | None) -> bool:
    """The contract's audience rule, as the fan-out applies it (apart from max_recipients):
    one definition, in services.promotions, tested there against the fan-out's SQL."""
    return promotion_in_audience(
        promotion,
        marketing_opt_in=citizen.marketing_opt_in,
        unreachable=citizen.unreachable_at is not None,
        score=score,
        district=(citizen.postcode_district or "").upper() or None,
    )


def qualifies(
    promotion: Promotion, citizen: Citizen, score: int | None, now: datetime, *, recipient: bool
) -> bool:
    """Live, and sent to them or open to everyone in the audience (the person included)."""
    if not is_live(promotion, now):
        return False
    return recipient or (
        promotion.audience_max_recipients is None and in_audience(promotion, citizen, score)
    )


# --------------------------------------------------------------------------------------------
# The service


class OffersService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    # Opt-in ----------------------------------------------------------------------------------

    async def opted_in(self, telegram_id: int) -> bool:
        async with self._db.transaction() as session:
            return (await citizen_for(session, telegram_id)).marketing_opt_in

    async def claim_ask(self, telegram_id: int) -> bool:
        """True once per person: the moment to ask them about offers (recorded as asked)."""
        async with self._db.transaction() as session:
            result = await session.execute(
                update(Citizen)
                .where(Citizen.telegram_id == telegram_id, Citizen.marketing_asked_at.is_(None))
                .values(marketing_asked_at=self._clock())
            )
            return int(getattr(result, "rowcount", 0) or 0) == 1

    async def release_ask(self, telegram_id: int) -> None:
        """The question claimed by `claim_ask` never reached them: ask again next time.

        Only while they haven't chosen (opting in from /settings meanwhile is an answer)."""
        async with self._db.transaction() as session:
            await session.execute(
                update(Citizen)
                .where(Citizen.telegram_id == telegram_id, Citizen.marketing_opt_in.is_(False))
                .values(marketing_asked_at=None)
            )

    async def set_marketing(self, telegram_id: int, opt_in: bool) -> MarketingChange:
        """Opt in or out. Opting out cancels every promotion message still queued for the
        person, in the same transaction, so nothing more is sent; doing it twice is harmless
        (and sweeps up anything queued in between)."""
        now = self._clock()
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            changed = me.marketing_opt_in != opt_in
            me.marketing_opt_in = opt_in
            if me.marketing_asked_at is None:
                me.marketing_asked_at = now  # answering counts as having been asked
            cancelled = 0
            if not opt_in:
                result = await session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.citizen_id == me.id,
                        OutboxMessage.kind == PROMOTION_KIND,
                        OutboxMessage.status == OutboxStatus.PENDING,
                    )
                    .values(status=OutboxStatus.CANCELLED, last_error=OPTED_OUT_ERROR)
                )
                cancelled = int(getattr(result, "rowcount", 0) or 0)
        return MarketingChange(opted_in=opt_in, changed=changed, cancelled=cancelled)

    # /offers -----------------------------------------------------------------------------------

    async def current_offers(self, telegram_id: int, page: int = 0) -> OfferPage:
        """The live offers this person qualifies for, newest first, one page of them."""
        now = self._clock()
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            score = await _score_of(session, me.id)
            live = (
                await session.execute(
                    select(Promotion, Sponsor.name)
                    .join(Sponsor, Sponsor.id == Promotion.sponsor_id)
                    .where(
                        Promotion.status == PromotionStatus.SENDING,
                        Promotion.cancelled_at.is_(None),
                        Promotion.starts_at <= now,
                        Promotion.expires_at > now,
                    )
                    .order_by(Promotion.starts_at.desc(), Promotion.id.desc())
                )
            ).all()
            ids = [promotion.id for promotion, _ in live]
            received = set(
                (
                    await session.scalars(
                        select(OutboxMessage.promotion_id).where(
                            OutboxMessage.citizen_id == me.id,
                            OutboxMessage.promotion_id.in_(ids),
                            OutboxMessage.status != OutboxStatus.CANCELLED,
                        )
                    )
                ).all()
            )
            codes = {
                promotion_id: code
                for promotion_id, code in (
                    await session.execute(
                        select(Redemption.promotion_id, Redemption.code).where(
                            Redemption.citizen_id == me.id, Redemption.promotion_id.in_(ids)
                        )
                    )
                ).all()
            }
            mine = [
                _offer(promotion, name, codes.get(promotion.id))
                for promotion, name in live
                if qualifies(promotion, me, score, now, recipient=promotion.id in received)
            ]
            opted_in = me.marketing_opt_in
        pages = max(1, -(-len(mine) // PAGE_SIZE))
        page = min(max(page, 0), pages - 1)
        return OfferPage(
            offers=mine[page * PAGE_SIZE : (page + 1) * PAGE_SIZE],
            total=len(mine),
            page=page,
            pages=pages,
            opted_in=opted_in,
        )

    # Redeem -------------------------------------------------------------------------------------

    async def redeem(self, telegram_id: int, promotion_id: int) -> RedeemedVoucher:
        """Reveal the person's voucher code for a promotion and record the redemption once."""
        try:
            return await self._redeem(telegram_id, promotion_id)
        except IntegrityError:
            # Only a race the locks didn't serialise can get here (the unique pairs caught it):
            # whatever was committed is the answer.
            again = await self._existing(telegram_id, promotion_id)
            if again is None:
                raise
            return again

    async def _redeem(self, telegram_id: int, promotion_id: int) -> RedeemedVoucher:
        now = self._clock()
        async with self._db.transaction() as session:
            # The no-op write first: see the module docstring.
            await citizens.lock_by_telegram_id(session, telegram_id)
            me = await citizen_for(session, telegram_id)
            found = (
                await session.execute(
                    select(Promotion, Sponsor.name)
                    .join(Sponsor, Sponsor.id == Promotion.sponsor_id)
                    .where(Promotion.id == promotion_id)
                )
            ).one_or_none()
            if found is None:
                raise OfferNotFound()
            promotion, sponsor_name = found
            earlier = await session.scalar(
                select(Redemption.code).where(
                    Redemption.promotion_id == promotion_id, Redemption.citizen_id == me.id
                )
            )
            if earlier is not None:
                # Already theirs: shown again even if the offer has ended since.
                return _redeemed(promotion, sponsor_name, earlier, again=True)
            if promotion.voucher_kind == VoucherKind.NONE:
                raise NoVoucher()
            await self._check_qualifies(session, promotion, me, now)
            code = await self._issue(session, promotion, me.id, now)
            session.add(
                Redemption(promotion_id=promotion.id, citizen_id=me.id, code=code, redeemed_at=now)
            )
            await session.flush()
            return _redeemed(promotion, sponsor_name, code, again=False)

    async def _check_qualifies(
        self, session: AsyncSession, promotion: Promotion, me: Citizen, now: datetime
    ) -> None:
        if promotion.status == PromotionStatus.CANCELLED or promotion.cancelled_at is not None:
            raise OfferWithdrawn()
        expires_at = as_aware_utc(promotion.expires_at)
        if promotion.status == PromotionStatus.EXPIRED or expires_at <= now:
            raise OfferEnded(expires_at)
        if promotion.status != PromotionStatus.SENDING or as_aware_utc(promotion.starts_at) > now:
            raise OfferNotStarted()
        received = await session.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.promotion_id == promotion.id,
                OutboxMessage.citizen_id == me.id,
                OutboxMessage.status != OutboxStatus.CANCELLED,
            )
        )
        score = await _score_of(session, me.id)
        if not qualifies(promotion, me, score, now, recipient=received is not None):
            raise NotForYou()

    async def _issue(
        self, session: AsyncSession, promotion: Promotion, citizen_id: int, now: datetime
    ) -> str:
        if promotion.voucher_kind == VoucherKind.SHARED:
            assert promotion.voucher_code is not None, "a shared voucher has its code"
            return promotion.voucher_code
        query = (
            select(Voucher)
            .where(Voucher.promotion_id == promotion.id, Voucher.citizen_id.is_(None))
            .order_by(Voucher.id)
            .limit(1)
        )
        voucher = await session.scalar(query if self._db.is_sqlite else _skip_locked(query))
        for _ in range(LOCKED_RETRIES if voucher is None and not self._db.is_sqlite else 0):
            # Every free code we could see was locked by someone else's redeem in flight. If
            # any of those rolls back its code is free again, so "all taken" is only said once
            # no code is left unissued (a plain read sees only committed issues).
            free = await session.scalar(
                select(Voucher.id)
                .where(Voucher.promotion_id == promotion.id, Voucher.citizen_id.is_(None))
                .limit(1)
            )
            if free is None:
                break
            await asyncio.sleep(LOCKED_RETRY_SECONDS)
            voucher = await session.scalar(_skip_locked(query))
            if voucher is not None:
                break
        if voucher is None:
            raise VouchersGone()
        voucher.citizen_id = citizen_id
        voucher.issued_at = now
        await session.flush()
        return voucher.code

    async def _existing(self, telegram_id: int, promotion_id: int) -> RedeemedVoucher | None:
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            found = (
                await session.execute(
                    select(Promotion, Sponsor.name, Redemption.code)
                    .join(Sponsor, Sponsor.id == Promotion.sponsor_id)
                    .join(Redemption, Redemption.promotion_id == Promotion.id)
                    .where(Promotion.id == promotion_id, Redemption.citizen_id == me.id)
                )
            ).one_or_none()
            if found is None:
                return None
            promotion, sponsor_name, code = found
            return _redeemed(promotion, sponsor_name, code or "", again=True)


# --------------------------------------------------------------------------------------------
# Helpers


def _skip_locked(query: Select[Voucher]) -> Select[Voucher]:
    # Parallel redeemers each take a different free code instead of queueing on one.
    return query.with_for_update(skip_locked=True)


async def _score_of(session: AsyncSession, citizen_id: int) -> int | None:
    value: Any = await session.scalar(select(Score.score).where(Score.citizen_id == citizen_id))
    return None if value is None else int(value)


def _offer(promotion: Promotion, sponsor_name: str, code: str | None) -> Offer:
    return Offer(
        promotion_id=promotion.id,
        sponsor_name=sponsor_name,
        title=promotion.title,
        text=promotion.text,
        button_label=promotion.button_label,
        button_url=promotion.button_url,
        expires_at=as_aware_utc(promotion.expires_at),
        voucher_kind=promotion.voucher_kind,
        redeemed_code=code,
    )


def _redeemed(
    promotion: Promotion, sponsor_name: str, code: str, *, again: bool
) -> RedeemedVoucher:
    return RedeemedVoucher(
        promotion_id=promotion.id,
        code=code,
        title=promotion.title,
        sponsor_name=sponsor_name,
        expires_at=as_aware_utc(promotion.expires_at),
        again=again,
    )
