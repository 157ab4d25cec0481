"""Citizens' rights over their data: a copy of everything held (/mydata) and erasure (/delete).

Erasure deletes the citizen's row and lets the database's cascades remove everything hanging
off it (scores and history, friendships and requests, invites and referrals, payment events,
offers redeemed, share codes and the access log, disputes, queued messages), plus the rows
keyed otherwise (the conversation state, partner events held under the NI hash). What stays
is one ``erasures`` row: the NI hash, when, and whose invite had credited them (see
services.erasures for why). An account with money still owed on a loan can't be erased: the
lender must keep that record until it is repaid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts import citizen_for
from services.boost import boost_export
from services.clock import Clock, as_aware_utc
from services.ni_claims import log_for as ni_claim_log
from services.retention import KeptRecord, purge_expired, retain_adverse, would_keep
from storage.db import Database
from storage.models import (
    AccessRequest,
    Base,
    Citizen,
    ContestEntry,
    DialogState,
    Dispute,
    Erasure,
    FriendRequest,
    Friendship,
    GrowthMessage,
    HeldPaymentEvent,
    Instalment,
    InviteCode,
    LanguageChoice,
    Loan,
    LoanPayment,
    NiClaimEvent,
    OutboxMessage,
    Partner,
    PaymentEvent,
    PaymentPlanRequest,
    Promotion,
    Redemption,
    Referral,
    Score,
    ScoreAccess,
    ScoreHistory,
    ShareCode,
    Sponsor,
)
from storage.repositories import citizens
from texts import data_rights as texts

EXPORT_FORMAT_VERSION = 1
# Columns never exported: secrets and keys that mean nothing to the person and would only
# make the file more dangerous if it leaked.
_NEVER_EXPORTED = frozenset({"ni_hash", "code_hash", "nonce", "api_key_hash", "application_key"})


class DeletionBlocked(Exception):
    """Erasure refused; the message says why and what to do, in plain English."""


@dataclass(frozen=True)
class Export:
    filename: str
    content: bytes


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_aware_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _row(row: Base, *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        column.key: _value(getattr(row, column.key))
        for column in row.__table__.columns
        if column.key not in _NEVER_EXPORTED and column.key not in drop
    }


async def owed_on_loans(session: AsyncSession, citizen_id: int) -> int:
    """Pence still owed on the citizen's loans (instalments plus any late fees)."""
    owed = await session.scalar(
        select(func.coalesce(func.sum(Instalment.amount_pence + Instalment.late_fee_pence), 0))
        .join(Loan, Loan.id == Instalment.loan_id)
        .where(Loan.citizen_id == citizen_id, Instalment.paid_at.is_(None))
    )
    return int(owed or 0)


