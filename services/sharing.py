"""Score sharing only with consent: one-time codes, partners' access requests, the access log.

A citizen's score leaves Britizen in two ways, both their decision:

- ``/share`` makes a one-time code (valid :data:`CODE_TTL`, single use) that they hand to a
  third party, who reads the score once with ``GET /api/v1/scores/{code}``;
- a partner asks (``POST /api/v1/access-requests`` with the NI number) and the citizen gets
  Allow / Deny buttons; an allowed request can be read once.

Either way the partner gets band, score and computed time, nothing else, and every read is
logged in ``score_accesses`` (what /share lists). Codes are stored only as keyed hashes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts import citizen_for
from services.callbacks import SHARE
from services.clock import Clock, as_aware_utc
from services.errors import ServiceError, StaleAction
from services.languages import citizen_language
from services.secrets import keyed_hash, ni_number_hash
from storage.db import Database
from storage.models import (
    AccessRequest,
    Citizen,
    Partner,
    Score,
    ScoreAccess,
    ShareCode,
)
from storage.repositories import access_requests as manners
from storage.repositories.outbox import enqueue_to_citizen
from storage.statuses import AccessRequestStatus
from texts import api as api_texts
from texts import share as texts
from texts.i18n import worded_in

CODE_TTL = timedelta(minutes=10)
REQUEST_TTL = timedelta(hours=24)
DENIAL_COOL_DOWN = timedelta(days=30)
"""After a Deny, the same partner may not ask about the same person for this long."""
OPEN_REQUESTS_PER_DAY = 500
"""A partner's open (unanswered) requests made in the last 24 hours, at most."""
CODE_PURPOSE = "share-code"
# No 0/O, 1/I/L: a code is read out over the phone or typed from a screen.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_CODE_LENGTH = 8
ACCESS_LOG_SHOWN = 10
SHARING_PRIORITY = 5
ALLOW, DENY, BLOCK = "allow", "deny", "block"


class SharingError(ServiceError):
    """A refusal fit to show; the message is plain English."""


class CodeNotFound(SharingError):
    def __init__(self) -> None:
        super().__init__(api_texts.CODE_NOT_FOUND)


class CodeSpent(SharingError):
    def __init__(self, *, expired: bool) -> None:
        super().__init__(api_texts.CODE_EXPIRED if expired else api_texts.CODE_USED)


