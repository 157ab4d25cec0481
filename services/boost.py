"""Boost: rent and council tax that count, started by the citizen (issue 20).

A citizen invites their landlord, letting agent or council from /boost: a one-time link
(:data:`INVITE_DAYS` days, single use, only a keyed hash of its token stored) to a small sign-up
page, where the invitee gives a name and gets its own partner key (shown once, stored hashed).

Such a *Boost partner* is restricted (:func:`check_scope`, applied by services.events inside
the reporting transaction): it may report only ``rent`` and ``council_tax``, only about the
citizens who invited it (``boost_links``; a second tenant's link can be accepted with the same
key), and may not ask to see scores. Anything else is refused before a row is written, with
the same answer whether or not the NI number belongs to anyone.

Its evidence can only add to the score on its own: on-time payments count at once; a late or
missed one gets a pending review (:func:`hold_for_confirmation`) and counts for nothing until
the citizen presses Confirm, or :data:`CONFIRM_DAYS` days pass without a Dispute. The
counting rule lives in storage.repositories.boost (one SQL condition for the nightly pass,
the same condition for the ORM).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.model import CitizenInputs, score
from services.api_clients import API_KEY_PURPOSE, MAX_NAME_LENGTH
from services.callbacks import BOOST
from services.clock import Clock, as_aware_utc
from services.errors import ServiceError, StaleAction
from services.languages import citizen_language, tell_citizen
from services.partners import (
    PARTNER_KEY_PREFIX,
    partner_id_of_source,
    partner_names,
    partner_source,
)
from services.scores import _payment_event, explained_limit, model_inputs, row_for, stored_as_of
from services.secrets import keyed_hash
from storage.db import Database
from storage.models import BoostInvite, BoostPartner, Citizen, Partner, ScoreAccess
from storage.repositories import boost as repo
from storage.repositories.outbox import enqueue_to_citizen
from storage.statuses import BoostReviewStatus, PaymentKind
from texts import boost as texts
from texts.i18n import worded_in

ROLES = ("landlord", "agent", "council")
ROLE_KINDS = {"landlord": "rent", "agent": "rent", "council": "council_tax"}
"""What each role reports, for /why when its payments are not all of one kind."""
BOOST_KINDS = frozenset({PaymentKind.RENT.value, PaymentKind.COUNCIL_TAX.value})
INVITE_DAYS = 7
MAX_OPEN_INVITES = 5
CONFIRM_DAYS = 30
TOKEN_PURPOSE = "boost-invite"
NOTICE_PRIORITY = 5  # like other notices the citizen must act on
_MAX_TOKEN_LENGTH = 100

CONFIRM = "ok"
DISPUTE = "no"
REVOKED_VIA = "boost_revoked"
"""``score_accesses.via`` of the citizen's removal of a Boost partner (the /share log)."""
ENDED_VIA = "boost_ended"
"""``score_accesses.via`` of an operator's removal (``britizen boost revoke``)."""


class BoostError(ServiceError):
    """A Boost step that can't be done; the message is fit to show."""


class TooManyInvites(BoostError):
    pass


class TooLateToDispute(BoostError):
    pass


class NotLinked(BoostError, StaleAction):
    """A Remove button for a partner that can no longer report about the citizen."""

    def __init__(self) -> None:
        super().__init__(texts.PARTNER_ALREADY_REMOVED)


class InviteGone(BoostError, StaleAction):
    """A Cancel button for an invitation no longer waiting (used, expired or cancelled)."""

    def __init__(self) -> None:
        super().__init__(texts.INVITE_NOT_WAITING)


class InviteRefused(BoostError):
    """The sign-up link is unknown, used or expired (the message says which)."""


class SignUpRefused(BoostError):
    """The sign-up form was not right (the message says what to change)."""


