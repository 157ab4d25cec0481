"""SQL for growth outreach on consent: who may be asked, who was asked, and contest counts.

Every audience here starts from citizens who opted in (``growth_opt_in``) and can be reached;
contest counts start from ``referrals``, which exist only for completed registrations.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from storage.models import (
    Citizen,
    ContestEntry,
    Erasure,
    GrowthCampaign,
    GrowthMessage,
    OutboxMessage,
    Referral,
    ReferralContest,
    Score,
)
from storage.models.messaging import pending_defaults
from storage.statuses import OutboxStatus

BATCH = 1000
"""Rows per IN list or multi-row insert: far below either database's parameter limit."""


@dataclass(frozen=True)
class Recipient:
    citizen_id: int
    telegram_id: int
    chat_id: int


def in_areas(areas: Collection[str]) -> ColumnElement[bool]:
    """The citizen's postcode district is in one of these postcode areas ("SO" for "SO17"):
    the area's letters followed by a digit, so "S" (Sheffield) does not take in "SO17"."""
    district = func.upper(Citizen.postcode_district)
    return or_(
        *(
            and_(
                func.substr(district, 1, len(area)) == area,
                func.substr(district, len(area) + 1, 1).between("0", "9"),
            )
            for area in areas
        )
    )


def _reachable_and_willing() -> ColumnElement[bool]:
    return and_(Citizen.growth_opt_in.is_(True), Citizen.unreachable_at.is_(None))


async def set_opt_in(session: AsyncSession, telegram_id: int, value: bool) -> bool | None:
    """Set the citizen's growth opt-in; True if it changed, None if there is no such citizen."""
    current = await session.scalar(
        select(Citizen.growth_opt_in).where(Citizen.telegram_id == telegram_id)
    )
    if current is None:
        return None
    if current != value:
        await session.execute(
            update(Citizen).where(Citizen.telegram_id == telegram_id).values(growth_opt_in=value)
        )
    return current != value


async def opted_in(session: AsyncSession, telegram_id: int) -> bool | None:
    return await session.scalar(
        select(Citizen.growth_opt_in).where(Citizen.telegram_id == telegram_id)
    )


async def still_willing(session: AsyncSession, citizen_ids: Collection[int]) -> set[int]:
    """Those of `citizen_ids` still opted in and reachable now."""
    ids = list(citizen_ids)
    found: set[int] = set()
    for start in range(0, len(ids), BATCH):
        found.update(
            await session.scalars(
                select(Citizen.id).where(
                    Citizen.id.in_(ids[start : start + BATCH]), _reachable_and_willing()
                )
            )
        )
    return found


@dataclass(frozen=True)
class Queued:
    citizen_id: int
    chat_id: int
    text: str
    markup: dict[str, Any] | None = None  # its own keyboard (worded for it), else the shared one


async def queue(
    session: AsyncSession,
    messages: Sequence[Queued],
    *,
    kind: str,
    priority: int,
    markup: dict[str, Any] | None,
    now: datetime,
    due: datetime,
    campaign_id: int | None = None,
    contest_id: int | None = None,
) -> None:
    """The growth_messages record and the outbox row of each message, in the caller's
    transaction, as two multi-row inserts (no ids fetched back): a campaign to a hundred
    thousand people is two statements per thousand rows, not two per person."""
    for start in range(0, len(messages), BATCH):
        chunk = messages[start : start + BATCH]
        await session.execute(
            insert(GrowthMessage),
            [
                {
                    "citizen_id": m.citizen_id,
                    "kind": kind,
                    "campaign_id": campaign_id,
                    "contest_id": contest_id,
                    "queued_at": now,
                }
                for m in chunk
            ],
        )
        await session.execute(
            insert(OutboxMessage),
            [
                {
                    "chat_id": m.chat_id,
                    "citizen_id": m.citizen_id,
                    "kind": kind,
                    "priority": priority,
                    "text": m.text,
                    "reply_markup": markup if m.markup is None else m.markup,
                    **pending_defaults(now),
                    "next_attempt_at": due,
                }
                for m in chunk
            ],
        )


async def cancel_queued(
    session: AsyncSession, telegram_id: int, kinds: Collection[str], reason: str
) -> int:
    """Cancel the citizen's growth messages still waiting in the outbox."""
    citizen_id = select(Citizen.id).where(Citizen.telegram_id == telegram_id).scalar_subquery()
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.citizen_id == citizen_id,
            OutboxMessage.kind.in_(list(kinds)),
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.CANCELLED.value, last_error=reason)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def ranked(
    session: AsyncSession, *, top: int, role: str | None, areas: Collection[str]
) -> list[Recipient]:
    """The `top` opted-in, reachable citizens by the nightly pass's network figures: estimated
    betweenness, then effective size (structural holes), then degree; never-scored figures last.
    """
    query = (
        select(Citizen.id, Citizen.telegram_id, Citizen.chat_id)
        .join(Score, Score.citizen_id == Citizen.id)
        .where(_reachable_and_willing())
    )
    if role is not None:
        query = query.where(Score.network_role == role)
    if areas:
        query = query.where(in_areas(areas))
    query = query.order_by(
        Score.betweenness.desc().nulls_last(),
        Score.effective_size.desc().nulls_last(),
        Score.friend_count.desc().nulls_last(),
        Citizen.id,
    ).limit(top)
    return [Recipient(*row) for row in (await session.execute(query)).all()]


