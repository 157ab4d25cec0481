"""Data partners (utilities, lenders) and their API keys.

Keys are ``bz_pt_`` plus 256 random bits, shown once, stored only as a keyed hash: the one
scheme in services.api_clients, shared with sponsors.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api_clients import ApiClients
from services.clock import Clock, system_clock
from storage.db import Database
from storage.models import Partner
from storage.repositories import boost as boost_repo

PARTNER_KEY_PREFIX = "bz_pt_"


def partner_source(partner_id: int) -> str:
    """The ``payment_events.source`` of a partner's events."""
    return f"partner:{partner_id}"


def partner_id_of_source(source: str) -> int | None:
    """The partner id in a ``payment_events.source`` (None for other sources)."""
    prefix, _, number = source.partition(":")
    return int(number) if prefix == "partner" and number.isdigit() else None


async def partner_names(session: AsyncSession) -> dict[str, str]:
    """Every partner's name by its events' source (``partner:<id>``)."""
    rows = await session.execute(select(Partner.id, Partner.name))
    return {partner_source(partner_id): name for partner_id, name in rows.all()}


class PartnerService(ApiClients[Partner]):
    def __init__(self, db: Database, secret_key: bytes, clock: Clock = system_clock) -> None:
        super().__init__(Partner, "partner", PARTNER_KEY_PREFIX, db, secret_key, clock)

    async def is_boost_partner(self, partner_id: int) -> bool:
        """Whether the partner signed up through a citizen's Boost invitation (api.access
        keeps such a key to the routes in BOOST_PARTNER_ROUTES)."""
        async with self._db.autocommit() as session:
            return await boost_repo.is_boost_partner(session, partner_id)
