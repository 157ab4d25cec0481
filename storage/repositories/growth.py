"""The growth report's SQL (services.growth_report): aggregates only, never a person.

Each function is one statement that scans its table once, whatever the number of weeks:
weekly figures are ``CASE`` buckets against bound week boundaries rather than date functions,
so the same SQL runs on SQLite and PostgreSQL (their date arithmetic differs) and at 1M
citizens the report is a handful of scans.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.models import (
    Citizen,
    Dispute,
    FriendRequest,
    Friendship,
    Instalment,
    InviteCode,
    Loan,
    Redemption,
    Referral,
    ShareCode,
)


@dataclass(frozen=True)
class DistrictCounts:
    district: str | None
    registered: int
    new_7d: int
    new_28d: int
    by: tuple[int, ...]
    """Of these, how many existed at each of the moments asked about."""


@dataclass(frozen=True)
class FunnelCounts:
    links_made: int
    opened: int
    registered: int
    verified: int


def _count_when(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def registered_by_district(
    session: AsyncSession, since_7d: datetime, since_28d: datetime, moments: Sequence[datetime]
) -> list[DistrictCounts]:
    """Accounts per postcode district (NULL: none given), with those created since each time
    and those existing at each moment: one pass over the (district, registered_at) index, a
    few thousand rows out; the caller folds them into areas and the national series."""
    rows = await session.execute(
        select(
            Citizen.postcode_district,
            func.count(),
            _count_when(Citizen.registered_at >= since_7d),
            _count_when(Citizen.registered_at >= since_28d),
            *(_count_when(Citizen.registered_at <= m) for m in moments),
        ).group_by(Citizen.postcode_district)
    )
    return [
        DistrictCounts(row[0], int(row[1]), int(row[2]), int(row[3]), tuple(map(int, row[4:])))
        for row in rows.all()
    ]


def _activity() -> list[tuple[Any, Any]]:
    """Every dated row a citizen's own action leaves, as (citizen id, when, table).

    Reading /score or /why leaves no row (the update ledger keeps no user id), so "active" is
    a lower bound: people who did something the database records.
    """
    responder = case(
        (Friendship.requester_id == Friendship.low_id, Friendship.high_id),
        else_=Friendship.low_id,
    )
    return [
        (Citizen.id, Citizen.registered_at),
        (FriendRequest.requester_id, FriendRequest.created_at),
        (responder, Friendship.responded_at),
        (Loan.citizen_id, Loan.created_at),
        (Redemption.citizen_id, Redemption.redeemed_at),
        (Dispute.citizen_id, Dispute.created_at),
        (ShareCode.citizen_id, ShareCode.created_at),
    ]


async def active_by_week(session: AsyncSession, boundaries: Sequence[datetime]) -> list[int]:
    """Distinct citizens with any recorded action in each week (boundaries[i], boundaries[i+1]]
    (ending at the moment itself, so what happened "now" is in the last week).

    Only still-registered people count (erased accounts' rows are gone with them).
    """
    weeks = len(boundaries) - 1
    if weeks < 1:
        return []
    start, end = boundaries[0], boundaries[-1]
    parts: list[Any] = []
    for who, when in _activity():
        parts.append(
            select(who.label("citizen_id"), when.label("at")).where(and_(when > start, when <= end))
        )
    # Instalments carry no citizen: paying one is the loan holder's action.
    parts.append(
        select(Loan.citizen_id.label("citizen_id"), Instalment.paid_at.label("at"))
        .join(Loan, Loan.id == Instalment.loan_id)
        .where(and_(Instalment.paid_at > start, Instalment.paid_at <= end))
    )
    acts = union_all(*parts).subquery("acts")
    # One week needs no CASE (and a CASE without WHEN is not SQL).
    bucket = (
        case(
            *((acts.c.at <= boundaries[i + 1], literal(i)) for i in range(weeks - 1)),
            else_=literal(weeks - 1),
        )
        if weeks > 1
        else literal(0)
    )
    rows = await session.execute(
        select(
            cast(bucket, Integer).label("week"), func.count(func.distinct(acts.c.citizen_id))
        ).group_by("week")
    )
    counts = [0] * weeks
    for week, n in rows.all():
        counts[int(week)] = int(n)
    return counts


async def funnel_counts(session: AsyncSession) -> FunnelCounts:
    made, opened, registered = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(InviteCode.opened_count), 0),
                func.coalesce(func.sum(InviteCode.registered_count), 0),
            ).select_from(InviteCode)
        )
    ).one()
    verified = await session.scalar(select(func.count()).select_from(Referral))
    return FunnelCounts(int(made), int(opened), int(registered), int(verified or 0))


async def latest_registration(session: AsyncSession) -> datetime | None:
    return await session.scalar(select(func.max(Citizen.registered_at)))
