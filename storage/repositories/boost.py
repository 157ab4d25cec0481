"""Boost's rows: invitations, the partners they made, whom each may report about, and the
late or missed payments waiting for the citizen's word.

Which Boost events count is said twice, the same way: :data:`WAITING_SQL` for the scoring
pass's bulk read and :func:`not_waiting` for the ORM (/why, What if), so the two can't disagree.
An event counts unless it has a review row that is disputed, or pending and not yet due
(``counts_from`` after the day being scored).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    BoostInvite,
    BoostLink,
    BoostPartner,
    BoostReview,
    Citizen,
    Partner,
    PaymentEvent,
)
from storage.repositories.event_batches import counted, inline
from storage.statuses import BoostReviewStatus, PaymentOutcome

WAITING_SQL = (
    "NOT EXISTS (SELECT 1 FROM boost_reviews r WHERE r.payment_event_id = e.id AND "
    f"(r.status = '{BoostReviewStatus.DISPUTED.value}' OR "
    f"(r.status = '{BoostReviewStatus.PENDING.value}' AND r.counts_from > :boost_as_of)))"
)
"""A WHERE condition on ``payment_events e``: not a Boost event still waiting or disputed.
Bind ``boost_as_of`` to the day being scored."""


def not_waiting(query: Select[Any], as_of: date) -> Select[Any]:
    """Narrow a query over PaymentEvent as :data:`WAITING_SQL` does."""
    return query.where(
        ~exists().where(
            BoostReview.payment_event_id == PaymentEvent.id,
            or_(
                BoostReview.status == BoostReviewStatus.DISPUTED,
                and_(
                    BoostReview.status == BoostReviewStatus.PENDING,
                    BoostReview.counts_from > as_of,
                ),
            ),
        )
    )


# -- partners and links ------------------------------------------------------------------------


async def is_boost_partner(session: AsyncSession, partner_id: int) -> bool:
    return (await session.get(BoostPartner, partner_id)) is not None


async def linked_ni_hashes(session: AsyncSession, partner_id: int) -> dict[str, int]:
    """NI hash -> citizen id of everyone who invited this Boost partner."""
    rows = await session.execute(
        select(Citizen.ni_hash, Citizen.id)
        .join(BoostLink, BoostLink.citizen_id == Citizen.id)
        .where(BoostLink.partner_id == partner_id)
    )
    return {ni_hash: citizen_id for ni_hash, citizen_id in rows.all()}


async def add_link(session: AsyncSession, partner_id: int, citizen_id: int, now: datetime) -> bool:
    """Let the partner report about the citizen; False if it already could."""
    if await session.get(BoostLink, (partner_id, citizen_id)) is not None:
        return False
    session.add(BoostLink(partner_id=partner_id, citizen_id=citizen_id, created_at=now))
    return True


@dataclass(frozen=True)
class LinkedPartner:
    partner_id: int
    name: str
    role: str


async def partners_of(session: AsyncSession, citizen_id: int) -> list[LinkedPartner]:
    """The Boost partners this citizen invited and who signed up, oldest first."""
    rows = await session.execute(
        select(Partner.id, Partner.name, BoostPartner.role)
        .join(BoostLink, BoostLink.partner_id == Partner.id)
        .join(BoostPartner, BoostPartner.partner_id == Partner.id)
        .where(BoostLink.citizen_id == citizen_id)
        .order_by(BoostLink.created_at, Partner.id)
    )
    return [LinkedPartner(pid, name, role) for pid, name, role in rows.all()]


async def boost_partners_among(
    session: AsyncSession, partner_ids: Sequence[int]
) -> list[LinkedPartner]:
    """The Boost partners among these partner ids (a citizen removed them, so no link is left
    to find them by: their events on the record still name them), by id."""
    if not partner_ids:
        return []
    rows = await session.execute(
        select(Partner.id, Partner.name, BoostPartner.role)
        .join(BoostPartner, BoostPartner.partner_id == Partner.id)
        .where(Partner.id.in_(partner_ids))
        .order_by(Partner.id)
    )
    return [LinkedPartner(pid, name, role) for pid, name, role in rows.all()]


async def reporting_sources(session: AsyncSession, citizen_id: int) -> list[tuple[str, str]]:
    """(source, kind) of every event on the citizen's record, each pair once."""
    rows = await session.execute(
        select(PaymentEvent.source, PaymentEvent.kind)
        .where(PaymentEvent.citizen_id == citizen_id)
        .group_by(PaymentEvent.source, PaymentEvent.kind)
        .order_by(PaymentEvent.source, PaymentEvent.kind)
    )
    return [(source, kind) for source, kind in rows.all()]