class OutsideBoostScope(Exception):
    """A Boost partner reported something it may not: by field (``events.3.ni_number``)."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields


@dataclass(frozen=True)
class WaitingInvite:
    id: int
    role: str
    expires_on: date


@dataclass(frozen=True)
class BoostScreen:
    reporting: list[tuple[str, str]]
    """(partner name, kind) of everything on the record, each once."""
    partners: list[repo.LinkedPartner]
    open_invites: int
    invites: list[WaitingInvite] = field(default_factory=list)
    """The invitations waiting to be used, oldest first (each with a Cancel button)."""


@dataclass(frozen=True)
class Invitation:
    role: str
    url: str
    expires_on: date


@dataclass(frozen=True)
class InviteInfo:
    role: str


@dataclass(frozen=True)
class SignedUp:
    name: str
    api_key: str | None
    """None when an existing Boost key was used (it is never shown again)."""


@dataclass(frozen=True)
class ReviewAnswer:
    partner: str
    kind: str
    due_on: date
    outcome: str
    status: BoostReviewStatus


@dataclass(frozen=True)
class BoostAdded:
    """One Boost partner's part in the person's score, as /why shows it."""

    partner: str
    role: str
    kind: str
    on_time: int
    adverse: int
    """Late or missed payments that count (confirmed, or undisputed for 30 days)."""
    waiting: int
    """Late or missed payments waiting for the citizen's answer."""
    points: int
    """The score with this partner's counted events minus the score without them."""
    removed: bool = False
    """The citizen removed this partner: it reports no more, what it reported still counts."""


def review_markup(event_id: int) -> dict[str, Any]:
    return {
        "inline_keyboard": [
            [
                {"text": texts.CONFIRM_BUTTON, "callback_data": BOOST.encode(CONFIRM, event_id)},
                {"text": texts.DISPUTE_BUTTON, "callback_data": BOOST.encode(DISPUTE, event_id)},
            ]
        ]
    }


# -- inside services.events' reporting transaction ---------------------------------------------


async def check_scope(
    session: AsyncSession, partner_id: int, kinds: list[str], ni_hashes: list[str]
) -> bool:
    """Whether the partner is a Boost partner; OutsideBoostScope if it reports a kind other
    than rent or council tax, or about anyone who did not invite it."""
    if not await repo.is_boost_partner(session, partner_id):
        return False
    linked = await repo.linked_ni_hashes(session, partner_id)
    problems: dict[str, str] = {}
    for i, (kind, ni_hash) in enumerate(zip(kinds, ni_hashes, strict=True)):
        if kind not in BOOST_KINDS:
            problems[f"events.{i}.kind"] = "rent or council_tax"
        if ni_hash not in linked:
            problems[f"events.{i}.ni_number"] = "not someone who invited you"
    if problems:
        raise OutsideBoostScope(problems)
    return True


async def hold_for_confirmation(
    session: AsyncSession, partner_id: int, adverse_external_ids: list[str], now: datetime
) -> int:
    """Give each just-recorded late or missed event a pending review and tell its citizen,
    with Confirm / Dispute buttons. Returns how many."""
    counts_from = as_aware_utc(now).date() + timedelta(days=CONFIRM_DAYS)
    held = await repo.hold_adverse(
        session, partner_source(partner_id), adverse_external_ids, now, counts_from
    )
    if not held:
        return 0
    partner = await session.get(Partner, partner_id)
    name = partner.name if partner is not None else ""
    for event_id, citizen_id in held:
        found = await repo.review_of(session, citizen_id, event_id)
        citizen = await session.get(Citizen, citizen_id)
        if found is None or citizen is None:
            continue
        _review, event = found
        language = await citizen_language(session, citizen)
        enqueue_to_citizen(
            session,
            citizen,
            worded_in(
                language,
                texts.adverse_reported,
                name,
                event.kind,
                event.occurred_on,
                event.outcome,
                counts_from,
            ),
            "boost_review",
            now,
            worded_in(language, review_markup, event_id),
            priority=NOTICE_PRIORITY,
        )
    return len(held)


# -- the service -------------------------------------------------------------------------------


