"""Sharing only with consent: one-time codes, partners' access requests, the access log.

What a partner learns about a citizen is always the citizen's decision, in two ways:

- ``/share`` makes a one-time code (valid :data:`CODE_TTL`, single use) that they hand to a
  third party. By default it answers one yes/no question (``POST /api/v1/checks``,
  services.checks); only if the citizen explicitly chose "share my score" does it also
  read the score (``GET /api/v1/scores/{code}``), else that is refused (:class:`ScoreNotShared`);
- a partner asks (``POST /api/v1/access-requests`` with the NI number) either one named yes/no
  question or, plainly, the score; the citizen's Allow / Deny prompt shows which. An allowed
  request is answered once, and only what it asked.

One consent buys one answer, and every answer is logged in ``score_accesses`` (what /share
lists: for a check, the question and the answer) and told to the citizen. Codes are stored only
as keyed hashes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts import citizen_for
from services.callbacks import SHARE
from services.checks import Check, CheckAnswer, check_threshold, evaluate, facts_for
from services.clock import Clock, as_aware_utc
from services.errors import ServiceError, StaleAction
from services.languages import citizen_language
from services.ni_claims import refuse_if_frozen
from services.score_history import effective_stamp
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
from storage.repositories.score_history import latest_finished_pass
from storage.statuses import AccessRequestStatus, ShareScope
from texts import api as api_texts
from texts import checks as check_texts
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
_UK_TIME = ZoneInfo("Europe/London")


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


class ScoreNotShared(SharingError):
    """A yes/no-only code used to read the score (HTTP 403 ``score_not_shared``)."""

    def __init__(self) -> None:
        super().__init__(check_texts.SCORE_NOT_SHARED)


class NotConsented(SharingError):
    """An access request that doesn't allow this answer (not yet, denied, or another
    question): HTTP 403 ``not_consented``."""


class RequestSpent(SharingError):
    """An access request that expired or was already answered (HTTP 410)."""


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
    shares_score: bool = False
    """The citizen chose "share my score"; otherwise the code answers one yes/no question."""


@dataclass(frozen=True)
class AccessEntry:
    partner: str
    via: str
    at: datetime
    check: Check | None = None
    """The question asked; None: the score was read."""
    answer: bool | None = None


@dataclass(frozen=True)
class RequestState:
    id: int
    status: str
    created_at: datetime
    expires_at: datetime
    score: SharedScore | None = None
    check: Check | None = None
    """The one question the request asks; None: it asks for the score."""


@dataclass(frozen=True)
class Answered:
    """A citizen's answer to a request: the partner's name and what it had asked."""

    partner: str
    check: Check | None


def _request_check(row: AccessRequest) -> Check | None:
    return None if row.check_name is None else Check.from_stored(row.check_name, row.check_value)


def _state(row: AccessRequest, score: SharedScore | None = None) -> RequestState:
    return RequestState(
        row.id,
        row.status,
        as_aware_utc(row.created_at),
        as_aware_utc(row.expires_at),
        score,
        _request_check(row),
    )


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
    def __init__(
        self,
        db: Database,
        secret_key: bytes,
        clock: Clock,
        timezone: ZoneInfo = _UK_TIME,
    ) -> None:
        self._db = db
        self._key = secret_key
        self._clock = clock
        self._tz = timezone  # checks' "today" (birthdays, months)

    def _hash(self, code: str) -> str:
        return keyed_hash(self._key, CODE_PURPOSE, normalise_code(code))

    # --- citizen side ---------------------------------------------------------------------

    async def new_code(self, telegram_id: int, *, share_score: bool = False) -> NewCode:
        """A fresh code; any earlier unused one stops working, so only one is ever live.
        It answers one yes/no question unless the citizen chose to share the score."""
        now = self._clock()
        code = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LENGTH))
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            await refuse_if_frozen(session, me.id)  # NI number claimed (services.ni_claims)
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
                    scope=ShareScope.SCORE if share_score else ShareScope.CHECKS,
                )
            )
        return NewCode(format_code(code), now + CODE_TTL, share_score)

    async def access_log(
        self, telegram_id: int, limit: int = ACCESS_LOG_SHOWN
    ) -> list[AccessEntry]:
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            rows = await session.execute(
                select(Partner.name, ScoreAccess)
                .join(Partner, Partner.id == ScoreAccess.partner_id)
                .where(ScoreAccess.citizen_id == me.id)
                .order_by(ScoreAccess.accessed_at.desc(), ScoreAccess.id.desc())
                .limit(limit)
            )
            return [
                AccessEntry(
                    name,
                    row.via,
                    as_aware_utc(row.accessed_at),
                    None
                    if row.check_name is None
                    else Check.from_stored(row.check_name, row.check_value),
                    row.answer,
                )
                for name, row in rows
            ]

    async def answer_request(
        self, telegram_id: int, request_id: int, allow: bool, *, block: bool = False
    ) -> Answered:
        """Allow or deny a partner's request (`block`: deny, and never again); returns the
        partner's name and what the request asked."""
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
            if allow:
                await refuse_if_frozen(session, me.id)  # NI number claimed (services.ni_claims)
            row.status = AccessRequestStatus.ALLOWED if allow else AccessRequestStatus.DENIED
            row.answered_at = now
            partner = await session.get(Partner, row.partner_id)
            assert partner is not None
            if block and not allow:
                await manners.block(session, me.id, partner.id, now)
            return Answered(partner.name, _request_check(row))

    # --- partner side ---------------------------------------------------------------------

    async def read_with_code(self, partner_id: int, code: str) -> SharedScore:
        """The score, if the citizen made this code to share it (else ScoreNotShared, and the
        code still works for one yes/no question)."""
        now = self._clock()
        async with self._db.transaction() as session:
            row = await self._live_code(session, code, now)
            if row.scope != ShareScope.SCORE:
                raise ScoreNotShared()
            await self._use_code(session, row, now)
            return await self._read(session, row.citizen_id, partner_id, "code", now)

    async def answer_check(
        self,
        partner_id: int,
        check: Check,
        *,
        code: str | None = None,
        request_id: int | None = None,
    ) -> CheckAnswer:
        """One yes/no answer, with the citizen's code or allowed request (exactly one of the
        two), logged and told to the citizen. The consent is used up only by an answer."""
        assert (code is None) != (request_id is None)
        now = self._clock()
        async with self._db.transaction() as session:
            if code is not None:
                live = await self._live_code(session, code, now)
                citizen_id, via = live.citizen_id, "code"
                await check_threshold(session, partner_id, citizen_id, check, now)
                await self._use_code(session, live, now)
            else:
                assert request_id is not None
                asked = await self._allowed_request(session, partner_id, request_id, now)
                if _request_check(asked) is None:
                    raise NotConsented(check_texts.REQUEST_FOR_SCORE)
                if _request_check(asked) != check:
                    raise NotConsented(check_texts.OTHER_QUESTION)
                assert asked.citizen_id is not None
                citizen_id, via = asked.citizen_id, "request"
                await check_threshold(session, partner_id, citizen_id, check, now)
                await self._use_request(session, asked)
            result = evaluate(check, await facts_for(session, citizen_id, now, self._tz))
            await self._log(session, citizen_id, partner_id, via, now, check, result)
            return CheckAnswer(check, result, now)

    async def _live_code(self, session: AsyncSession, code: str, now: datetime) -> ShareCode:
        row = await session.scalar(select(ShareCode).where(ShareCode.code_hash == self._hash(code)))
        if row is None:
            raise CodeNotFound()
        if row.used_at is not None:
            raise CodeSpent(expired=False)
        if as_aware_utc(row.expires_at) <= now:
            raise CodeSpent(expired=True)
        return row

    @staticmethod
    async def _use_code(session: AsyncSession, row: ShareCode, now: datetime) -> None:
        # Single use even when two requests race: only one UPDATE finds it unused.
        claimed = await session.execute(
            update(ShareCode)
            .where(ShareCode.id == row.id, ShareCode.used_at.is_(None))
            .values(used_at=now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise CodeSpent(expired=False)

    @staticmethod
    async def _allowed_request(
        session: AsyncSession, partner_id: int, request_id: int, now: datetime
    ) -> AccessRequest:
        row = await session.get(AccessRequest, request_id)
        if row is None or row.partner_id != partner_id:
            raise RequestNotFound()
        if row.status == AccessRequestStatus.USED:
            raise RequestSpent(check_texts.REQUEST_USED)
        if row.status == AccessRequestStatus.EXPIRED or as_aware_utc(row.expires_at) <= now:
            raise RequestSpent(check_texts.REQUEST_EXPIRED)
        if row.status == AccessRequestStatus.PENDING:
            raise NotConsented(check_texts.REQUEST_PENDING)
        if row.status != AccessRequestStatus.ALLOWED:
            raise NotConsented(check_texts.REQUEST_DENIED)
        return row

    @staticmethod
    async def _use_request(session: AsyncSession, row: AccessRequest) -> None:
        # Answered once even when two requests race: only one UPDATE finds it allowed.
        claimed = await session.execute(
            update(AccessRequest)
            .where(
                AccessRequest.id == row.id,
                AccessRequest.status == AccessRequestStatus.ALLOWED,
            )
            .values(status=AccessRequestStatus.USED)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise RequestSpent(check_texts.REQUEST_USED)

    async def request_access(
        self, partner_id: int, canonical_ni: str, check: Check | None = None
    ) -> RequestState:
        """Ask the citizen with this NI number one yes/no question (``check``) or, with none,
        to see the score. Unknown numbers get a request that just stays pending until it
        expires, so the answer never says who is registered."""
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
                if check is not None:
                    await check_threshold(session, partner_id, citizen.id, check, now)
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
                    return _state(waiting)
            row = AccessRequest(
                partner_id=partner_id,
                citizen_id=None if citizen is None else citizen.id,
                status=AccessRequestStatus.PENDING,
                created_at=now,
                expires_at=now + REQUEST_TTL,
                check_name=None if check is None else check.name,
                check_value=None if check is None else check.stored_value,
            )
            session.add(row)
            await session.flush()
            if citizen is not None:
                language = await citizen_language(session, citizen)
                enqueue_to_citizen(
                    session,
                    citizen,
                    worded_in(language, texts.request_text, partner.name, check),
                    "access_request",
                    now,
                    worded_in(language, request_markup, row.id),
                    priority=SHARING_PRIORITY,
                )
            return _state(row)

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
        """The request's status; for a request to see the score, the first read after the
        citizen allowed it carries the score (and uses the permission up). A yes/no request
        is answered by answer_check instead, so reading its status uses nothing."""
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
            wants_score = row.check_name is None
            if (
                wants_score
                and row.status == AccessRequestStatus.ALLOWED
                and row.citizen_id is not None
            ):
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
            return _state(row, shared)

    async def _read(
        self, session: AsyncSession, citizen_id: int, partner_id: int, via: str, now: datetime
    ) -> SharedScore:
        score = await session.get(Score, citizen_id)
        assert score is not None
        await self._log(session, citizen_id, partner_id, via, now, score=score)
        # A score the newest pass confirmed unchanged was checked then (services.score_history).
        checked = effective_stamp(
            score.as_of, score.computed_at, await latest_finished_pass(session)
        )
        return SharedScore(score.score, score.band, checked[1])

    @staticmethod
    async def _log(
        session: AsyncSession,
        citizen_id: int,
        partner_id: int,
        via: str,
        now: datetime,
        check: Check | None = None,
        answer: bool | None = None,
        *,
        score: Score | None = None,
    ) -> None:
        """Record what the partner learnt (the score, or a question and its answer) and tell
        the citizen."""
        citizen = await session.get(Citizen, citizen_id)
        partner = await session.get(Partner, partner_id)
        assert citizen is not None and partner is not None
        session.add(
            ScoreAccess(
                citizen_id=citizen_id,
                partner_id=partner_id,
                via=via,
                accessed_at=now,
                check_name=None if check is None else check.name,
                check_value=None if check is None else check.stored_value,
                answer=answer,
            )
        )
        with_code = via == "code"
        language = await citizen_language(session, citizen)
        if check is not None and answer is not None:
            told = worded_in(
                language, texts.asked_text, partner.name, check, answer, with_code=with_code
            )
        else:
            assert score is not None
            told = worded_in(
                language, texts.seen_text, partner.name, score.band, score.score,
                with_code=with_code,
            )  # fmt: skip
        enqueue_to_citizen(session, citizen, told, "score_access", now, priority=SHARING_PRIORITY)
