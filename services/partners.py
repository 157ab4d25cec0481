"""Data partners (utilities, lenders) and their API keys.

The same scheme as sponsors (services.sponsors): a key is ``bz_pt_`` plus 256 random bits,
shown once, stored only as a keyed hash. The distinct prefix tells the API which kind of
caller a key claims to be before anything is looked up.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.clock import Clock, system_clock
from services.secrets import keyed_hash
from services.sponsors import API_KEY_PURPOSE
from storage.db import Database
from storage.models import Partner

PARTNER_KEY_PREFIX = "bz_pt_"
MAX_NAME_LENGTH = 100
_MAX_KEY_LENGTH = 200


class PartnerError(Exception):
    """A partner could not be created; the message is fit to show an operator."""


class PartnerNameTaken(PartnerError):
    pass


class InvalidPartnerName(PartnerError):
    pass


def partner_source(partner_id: int) -> str:
    """The ``payment_events.source`` of a partner's events."""
    return f"partner:{partner_id}"


class PartnerService:
    def __init__(self, db: Database, secret_key: bytes, clock: Clock = system_clock) -> None:
        self._db = db
        self._secret_key = secret_key
        self._clock = clock

    def _hash(self, api_key: str) -> str:
        return keyed_hash(self._secret_key, API_KEY_PURPOSE, api_key)

    async def create_partner(self, name: str) -> tuple[Partner, str]:
        """Create a partner and return it with its API key (the only time it exists in clear)."""
        name = " ".join(name.split())
        if not name:
            raise InvalidPartnerName("a partner name must not be empty")
        if len(name) > MAX_NAME_LENGTH:
            raise InvalidPartnerName(f"a partner name must be at most {MAX_NAME_LENGTH} characters")
        api_key = PARTNER_KEY_PREFIX + secrets.token_urlsafe(32)
        partner = Partner(name=name, api_key_hash=self._hash(api_key), created_at=self._clock())
        try:
            async with self._db.transaction() as session:
                session.add(partner)
        except IntegrityError as exc:
            raise PartnerNameTaken(f"a partner named {name!r} already exists") from exc
        return partner, api_key

    async def authenticate(self, api_key: str) -> Partner | None:
        """The partner owning this key, or None (found by its keyed hash, never compared)."""
        if not api_key.startswith(PARTNER_KEY_PREFIX) or len(api_key) > _MAX_KEY_LENGTH:
            return None
        async with self._db.transaction() as session:
            return await session.scalar(
                select(Partner).where(Partner.api_key_hash == self._hash(api_key))
            )