class BoostService:
    def __init__(
        self,
        db: Database,
        secret_key: bytes,
        clock: Clock,
        timezone: ZoneInfo,
        public_url: str = "http://127.0.0.1:8080",
    ) -> None:
        self._db = db
        self._key = secret_key
        self._clock = clock
        self._tz = timezone
        self.public_url = public_url.rstrip("/")

    def _token_hash(self, token: str) -> str:
        return keyed_hash(self._key, TOKEN_PURPOSE, token)

    # --- the citizen ----------------------------------------------------------------------

    async def screen(self, telegram_id: int) -> BoostScreen:
        async with self._db.transaction() as session:
            citizen, _ = await row_for(session, telegram_id)
            names = await partner_names(session)
            reporting = [
                (names.get(source, source), kind)
                for source, kind in await repo.reporting_sources(session, citizen.id)
                if source in names
            ]
            invites = await waiting_invites(session, citizen.id, self._clock(), self._tz)
            return BoostScreen(
                reporting=reporting,
                partners=await repo.partners_of(session, citizen.id),
                open_invites=len(invites),
                invites=invites,
            )

    async def removal(self, telegram_id: int, partner_id: int) -> repo.LinkedPartner:
        """The partner a Remove button names, for the confirm step; NotLinked if it can no
        longer report about this citizen."""
        async with self._db.transaction() as session:
            citizen, _ = await row_for(session, telegram_id)
            found = await repo.linked_partner(session, citizen.id, partner_id)
            if found is None:
                raise NotLinked()
            return found

    async def revoke(self, telegram_id: int, partner_id: int) -> repo.LinkedPartner:
        """The citizen removes a Boost partner: its key can no longer report about them (what
        it reported stays, counted or waiting as before), logged in their /share access log.
        NotLinked if it already could not (a second press, an old button)."""
        now = self._clock()
        async with self._db.transaction() as session:
            citizen, _ = await row_for(session, telegram_id)
            found = await repo.linked_partner(session, citizen.id, partner_id)
            if found is None or not await repo.remove_link(session, partner_id, citizen.id):
                raise NotLinked()
            log_removal(session, citizen.id, partner_id, REVOKED_VIA, now)
            return found

    async def cancel_invite(self, telegram_id: int, invite_id: int) -> str:
        """Cancel an invitation still waiting (its link stops working at once); returns its
        role. InviteGone if it was used, expired or cancelled already."""
        now = self._clock()
        async with self._db.transaction() as session:
            citizen, _ = await row_for(session, telegram_id)
            invite = await session.get(BoostInvite, invite_id)
            if invite is None or invite.citizen_id != citizen.id:
                raise InviteGone()
            role = invite.role
            if not await repo.delete_waiting_invite(session, citizen.id, invite_id, now):
                raise InviteGone()
            return role

    async def invite(self, telegram_id: int, role: str) -> Invitation:
        """A new one-time sign-up link; TooManyInvites beyond MAX_OPEN_INVITES open ones."""
        if role not in ROLES:
            raise StaleAction(f"no Boost role {role!r}")
        now = self._clock()
        token = secrets.token_urlsafe(24)
        async with self._db.transaction() as session:
            citizen, _ = await row_for(session, telegram_id)
            open_now = await repo.open_invites(session, citizen.id, now)
            if open_now >= MAX_OPEN_INVITES:
                raise TooManyInvites(texts.too_many_invites(open_now, INVITE_DAYS))
            expires = now + timedelta(days=INVITE_DAYS)
            session.add(
                BoostInvite(
                    citizen_id=citizen.id,
                    role=role,
                    token_hash=self._token_hash(token),
                    created_at=now,
                    expires_at=expires,
                )
            )
        return Invitation(
            role=role,
            url=f"{self.public_url}/boost/signup?token={token}",
            expires_on=expires.astimezone(self._tz).date(),
        )

    async def answer(self, telegram_id: int, event_id: int, action: str) -> ReviewAnswer:
        """Confirm or Dispute a late or missed payment a Boost partner reported."""
        now = self._clock()
        async with self._db.transaction() as session:
            citizen, _ = await row_for(session, telegram_id)
            found = await repo.review_of(session, citizen.id, event_id)
            if found is None or action not in (CONFIRM, DISPUTE):
                raise StaleAction("no such Boost review")
            review, event = found
            if review.status != BoostReviewStatus.PENDING:
                raise BoostError(texts.ALREADY_ANSWERED)
            if action == DISPUTE and review.counts_from <= now.astimezone(self._tz).date():
                raise TooLateToDispute(texts.too_late_to_dispute(CONFIRM_DAYS))
            status = (
                BoostReviewStatus.CONFIRMED if action == CONFIRM else BoostReviewStatus.DISPUTED
            )
            review.status = status
            review.answered_at = now
            names = await partner_names(session)
            return ReviewAnswer(
                partner=names.get(event.source, event.source),
                kind=event.kind,
                due_on=event.occurred_on,
                outcome=event.outcome,
                status=status,
            )

    async def added(self, telegram_id: int) -> list[BoostAdded]:
        """What each Boost partner the person invited adds to the score /why explains (the
        model's breakdown of today's data as of the stored score's date)."""
        async with self._db.transaction() as session:
            citizen, row = await row_for(session, telegram_id)
            partners = await repo.partners_of(session, citizen.id)
            # A partner the citizen removed reports no more, but what it reported still
            # counts: /why still says so, marked removed.
            linked = {p.partner_id for p in partners}
            sources = await repo.reporting_sources(session, citizen.id)
            reporting = {partner_id_of_source(source) for source, _kind in sources}
            former = sorted(pid for pid in reporting - linked if pid is not None)
            removed = await repo.boost_partners_among(session, former)
            partners = [*partners, *removed]
            if not partners:
                return []
            as_of = stored_as_of(row, self._tz)
            inputs = await model_inputs(session, citizen, row, as_of, explained_limit(row))
            per_partner = [
                (
                    p,
                    await repo.counted_boost_events(
                        session, citizen.id, [partner_source(p.partner_id)], as_of
                    ),
                    await repo.waiting_count(
                        session, citizen.id, partner_source(p.partner_id), as_of
                    ),
                )
                for p in partners
            ]
        total = score(inputs, as_of=as_of).score
        out: list[BoostAdded] = []
        for partner, events, waiting in per_partner:
            without = _without(inputs, [_payment_event(e) for e in events])
            kinds = {e.kind for e in events}
            kind = kinds.pop() if len(kinds) == 1 else ROLE_KINDS.get(partner.role, "rent")
            on_time = sum(1 for e in events if e.outcome == "on_time")
            out.append(
                BoostAdded(
                    removed=partner.partner_id not in linked,
                    partner=partner.name,
                    role=partner.role,
                    kind=kind,
                    on_time=on_time,
                    adverse=len(events) - on_time,
                    waiting=waiting,
                    points=total - score(without, as_of=as_of).score,
                )
            )
        return out

    # --- the invitee's sign-up page ---------------------------------------------------------

    async def _valid_invite(self, session: AsyncSession, token: str) -> BoostInvite:
        if not token or len(token) > _MAX_TOKEN_LENGTH:
            raise InviteRefused(texts.LINK_UNKNOWN)
        invite = await repo.invite_by_token(session, self._token_hash(token))
        if invite is None:
            raise InviteRefused(texts.LINK_UNKNOWN)
        if invite.used_at is not None:
            raise InviteRefused(texts.LINK_USED)
        if as_aware_utc(invite.expires_at) <= self._clock():
            raise InviteRefused(texts.LINK_EXPIRED.format(days=INVITE_DAYS))
        return invite

    async def invite_info(self, token: str) -> InviteInfo:
        """What the sign-up page needs; InviteRefused for an unknown, used or expired link."""
        async with self._db.transaction() as session:
            invite = await self._valid_invite(session, token)
            return InviteInfo(role=invite.role)

    async def sign_up(self, token: str, name: str, existing_key: str = "") -> SignedUp:
        """Use the link once: a new Boost partner named ``name`` (its key returned, the only
        time it exists in clear), or, with ``existing_key``, the invitee's existing Boost
        partner now also covers this citizen. InviteRefused / SignUpRefused otherwise."""
        now = self._clock()
        existing_key = existing_key.strip()
        name = " ".join(name.split())
        if not existing_key:
            if not name:
                raise SignUpRefused(texts.NAME_MISSING)
            if len(name) > MAX_NAME_LENGTH:
                raise SignUpRefused(texts.NAME_TOO_LONG.format(limit=MAX_NAME_LENGTH))
        try:
            async with self._db.transaction() as session:
                invite = await self._valid_invite(session, token)
                api_key: str | None = None
                if existing_key:
                    partner = await self._boost_partner_by_key(session, existing_key)
                else:
                    api_key = PARTNER_KEY_PREFIX + secrets.token_urlsafe(32)
                    partner = Partner(
                        name=name,
                        api_key_hash=keyed_hash(self._key, API_KEY_PURPOSE, api_key),
                        created_at=now,
                    )
                    session.add(partner)
                    await session.flush()
                    session.add(
                        BoostPartner(partner_id=partner.id, role=invite.role, created_at=now)
                    )
                if not await repo.claim_invite(session, invite.id, now):
                    raise InviteRefused(texts.LINK_USED)
                invite.partner_id = partner.id
                await repo.add_link(session, partner.id, invite.citizen_id, now)
                citizen = await session.get(Citizen, invite.citizen_id)
                if citizen is not None:
                    await tell_citizen(
                        session, citizen, "boost_signed_up", now,
                        texts.signed_up, partner.name, invite.role,
                        priority=NOTICE_PRIORITY,
                    )  # fmt: skip
                return SignedUp(name=partner.name, api_key=api_key)
        except IntegrityError:
            # The unique name decides (two sign-ups racing with one name can't both win);
            # the whole transaction, the link's use included, is undone.
            raise SignUpRefused(texts.NAME_TAKEN.format(name=name)) from None

    async def _boost_partner_by_key(self, session: AsyncSession, api_key: str) -> Partner:
        if not api_key.startswith(PARTNER_KEY_PREFIX) or len(api_key) > 200:
            raise SignUpRefused(texts.KEY_NOT_BOOST)
        partner = await session.scalar(
            select(Partner).where(
                Partner.api_key_hash == keyed_hash(self._key, API_KEY_PURPOSE, api_key)
            )
        )
        if partner is None or not await repo.is_boost_partner(session, partner.id):
            raise SignUpRefused(texts.KEY_NOT_BOOST)
        return partner

    async def is_boost_partner(self, partner_id: int) -> bool:
        async with self._db.autocommit() as session:
            return await repo.is_boost_partner(session, partner_id)


