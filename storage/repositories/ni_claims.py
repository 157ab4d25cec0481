"""SQL for NI-number claims (services.ni_claims holds the rules)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AccessRequest,
    Erasure,
    NiClaim,
    NiClaimEvent,
    RetainedRecord,
    ShareCode,
)
from storage.repositories import review_queues as queues
from storage.statuses import AccessRequestStatus, NiClaimStatus

FREEZING = (NiClaimStatus.OPEN, NiClaimStatus.MOVED)
"""An open claim freezes the holder; so does a move (the account no longer has a number)."""


async def is_frozen(session: AsyncSession, citizen_id: int) -> bool:
    return bool(
        await session.scalar(
            select(
                exists().where(
                    NiClaim.holder_citizen_id == citizen_id, NiClaim.status.in_(FREEZING)
                )
            )
        )
    )


async def open_for_hash(session: AsyncSession, ni_hash: str) -> NiClaim | None:
    return await session.scalar(
        select(NiClaim).where(NiClaim.ni_hash == ni_hash, NiClaim.status == NiClaimStatus.OPEN)
    )


async def open_by_claimant(session: AsyncSession, telegram_id: int) -> NiClaim | None:
    return await session.scalar(
        select(NiClaim).where(
            NiClaim.claimant_telegram_id == telegram_id, NiClaim.status == NiClaimStatus.OPEN
        )
    )


async def open_against(session: AsyncSession, citizen_id: int) -> NiClaim | None:
    """The open claim on this account's number, if any (for the holder's reply)."""
    return await session.scalar(
        select(NiClaim).where(
            NiClaim.holder_citizen_id == citizen_id, NiClaim.status == NiClaimStatus.OPEN
        )
    )


async def claims_since(session: AsyncSession, telegram_id: int, since: datetime) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(NiClaim)
            .where(NiClaim.claimant_telegram_id == telegram_id, NiClaim.created_at >= since)
        )
        or 0
    )


async def last_rejected_at(session: AsyncSession, telegram_id: int) -> datetime | None:
    return await session.scalar(
        select(func.max(NiClaim.decided_at)).where(
            NiClaim.claimant_telegram_id == telegram_id,
            NiClaim.status == NiClaimStatus.REJECTED,
        )
    )


async def take_for_decision(session: AsyncSession, claim_id: int, now: datetime) -> bool:
    """Mark an open claim decided, first thing in the transaction: of two reviewers deciding
    at once only one UPDATE finds it open (and it holds the row until commit)."""
    result = await session.execute(
        update(NiClaim)
        .where(NiClaim.id == claim_id, NiClaim.status == NiClaimStatus.OPEN)
        .values(decided_at=now)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def oldest_open(session: AsyncSession) -> NiClaim | None:
    return await queues.oldest_open(session, NiClaim)


async def count_open(session: AsyncSession) -> int:
    return await queues.count_open(session, NiClaim)


def log(
    session: AsyncSession, claim_id: int, telegram_id: int, role: str, action: str, at: datetime
) -> None:
    session.add(
        NiClaimEvent(claim_id=claim_id, telegram_id=telegram_id, role=role, action=action, at=at)
    )


async def events_for(session: AsyncSession, telegram_id: int) -> list[NiClaimEvent]:
    return list(
        (
            await session.scalars(
                select(NiClaimEvent)
                .where(NiClaimEvent.telegram_id == telegram_id)
                .order_by(NiClaimEvent.at, NiClaimEvent.id)
            )
        ).all()
    )


async def retire_sharing(session: AsyncSession, citizen_id: int, now: datetime) -> None:
    """End the account's live share codes and open partner requests: a frozen score leaves
    nothing readable behind (an expired request reads as expired to the partner)."""
    await session.execute(
        update(ShareCode)
        .where(
            ShareCode.citizen_id == citizen_id,
            ShareCode.used_at.is_(None),
            ShareCode.expires_at > now,
        )
        .values(expires_at=now)
    )
    await session.execute(
        update(AccessRequest)
        .where(
            AccessRequest.citizen_id == citizen_id,
            AccessRequest.status.in_((AccessRequestStatus.PENDING, AccessRequestStatus.ALLOWED)),
            AccessRequest.expires_at > now,
        )
        .values(expires_at=now)
    )


async def forget_erasure_since(session: AsyncSession, ni_hash: str, since: datetime) -> bool:
    """Drop the erasure of this number made since `since` (the claimed account's own) and the
    adverse records kept from it; True if there was one."""
    gone = await session.execute(
        delete(Erasure).where(Erasure.ni_hash == ni_hash, Erasure.erased_at >= since)
    )
    if gone.rowcount != 1:  # type: ignore[attr-defined]
        return False
    await session.execute(delete(RetainedRecord).where(RetainedRecord.ni_hash == ni_hash))
    return True


async def stale_documents(session: AsyncSession, before: datetime) -> list[NiClaim]:
    return list(
        (
            await session.scalars(
                select(NiClaim).where(
                    NiClaim.document_encrypted.is_not(None), NiClaim.created_at < before
                )
            )
        ).all()
    )
