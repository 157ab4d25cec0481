"""What an erased account leaves behind: its NI hash in ``erasures`` and nothing else.

Small queries shared by the services that must respect an erasure (partner events, marketing
on re-registration, referrals); they take the caller's session so they join its transaction.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Erasure


async def erased_hashes(session: AsyncSession, ni_hashes: Collection[str]) -> set[str]:
    """Those of ``ni_hashes`` that belong to erased accounts."""
    if not ni_hashes:
        return set()
    found = await session.scalars(select(Erasure.ni_hash).where(Erasure.ni_hash.in_(ni_hashes)))
    return set(found)


async def marketing_suppressed(session: AsyncSession, ni_hash: str) -> bool:
    """True if this NI number belonged to an account that was erased: a re-registration starts
    with promotions off (and is only asked again if the registration flow asks everyone)."""
    return await session.get(Erasure, ni_hash) is not None


async def was_erased(session: AsyncSession, ni_hash: str) -> bool:
    """True if this NI number belonged to an erased account: no referral is credited again."""
    return await session.get(Erasure, ni_hash) is not None