async def waiting_invites(
    session: AsyncSession, citizen_id: int, now: datetime, tz: ZoneInfo
) -> list[WaitingInvite]:
    """The citizen's invitations still waiting to be used, oldest first."""
    return [
        WaitingInvite(invite.id, invite.role, as_aware_utc(invite.expires_at).astimezone(tz).date())
        for invite in await repo.waiting_invites(session, citizen_id, now)
    ]


def log_removal(
    session: AsyncSession, citizen_id: int, partner_id: int, via: str, now: datetime
) -> None:
    """A line in the citizen's access log (what /share lists and /mydata exports)."""
    session.add(ScoreAccess(citizen_id=citizen_id, partner_id=partner_id, via=via, accessed_at=now))


def _without(inputs: CitizenInputs, removed: list[Any]) -> CitizenInputs:
    """The inputs with one occurrence of each removed payment taken out."""
    left = list(inputs.payments)
    for payment in removed:
        if payment in left:
            left.remove(payment)
    return replace(inputs, payments=tuple(left))


async def boost_export(
    session: AsyncSession, citizen_id: int, partners: dict[int, str]
) -> dict[str, Any]:
    """The /mydata section: the person's invitations (never their tokens) and their answers
    to late or missed payments a Boost partner reported."""
    invites = await repo.invites_of(session, citizen_id)
    reviews = await repo.reviews_of(session, citizen_id)
    return {
        "invitations": [
            {
                "role": invite.role,
                "created_at": as_aware_utc(invite.created_at).isoformat(),
                "expires_at": as_aware_utc(invite.expires_at).isoformat(),
                "used_at": None
                if invite.used_at is None
                else as_aware_utc(invite.used_at).isoformat(),
                "signed_up_as": None
                if invite.partner_id is None
                else partners.get(invite.partner_id, "?"),
            }
            for invite in invites
        ],
        "late_or_missed_reports": [
            {
                "reported_by": partners.get(int(event.source.split(":", 1)[1]), event.source)
                if event.source.startswith("partner:")
                else event.source,
                "kind": event.kind,
                "outcome": event.outcome,
                "due_on": event.occurred_on.isoformat(),
                "status": review.status,
                "counts_from": review.counts_from.isoformat(),
                "answered_at": None
                if review.answered_at is None
                else as_aware_utc(review.answered_at).isoformat(),
            }
            for review, event in reviews
        ],
    }
