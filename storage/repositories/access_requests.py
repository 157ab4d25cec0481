"""Access requests' manners: open requests per partner, denials, and citizens' blocks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AccessRequest, Partner, PartnerBlock, ScoreAccess
from storage.statuses import AccessRequestStatus


async def open_requests_since(session: AsyncSession, partner_id: int, since: datetime) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(AccessRequest)
            .where(
                AccessRequest.partner_id == partner_id,
                AccessRequest.status == AccessRequestStatus.PENDING,
                AccessRequest.created_at > since,
            )
        )
        or 0
    )


async def last_denial(session: AsyncSession, partner_id: int, citizen_id: int) -> datetime | None:
    return await session.scalar(
        select(func.max(AccessRequest.answered_at)).where(
            AccessRequest.partner_id == partner_id,
            AccessRequest.citizen_id == citizen_id,
            AccessRequest.status == AccessRequestStatus.DENIED,
        )
    )


async def is_blocked(session: AsyncSession, citizen_id: int, partner_id: int) -> bool:
    found = await session.get(PartnerBlock, (citizen_id, partner_id))
    return found is not None


async def block(session: AsyncSession, citizen_id: int, partner_id: int, now: datetime) -> None:
    if not await is_blocked(session, citizen_id, partner_id):
        session.add(PartnerBlock(citizen_id=citizen_id, partner_id=partner_id, created_at=now))
        await session.flush()


async def unblock(session: AsyncSession, citizen_id: int, partner_id: int) -> bool:
    done = await session.execute(
        delete(PartnerBlock).where(
            PartnerBlock.citizen_id == citizen_id, PartnerBlock.partner_id == partner_id
        )
    )
    return bool(getattr(done, "rowcount", 0))


async def partners_in_touch(session: AsyncSession, citizen_id: int) -> list[tuple[int, str]]:
    """Partners who have asked about, or looked at, this citizen's score (to block from /share)."""
    ids = union(
        select(AccessRequest.partner_id).where(AccessRequest.citizen_id == citizen_id),
        # Not a Boost partner the citizen removed (services.boost logs that here too).
        select(ScoreAccess.partner_id).where(
            ScoreAccess.citizen_id == citizen_id, ScoreAccess.via.in_(("code", "request"))
        ),
    ).subquery()
    rows = await session.execute(
        select(Partner.id, Partner.name).where(Partner.id.in_(select(ids))).order_by(Partner.name)
    )
    return [(pid, name) for pid, name in rows]


async def blocked_partners(session: AsyncSession, citizen_id: int) -> list[tuple[int, str]]:
    rows = await session.execute(
        select(Partner.id, Partner.name)
        .join(PartnerBlock, PartnerBlock.partner_id == Partner.id)
        .where(PartnerBlock.citizen_id == citizen_id)
        .order_by(Partner.name)
    )
    return [(pid, name) for pid, name in rows]


async def other_threshold_asked(
    session: AsyncSession,
    partner_id: int,
    citizen_id: int,
    check_name: str,
    check_value: str | None,
    since: datetime,
) -> tuple[str | None, datetime] | None:
    """The latest answer since `since` this partner got about this person to a check of this
    kind with another value (services.checks.THRESHOLD_LOCK): its value and when."""
    row = (
        await session.execute(
            select(ScoreAccess.check_value, ScoreAccess.accessed_at)
            .where(
                ScoreAccess.partner_id == partner_id,
                ScoreAccess.citizen_id == citizen_id,
                ScoreAccess.check_name == check_name,
                ScoreAccess.check_value.is_distinct_from(check_value),
                ScoreAccess.accessed_at > since,
            )
            .order_by(ScoreAccess.accessed_at.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else (row[0], row[1])