class DataRightsService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def export(self, telegram_id: int) -> Export:
        """Everything held about the person as one JSON document (NI number masked)."""
        import json

        now = self._clock()
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            document = await self._collect(session, me, now)
        content = json.dumps(document, indent=2, ensure_ascii=False).encode()
        return Export(f"britizen-my-data-{now.date().isoformat()}.json", content)

    async def _collect(self, session: AsyncSession, me: Citizen, now: datetime) -> dict[str, Any]:
        async def rows(model: type[Base], *where: Any, order: Any = None) -> list[Any]:
            statement = select(model).where(*where)
            if order is not None:
                statement = statement.order_by(order)
            return list((await session.scalars(statement)).all())

        names = dict(
            (await session.execute(select(Citizen.id, Citizen.display_name))).all()
        )  # only the names of people linked to this one are used below
        score = await session.get(Score, me.id)
        friendships = await rows(
            Friendship, or_(Friendship.low_id == me.id, Friendship.high_id == me.id)
        )
        requests = await rows(
            FriendRequest,
            or_(FriendRequest.requester_id == me.id, FriendRequest.recipient_id == me.id),
            order=FriendRequest.created_at,
        )
        loans = await rows(Loan, Loan.citizen_id == me.id, order=Loan.created_at)
        loan_ids = [loan.id for loan in loans]
        instalments = await rows(Instalment, Instalment.loan_id.in_(loan_ids), order=Instalment.id)
        payments = await rows(
            LoanPayment,
            LoanPayment.instalment_id.in_([i.id for i in instalments]),
            order=LoanPayment.paid_at,
        )
        partners = dict((await session.execute(select(Partner.id, Partner.name))).all())
        offers = (
            await session.execute(
                select(Redemption, Promotion.title, Sponsor.name)
                .join(Promotion, Promotion.id == Redemption.promotion_id)
                .join(Sponsor, Sponsor.id == Promotion.sponsor_id)
                .where(Redemption.citizen_id == me.id)
            )
        ).all()
        referred_by = await session.scalar(
            select(Referral.inviter_id).where(Referral.invitee_id == me.id)
        )
        referrals_made = await session.scalar(
            select(func.count()).select_from(Referral).where(Referral.inviter_id == me.id)
        )
        dialog = await session.get(DialogState, me.telegram_id)

        def other(f: Friendship) -> str:
            return names.get(f.high_id if f.low_id == me.id else f.low_id, "?")

        def source(event: PaymentEvent | KeptRecord) -> str:
            if event.source.startswith("partner:"):
                return partners.get(int(event.source.split(":", 1)[1]), event.source)
            return texts.LOAN_SOURCE if event.source == "loan" else event.source

        return {
            "format": "britizen-subject-access-export",
            "format_version": EXPORT_FORMAT_VERSION,
            "generated_at": now.isoformat(),
            "note": texts.EXPORT_NOTE,
            "profile": _row(me),
            "consents": {
                "registration_terms_accepted_at": _value(me.registered_at),
                "marketing_opt_in": me.marketing_opt_in,
                "marketing_asked_at": _value(me.marketing_asked_at),
                "score_visibility": me.score_visibility,
                "on_leaderboard": me.on_leaderboard,
                "accepts_friend_requests": me.accepts_friend_requests,
                "friendly_reminders": me.friendly_reminders,
            },
            "score": None if score is None else _row(score, drop=("citizen_id",)),
            # Only this person's own place in the network; nobody else's is ever listed.
            "network_role": None
            if score is None
            else {
                "degree": score.friend_count,
                "betweenness_estimate": score.betweenness,
                "role": score.network_role,
                "computed_at": _value(score.computed_at),
            },
            # Boost (issue 20): whom the person invited, and their answers to late payments.
            "boost": await boost_export(session, me.id, partners),
            "score_history": [
                _row(h, drop=("citizen_id",))
                for h in await rows(
                    ScoreHistory, ScoreHistory.citizen_id == me.id, order=ScoreHistory.computed_at
                )
            ],
            "friends": [
                {
                    "name": other(f),
                    "status": f.status,
                    "asked_by_you": f.requester_id == me.id,
                    "since": _value(f.created_at),
                    "answered_at": _value(f.responded_at),
                }
                for f in friendships
            ],
            "friend_requests": [
                {
                    "direction": "sent" if r.requester_id == me.id else "received",
                    "other": names.get(
                        r.recipient_id if r.requester_id == me.id else r.requester_id, "?"
                    ),
                    "via": r.via,
                    "at": _value(r.created_at),
                }
                for r in requests
            ],
            "invites": {
                "has_invite_link": await session.get(InviteCode, me.id) is not None,
                "referred_by": None if referred_by is None else names.get(referred_by, "?"),
                "people_you_referred": int(referrals_made or 0),
            },
            "loans": [
                {
                    **_row(loan, drop=("citizen_id",)),
                    "instalments": [
                        {
                            **_row(i, drop=("loan_id",)),
                            "payments": [
                                _row(p, drop=("instalment_id",))
                                for p in payments
                                if p.instalment_id == i.id
                            ],
                        }
                        for i in instalments
                        if i.loan_id == loan.id
                    ],
                }
                for loan in loans
            ],
            "payment_events": [
                {**_row(e, drop=("citizen_id",)), "source": source(e)}
                for e in await rows(
                    PaymentEvent, PaymentEvent.citizen_id == me.id, order=PaymentEvent.occurred_on
                )
            ],
            "offers_redeemed": [
                {
                    "promotion": title,
                    "sponsor": sponsor,
                    "code": redemption.code,
                    "redeemed_at": _value(redemption.redeemed_at),
                }
                for redemption, title, sponsor in offers
            ],
            "score_sharing": {
                "codes": [
                    _row(c, drop=("citizen_id",))
                    for c in await rows(
                        ShareCode, ShareCode.citizen_id == me.id, order=ShareCode.created_at
                    )
                ],
                "requests": [
                    {**_row(r, drop=("citizen_id",)), "partner": partners.get(r.partner_id)}
                    for r in await rows(
                        AccessRequest,
                        AccessRequest.citizen_id == me.id,
                        order=AccessRequest.created_at,
                    )
                ],
                "access_log": [
                    {
                        "partner": partners.get(a.partner_id),
                        "via": a.via,
                        "at": _value(a.accessed_at),
                        # A yes/no check (issue 20): the question and the answer given.
                        "check": a.check_name,
                        "check_value": a.check_value,
                        "answer": a.answer,
                    }
                    for a in await rows(
                        ScoreAccess, ScoreAccess.citizen_id == me.id, order=ScoreAccess.accessed_at
                    )
                ],
            },
            "disputes": [
                _row(d, drop=("citizen_id", "reviewer_telegram_id"))
                for d in await rows(Dispute, Dispute.citizen_id == me.id, order=Dispute.created_at)
            ],
            "payment_plan_requests": [
                _row(r, drop=("citizen_id", "reviewer_telegram_id"))
                for r in await rows(
                    PaymentPlanRequest,
                    PaymentPlanRequest.citizen_id == me.id,
                    order=PaymentPlanRequest.created_at,
                )
            ],
            # Issue 19: asks to invite people received, and referral contests joined.
            "growth_outreach": {
                "asks": [
                    _row(g, drop=("citizen_id",))
                    for g in await rows(
                        GrowthMessage, GrowthMessage.citizen_id == me.id, order=GrowthMessage.id
                    )
                ],
                "contests_joined": [
                    _row(c, drop=("citizen_id",))
                    for c in await rows(
                        ContestEntry,
                        ContestEntry.citizen_id == me.id,
                        order=ContestEntry.joined_at,
                    )
                ],
            },
            "messages": [
                _row(m, drop=("citizen_id", "reply_markup"))
                for m in await rows(
                    OutboxMessage, OutboxMessage.citizen_id == me.id, order=OutboxMessage.id
                )
            ],
            # Each step of an NI-number report this person made or that was made about them.
            "ni_number_reports": await ni_claim_log(session, me.telegram_id),
            "conversation_in_progress": None if dialog is None else dialog.flow,
            # What /delete would keep, and until when (services/retention.py says why).
            "kept_if_you_erase_your_account": {
                "ni_number": "a one-way keyed fingerprint only, never the number",
                "late_or_missed_payment_records": [
                    {
                        "source": source(k),
                        "kind": k.kind,
                        "outcome": k.outcome,
                        "date": k.occurred_on.isoformat(),
                        "kept_until": k.keep_until.isoformat(),
                    }
                    for k in await would_keep(session, me, now.date())
                ],
            },
        }

    async def purge_retained(self) -> int:
        """Delete erased accounts' records kept past their six years; returns how many."""
        async with self._db.transaction() as session:
            return await purge_expired(session, self._clock().date())

    async def kept_on_erasure(self, telegram_id: int) -> list[KeptRecord]:
        """What erasing the account today would keep (the /delete screen says it)."""
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            return await would_keep(session, me, self._clock().date())

    async def check_deletable(self, telegram_id: int) -> None:
        """Raise DeletionBlocked (with the reason) if the account can't be erased now."""
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            owed = await owed_on_loans(session, me.id)
        if owed:
            raise DeletionBlocked(texts.blocked_text(owed))

    async def erase(self, telegram_id: int) -> None:
        """Erase the account for good. Raises DeletionBlocked with money owed on a loan."""
        now = self._clock()
        async with self._db.transaction() as session:
            # The same no-op write as a loan confirmation takes first: a loan confirmed in
            # parallel either exists by now (and blocks this) or finds no account.
            await citizens.lock_by_telegram_id(session, telegram_id)
            me = await citizen_for(session, telegram_id)
            owed = await owed_on_loans(session, me.id)
            if owed:
                raise DeletionBlocked(texts.blocked_text(owed))
            # Only the NI hash and the adverse records survive (services/retention.py).
            await retain_adverse(session, me, now.date())
            existing = await session.get(Erasure, me.ni_hash)
            if existing is None:
                session.add(Erasure(ni_hash=me.ni_hash, erased_at=now))
            else:
                existing.erased_at = now
            await session.execute(
                delete(HeldPaymentEvent).where(HeldPaymentEvent.ni_hash == me.ni_hash)
            )
            await session.execute(delete(DialogState).where(DialogState.telegram_id == telegram_id))
            # The person's own log of NI-number reports goes too (the claim row stays, without
            # its link to this account: the number's history matters if it is claimed again).
            await session.execute(
                delete(NiClaimEvent).where(NiClaimEvent.telegram_id == telegram_id)
            )
            # The language they read Britizen in goes too (Telegram's language_code decides again).
            await session.execute(
                delete(LanguageChoice).where(LanguageChoice.telegram_id == telegram_id)
            )
            await session.execute(delete(Citizen).where(Citizen.id == me.id))