async def asked_since(
    session: AsyncSession, citizen_ids: Collection[int], kinds: Collection[str], since: datetime
) -> set[int]:
    """Those of `citizen_ids` who were queued a growth message of these kinds since `since`."""
    if not citizen_ids:
        return set()
    found = await session.scalars(
        select(GrowthMessage.citizen_id).where(
            GrowthMessage.citizen_id.in_(list(citizen_ids)),
            GrowthMessage.kind.in_(list(kinds)),
            GrowthMessage.queued_at >= since,
        )
    )
    return set(found)


async def campaign_like(session: AsyncSession, areas: str, text: str) -> GrowthCampaign | None:
    """An earlier run of the same campaign (same areas and text): it is carried on, not sent
    again."""
    return await session.scalar(
        select(GrowthCampaign)
        .where(GrowthCampaign.areas == areas, GrowthCampaign.text == text)
        .order_by(GrowthCampaign.id)
        .limit(1)
    )


async def campaign_audience(
    session: AsyncSession, campaign_id: int | None, areas: Collection[str]
) -> list[Recipient]:
    """Opted-in, reachable citizens in these areas who have not had this campaign yet."""
    query = select(Citizen.id, Citizen.telegram_id, Citizen.chat_id).where(
        _reachable_and_willing(), in_areas(areas)
    )
    if campaign_id is not None:
        query = query.where(
            ~exists().where(
                GrowthMessage.campaign_id == campaign_id, GrowthMessage.citizen_id == Citizen.id
            )
        )
    return [Recipient(*row) for row in (await session.execute(query.order_by(Citizen.id))).all()]


# --------------------------------------------------------------------------------------------
# Contests


async def running_contest(session: AsyncSession, now: datetime) -> ReferralContest | None:
    return await session.scalar(
        select(ReferralContest)
        .where(
            ReferralContest.ended_at.is_(None),
            ReferralContest.starts_at <= now,
            ReferralContest.ends_at > now,
        )
        .order_by(ReferralContest.id)
        .limit(1)
    )


async def contest_counts(
    session: AsyncSession, contest: ReferralContest, until: datetime
) -> dict[int, int]:
    """Each participant's verified referrals in the contest, by citizen id (0s left out).

    A referral row exists only once the newcomer completed registration (NI number checked,
    adult): that is what "verified" means. It counts when it was made while the contest ran,
    its invitee's NI hash is not the inviter's, and neither NI hash belongs to an erased
    account (a rejoined invitee counts once ever, a rejoined inviter's invites never count);
    distinct invitee NI hashes, so one number counts once.
    """
    inviter = aliased(Citizen)
    invitee = aliased(Citizen)
    erased_invitee = exists().where(Erasure.ni_hash == invitee.ni_hash)
    erased_inviter = exists().where(Erasure.ni_hash == inviter.ni_hash)
    rows = await session.execute(
        select(Referral.inviter_id, func.count(func.distinct(invitee.ni_hash)))
        .join(invitee, invitee.id == Referral.invitee_id)
        .join(inviter, inviter.id == Referral.inviter_id)
        .join(
            ContestEntry,
            and_(
                ContestEntry.contest_id == contest.id,
                ContestEntry.citizen_id == Referral.inviter_id,
            ),
        )
        .where(
            Referral.created_at >= contest.starts_at,
            Referral.created_at < contest.ends_at,
            # Up to and including `until` (now, or when it was ended early).
            Referral.created_at <= until,
            invitee.ni_hash != inviter.ni_hash,
            ~erased_invitee,
            ~erased_inviter,
        )
        .group_by(Referral.inviter_id)
    )
    return {int(citizen_id): int(count) for citizen_id, count in rows.all()}


@dataclass(frozen=True)
class Participant:
    citizen_id: int
    telegram_id: int
    chat_id: int
    display_name: str
    listed: bool
    final_count: int | None
    reachable: bool


async def participants(session: AsyncSession, contest_id: int) -> list[Participant]:
    rows = await session.execute(
        select(
            Citizen.id,
            Citizen.telegram_id,
            Citizen.chat_id,
            Citizen.display_name,
            ContestEntry.listed,
            ContestEntry.final_count,
            Citizen.unreachable_at.is_(None),
        )
        .join(ContestEntry, ContestEntry.citizen_id == Citizen.id)
        .where(ContestEntry.contest_id == contest_id)
        .order_by(Citizen.id)
    )
    return [Participant(*row) for row in rows.all()]


async def entry(session: AsyncSession, contest_id: int, citizen_id: int) -> ContestEntry | None:
    return await session.get(ContestEntry, (contest_id, citizen_id))


async def announced(session: AsyncSession, contest_id: int) -> set[int]:
    """Participants already sent this contest's result."""
    found = await session.scalars(
        select(GrowthMessage.citizen_id).where(GrowthMessage.contest_id == contest_id)
    )
    return set(found)


async def entry_counts(session: AsyncSession) -> dict[int, int]:
    rows = await session.execute(
        select(ContestEntry.contest_id, func.count()).group_by(ContestEntry.contest_id)
    )
    return {int(contest_id): int(count) for contest_id, count in rows.all()}
