"""What the sandbox keeps in the database: the demo API clients and where update ids go on.

Kept apart from bot/sandbox.py (the page's routes) because these run against the database at
each start, before the page or the bot handle anything.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import func, select

from services.api_clients import API_KEY_PURPOSE, ApiClients, ClientT
from services.clock import Clock
from services.operators import OperatorService
from services.partners import PartnerService
from services.secrets import keyed_hash
from services.sponsors import SponsorService
from storage.db import Database
from storage.models import Operator, Partner, ProcessedUpdate, Sponsor

DEMO_SPONSOR_NAME = "Sandbox demo sponsor"
DEMO_PARTNER_NAME = "Sandbox demo partner"
DEMO_OPERATOR_NAME = "Sandbox demo operator"
# Invented figures (the file says so): adoption shares on the operator page in the sandbox.
DEMO_POPULATION_FILE = Path(__file__).parents[1] / "data" / "population_demo.csv"


async def demo_sponsor_key(db: Database, secret_key: bytes, clock: Clock) -> tuple[str, str]:
    """A fresh key for the demo sponsor (created the first time); the old key stops working.

    Only a key's hash is stored, so the previous run's key can't be shown again: it is
    replaced instead, under the same sponsor, so its promotions stay visible in the portal.
    """
    registry = SponsorService(db, secret_key, clock)
    return await _fresh_key(db, secret_key, registry, Sponsor, DEMO_SPONSOR_NAME)


async def demo_partner_key(db: Database, secret_key: bytes, clock: Clock) -> tuple[str, str]:
    """The same for the demo data partner: the events it sent and the access it was granted
    stay attached to it across restarts."""
    registry = PartnerService(db, secret_key, clock)
    return await _fresh_key(db, secret_key, registry, Partner, DEMO_PARTNER_NAME)


async def demo_operator_key(db: Database, secret_key: bytes, clock: Clock) -> tuple[str, str]:
    """The same for the demo operator, so the operator page (/operator) can be tried."""
    registry = OperatorService(db, secret_key, clock)
    return await _fresh_key(db, secret_key, registry, Operator, DEMO_OPERATOR_NAME)


async def _fresh_key(
    db: Database,
    secret_key: bytes,
    registry: ApiClients[ClientT],
    model: type[ClientT],
    name: str,
) -> tuple[str, str]:
    key = registry.prefix + secrets.token_urlsafe(32)
    async with db.transaction() as session:
        existing = await session.scalar(select(model).where(model.name == name))
        if existing is not None:
            existing.api_key_hash = keyed_hash(secret_key, API_KEY_PURPOSE, key)
            return key, existing.name
    client, key = await registry.create(name)
    return key, client.name


async def last_processed_update_id(db: Database) -> int:
    """The highest update id in the processed-update ledger (0 when it is empty).

    A new stand-in would number updates from 1 again; the ledger, which outlives it in the
    database, would take each of those for a redelivery and the bot would ignore it. Telegram
    never reuses a bot's update ids either, so the sandbox carries on after this one.
    """
    async with db.transaction() as session:
        highest = await session.scalar(select(func.max(ProcessedUpdate.update_id)))
    return int(highest or 0)