class RequestRefused(SharingError):
    """A partner's access request refused by the manners rules (issue 17): HTTP `status`."""

    def __init__(self, status: int, detail: str, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.retry_after = retry_after


class RequestNotFound(SharingError):
    def __init__(self) -> None:
        super().__init__(api_texts.NO_ACCESS_REQUEST)


class NoLongerAvailable(SharingError, StaleAction):
    def __init__(self) -> None:
        super().__init__(texts.REQUEST_CLOSED)


@dataclass(frozen=True)
class PartnerChoices:
    can_block: list[tuple[int, str]]
    blocked: list[tuple[int, str]]


@dataclass(frozen=True)
class SharedScore:
    score: int
    band: str
    computed_at: datetime


@dataclass(frozen=True)
class NewCode:
    code: str
    expires_at: datetime


@dataclass(frozen=True)
class AccessEntry:
    partner: str
    via: str
    at: datetime


@dataclass(frozen=True)
class RequestState:
    id: int
    status: str
    created_at: datetime
    expires_at: datetime
    score: SharedScore | None = None


def normalise_code(raw: str) -> str:
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def request_markup(request_id: int) -> dict[str, Any]:
    return {
        "inline_keyboard": [
            [
                {"text": texts.ALLOW_BUTTON, "callback_data": SHARE.encode(ALLOW, request_id)},
                {"text": texts.DENY_BUTTON, "callback_data": SHARE.encode(DENY, request_id)},
            ],
            [{"text": texts.BLOCK_BUTTON, "callback_data": SHARE.encode(BLOCK, request_id)}],
        ]
    }


class SharingService:
    def __init__(self, db: Database, secret_key: bytes, clock: Clock) -> None:
        self._db = db
        self._key = secret_key
        self._clock = clock

    def _hash(self, code: str) -> str:
        return keyed_hash(self._key, CODE_PURPOSE, normalise_code(code))

    # --- citizen side ---------------------------------------------------------------------

    async def new_code(self, telegram_id: int) -> NewCode:
        """A fresh code; any earlier unused one stops working, so only one is ever live."""
        now = self._clock()
        code = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LENGTH))
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            await session.execute(
                update(ShareCode)
                .where(ShareCode.citizen_id == me.id, ShareCode.used_at.is_(None))
                .values(expires_at=now)
            )
            session.add(
                ShareCode(
                    citizen_id=me.id,
                    code_hash=self._hash(code),
                    created_at=now,
                    expires_at=now + CODE_TTL,
                )
            )
        return NewCode(format_code(code), now + CODE_TTL)

    async def access_log(
        self, telegram_id: int, limit: int = ACCESS_LOG_SHOWN
    ) -> list[AccessEntry]:
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            rows = await session.execute(
                select(Partner.name, ScoreAccess.via, ScoreAccess.accessed_at)
                .join(Partner, Partner.id == ScoreAccess.partner_id)
                .where(ScoreAccess.citizen_id == me.id)
                .order_by(ScoreAccess.accessed_at.desc(), ScoreAccess.id.desc())
                .limit(limit)
            )
            return [AccessEntry(name, via, as_aware_utc(at)) for name, via, at in rows]

    async def answer_request(
        self, telegram_id: int, request_id: int, allow: bool, *, block: bool = False
    ) -> str:
        """Allow or deny a partner's request (`block`: deny, and never again); returns the
        partner's name."""
        now = self._clock()
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            row = await session.get(AccessRequest, request_id)
            if (
                row is None
                or row.citizen_id != me.id
                or row.status != AccessRequestStatus.PENDING
                or as_aware_utc(row.expires_at) <= now
            ):
                raise NoLongerAvailable()
            row.status = AccessRequestStatus.ALLOWED if allow else AccessRequestStatus.DENIED
            row.answered_at = now
            partner = await session.get(Partner, row.partner_id)
            assert partner is not None
            if block and not allow:
                await manners.block(session, me.id, partner.id, now)
            return partner.name

    # --- partner side ---------------------------------------------------------------------

    async def read_with_code(self, partner_id: int, code: str) -> SharedScore:
        now = self._clock()
        async with self._db.transaction() as session:
            row = await session.scalar(
                select(ShareCode).where(ShareCode.code_hash == self._hash(code))
            )
            if row is None:
                raise CodeNotFound()
            if row.used_at is not None:
                raise CodeSpent(expired=False)
            if as_aware_utc(row.expires_at) <= now:
                raise CodeSpent(expired=True)
            # Single use even when two requests race: only one UPDATE finds it unused.
            claimed = await session.execute(
                update(ShareCode)
                .where(ShareCode.id == row.id, ShareCode.used_at.is_(None))
                .values(used_at=now)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                raise CodeSpent(expired=False)
            return await self._read(session, row.citizen_id, partner_id, "code", now)

    async def request_access(self, partner_id: int, canonical_ni: str) -> RequestState:
        """Ask the citizen with this NI number. Unknown numbers get a request that just stays
        pending until it expires, so the answer never says who is registered."""
        now = self._clock()
        ni_hash = ni_number_hash(self._key, canonical_ni)
        async with self._db.transaction() as session:
            citizen = await session.scalar(select(Citizen).where(Citizen.ni_hash == ni_hash))
            partner = await session.get(Partner, partner_id)
            assert partner is not None
            # The daily cap counts every open request, known person or not: it says nothing
            # about who is registered.
            if (
                await manners.open_requests_since(session, partner_id, now - timedelta(days=1))
                >= OPEN_REQUESTS_PER_DAY
            ):
                raise RequestRefused(
                    429,
                    api_texts.too_many_open_requests(OPEN_REQUESTS_PER_DAY),
                    retry_after=3600,
                )
            if citizen is not None:
                await self._check_manners(session, partner_id, citizen.id, now)
                # One open question per partner at a time: asking again doesn't message the
                # citizen again, it answers with the request already waiting.
                waiting = await session.scalar(
                    select(AccessRequest).where(
                        AccessRequest.partner_id == partner_id,
                        AccessRequest.citizen_id == citizen.id,
                        AccessRequest.status == AccessRequestStatus.PENDING,
                        AccessRequest.expires_at > now,
                    )
                )
                if waiting is not None:
                    return RequestState(
                        waiting.id,
                        waiting.status,
                        as_aware_utc(waiting.created_at),
                        as_aware_utc(waiting.expires_at),
                    )
            row = AccessRequest(
                partner_id=partner_id,
                citizen_id=None if citizen is None else citizen.id,
                status=AccessRequestStatus.PENDING,
                created_at=now,
                expires_at=now + REQUEST_TTL,
            )
            session.add(row)
            await session.flush()
            if citizen is not None:
                language = await citizen_language(session, citizen)
                enqueue_to_citizen(
                    session,
                    citizen,
                    worded_in(language, texts.request_text, partner.name),
                    "access_request",
                    now,
                    worded_in(language, request_markup, row.id),
                    priority=SHARING_PRIORITY,
                )
            return RequestState(row.id, row.status, now, now + REQUEST_TTL)

    @staticmethod
    async def _check_manners(
        session: AsyncSession, partner_id: int, citizen_id: int, now: datetime
    ) -> None:
        if await manners.is_blocked(session, citizen_id, partner_id):
            raise RequestRefused(409, api_texts.PARTNER_BLOCKED)
        denied = await manners.last_denial(session, partner_id, citizen_id)
        if denied is not None and as_aware_utc(denied) + DENIAL_COOL_DOWN > now:
            until = as_aware_utc(denied) + DENIAL_COOL_DOWN
            raise RequestRefused(409, api_texts.cooling_down(until.strftime("%Y-%m-%dT%H:%M:%SZ")))

    async def block_partner(self, telegram_id: int, partner_id: int) -> str:
        """Never take requests from this partner again; returns its name."""
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            partner = await session.get(Partner, partner_id)
            if partner is None:
                raise NoLongerAvailable()
            await manners.block(session, me.id, partner_id, self._clock())
            # Anything it asked that is still waiting is answered No.
            await session.execute(
                update(AccessRequest)
                .where(
                    AccessRequest.citizen_id == me.id,
                    AccessRequest.partner_id == partner_id,
                    AccessRequest.status == AccessRequestStatus.PENDING,
                )
                .values(status=AccessRequestStatus.DENIED, answered_at=self._clock())
                .execution_options(synchronize_session=False)
            )
            return partner.name

    async def unblock_partner(self, telegram_id: int, partner_id: int) -> str:
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            partner = await session.get(Partner, partner_id)
            if partner is None or not await manners.unblock(session, me.id, partner_id):
                raise NoLongerAvailable()
            return partner.name

    async def partners(self, telegram_id: int) -> PartnerChoices:
        """Partners in touch with this person (to block) and those blocked (to unblock)."""
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            blocked = await manners.blocked_partners(session, me.id)
            blocked_ids = {pid for pid, _ in blocked}
            in_touch = [
                p
                for p in await manners.partners_in_touch(session, me.id)
                if p[0] not in blocked_ids
            ]
            return PartnerChoices(in_touch, blocked)

    async def read_request(self, partner_id: int, request_id: int) -> RequestState:
        """The request's status; the first read after the citizen allowed it carries the score
        (and uses the permission up)."""
        now = self._clock()
        async with self._db.transaction() as session:
            row = await session.get(AccessRequest, request_id)
            if row is None or row.partner_id != partner_id:
                raise RequestNotFound()
            expires = as_aware_utc(row.expires_at)
            open_statuses = (AccessRequestStatus.PENDING, AccessRequestStatus.ALLOWED)
            if row.status in open_statuses and expires <= now:
                row.status = AccessRequestStatus.EXPIRED
            shared: SharedScore | None = None
            if row.status == AccessRequestStatus.ALLOWED and row.citizen_id is not None:
                claimed = await session.execute(
                    update(AccessRequest)
                    .where(
                        AccessRequest.id == row.id,
                        AccessRequest.status == AccessRequestStatus.ALLOWED,
                    )
                    .values(status=AccessRequestStatus.USED)
                )
                if claimed.rowcount == 1:  # type: ignore[attr-defined]
                    shared = await self._read(session, row.citizen_id, partner_id, "request", now)
                    row.status = AccessRequestStatus.USED
            return RequestState(row.id, row.status, as_aware_utc(row.created_at), expires, shared)

    async def _read(
        self, session: AsyncSession, citizen_id: int, partner_id: int, via: str, now: datetime
    ) -> SharedScore:
        score = await session.get(Score, citizen_id)
        citizen = await session.get(Citizen, citizen_id)
        partner = await session.get(Partner, partner_id)
        assert score is not None and citizen is not None and partner is not None
        session.add(
            ScoreAccess(citizen_id=citizen_id, partner_id=partner_id, via=via, accessed_at=now)
        )
        enqueue_to_citizen(
            session,
            citizen,
            worded_in(
                await citizen_language(session, citizen),
                texts.seen_text,
                partner.name,
                score.band,
                score.score,
                with_code=via == "code",
            ),
            "score_access",
            now,
            priority=SHARING_PRIORITY,
        )
        return SharedScore(score.score, score.band, as_aware_utc(score.computed_at))