# -- invitations -------------------------------------------------------------------------------


async def open_invites(session: AsyncSession, citizen_id: int, now: datetime) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(BoostInvite)
        .where(
            BoostInvite.citizen_id == citizen_id,
            BoostInvite.used_at.is_(None),
            BoostInvite.expires_at > now,
        )
    )
    return int(count or 0)


async def invite_by_token(session: AsyncSession, token_hash: str) -> BoostInvite | None:
    return await session.scalar(select(BoostInvite).where(BoostInvite.token_hash == token_hash))


async def claim_invite(session: AsyncSession, invite_id: int, now: datetime) -> bool:
    """Mark the invitation used; False if it was used (or expired) meanwhile. The UPDATE's own
    condition decides, so two sign-ups racing on one link can't both succeed."""
    result = await session.execute(
        update(BoostInvite)
        .where(
            BoostInvite.id == invite_id,
            BoostInvite.used_at.is_(None),
            BoostInvite.expires_at > now,
        )
        .values(used_at=now)
        # SQLite hands back naive datetimes: the ORM can't evaluate the condition in Python.
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


# -- reviews -----------------------------------------------------------------------------------


async def hold_adverse(
    session: AsyncSession,
    source: str,
    external_ids: Collection[str],
    now: datetime,
    counts_from: date,
) -> list[tuple[int, int]]:
    """Give each of these just-recorded late or missed events a pending review; returns
    (payment event id, citizen id) of each, in event-date order."""
    if not external_ids:
        return []
    rows = (
        await session.execute(
            select(PaymentEvent.id, PaymentEvent.citizen_id)
            .where(
                PaymentEvent.source == source,
                PaymentEvent.external_id.in_(inline(external_ids)),
                PaymentEvent.outcome != PaymentOutcome.ON_TIME,
            )
            .order_by(PaymentEvent.occurred_on, PaymentEvent.id)
        )
    ).all()
    if rows:
        await session.execute(
            insert(BoostReview),
            [
                {
                    "payment_event_id": event_id,
                    "citizen_id": citizen_id,
                    "status": BoostReviewStatus.PENDING,
                    "counts_from": counts_from,
                    "created_at": now,
                }
                for event_id, citizen_id in rows
            ],
        )
    return [(int(event_id), int(citizen_id)) for event_id, citizen_id in rows]


async def review_of(
    session: AsyncSession, citizen_id: int, event_id: int
) -> tuple[BoostReview, PaymentEvent] | None:
    found = (
        await session.execute(
            select(BoostReview, PaymentEvent)
            .join(PaymentEvent, PaymentEvent.id == BoostReview.payment_event_id)
            .where(BoostReview.payment_event_id == event_id, BoostReview.citizen_id == citizen_id)
        )
    ).one_or_none()
    if found is None:
        return None
    review, event = found
    return review, event


async def counted_boost_events(
    session: AsyncSession, citizen_id: int, sources: Sequence[str], as_of: date
) -> list[PaymentEvent]:
    """The citizen's events from these (Boost) sources that count as of ``as_of``."""
    if not sources:
        return []
    query = counted(select(PaymentEvent)).where(
        PaymentEvent.citizen_id == citizen_id, PaymentEvent.source.in_(list(sources))
    )
    return list((await session.scalars(not_waiting(query, as_of))).all())


async def waiting_count(session: AsyncSession, citizen_id: int, source: str, as_of: date) -> int:
    """Late or missed events from ``source`` still waiting for the citizen's answer (and
    not yet counting by the passing of time) as of ``as_of``."""
    count = await session.scalar(
        select(func.count())
        .select_from(BoostReview)
        .join(PaymentEvent, PaymentEvent.id == BoostReview.payment_event_id)
        .where(
            BoostReview.citizen_id == citizen_id,
            BoostReview.status == BoostReviewStatus.PENDING,
            BoostReview.counts_from > as_of,
            PaymentEvent.source == source,
        )
    )
    return int(count or 0)


async def invites_of(session: AsyncSession, citizen_id: int) -> list[BoostInvite]:
    return list(
        (
            await session.scalars(
                select(BoostInvite)
                .where(BoostInvite.citizen_id == citizen_id)
                .order_by(BoostInvite.created_at, BoostInvite.id)
            )
        ).all()
    )


async def reviews_of(
    session: AsyncSession, citizen_id: int
) -> list[tuple[BoostReview, PaymentEvent]]:
    rows = await session.execute(
        select(BoostReview, PaymentEvent)
        .join(PaymentEvent, PaymentEvent.id == BoostReview.payment_event_id)
        .where(BoostReview.citizen_id == citizen_id)
        .order_by(PaymentEvent.occurred_on, PaymentEvent.id)
    )
    return [(review, event) for review, event in rows.all()]


# -- revoking and cancelling (the citizen in /boost, operators with `britizen boost`) ----------


async def remove_link(session: AsyncSession, partner_id: int, citizen_id: int) -> bool:
    """The partner may no longer report about the citizen; False if it already could not. The
    DELETE's own condition decides, so two presses racing remove (and log) it once."""
    done = await session.execute(
        delete(BoostLink).where(
            BoostLink.partner_id == partner_id, BoostLink.citizen_id == citizen_id
        )
    )
    return bool(getattr(done, "rowcount", 0))


async def linked_partner(
    session: AsyncSession, citizen_id: int, partner_id: int
) -> LinkedPartner | None:
    for partner in await partners_of(session, citizen_id):
        if partner.partner_id == partner_id:
            return partner
    return None


async def citizens_of(session: AsyncSession, partner_id: int) -> list[int]:
    """The citizens this Boost partner may report about, by id."""
    rows = await session.scalars(
        select(BoostLink.citizen_id)
        .where(BoostLink.partner_id == partner_id)
        .order_by(BoostLink.citizen_id)
    )
    return [int(citizen_id) for citizen_id in rows.all()]


@dataclass(frozen=True)
class BoostPartnerRow:
    partner_id: int
    name: str
    role: str
    created_at: datetime
    citizens: int


async def all_boost_partners(session: AsyncSession) -> list[BoostPartnerRow]:
    """Every Boost partner with how many citizens it may report about, oldest first."""
    linked = (
        select(BoostLink.partner_id, func.count().label("n"))
        .group_by(BoostLink.partner_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            Partner.id,
            Partner.name,
            BoostPartner.role,
            BoostPartner.created_at,
            func.coalesce(linked.c.n, 0),
        )
        .join(BoostPartner, BoostPartner.partner_id == Partner.id)
        .outerjoin(linked, linked.c.partner_id == Partner.id)
        .order_by(BoostPartner.created_at, Partner.id)
    )
    return [
        BoostPartnerRow(int(pid), name, role, created, int(n))
        for pid, name, role, created, n in rows.all()
    ]


async def waiting_invites(
    session: AsyncSession, citizen_id: int, now: datetime
) -> list[BoostInvite]:
    """The citizen's invitations not used and not expired, oldest first."""
    return list(
        (
            await session.scalars(
                select(BoostInvite)
                .where(
                    BoostInvite.citizen_id == citizen_id,
                    BoostInvite.used_at.is_(None),
                    BoostInvite.expires_at > now,
                )
                .order_by(BoostInvite.created_at, BoostInvite.id)
            )
        ).all()
    )


async def delete_waiting_invite(
    session: AsyncSession, citizen_id: int, invite_id: int, now: datetime
) -> bool:
    """Cancel one of the citizen's invitations if it is still waiting (not used, not expired):
    the row goes, so its link is as unknown as one never made. False if it was not waiting."""
    done = await session.execute(
        delete(BoostInvite)
        .where(
            BoostInvite.id == invite_id,
            BoostInvite.citizen_id == citizen_id,
            BoostInvite.used_at.is_(None),
            BoostInvite.expires_at > now,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(done, "rowcount", 0))
