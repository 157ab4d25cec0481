"""Sponsors and their API keys.

A key is ``bz_sp_`` plus 43 URL-safe base64 characters (256 bits from ``secrets``): the prefix
lets an operator (and secret scanners) recognise a leaked Britizen sponsor key at a glance.
Only ``keyed_hash(secret_key, "api-key", key)`` is stored, so a copy of the database yields no
working keys and the key is shown exactly once, when it is created.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.clock import Clock, system_clock
from services.secrets import keyed_hash
from storage.db import Database
from storage.models import Sponsor

API_KEY_PREFIX = "bz_sp_"
API_KEY_PURPOSE = "api-key"
MAX_NAME_LENGTH = 100
# A real key is 6 + 43 characters; anything far longer is not worth hashing.
_MAX_KEY_LENGTH = 200


class SponsorError(Exception):
    """A sponsor could not be created; the message is fit to show an operator."""


class SponsorNameTaken(SponsorError):
    pass


class InvalidSponsorName(SponsorError):
    pass


class SponsorService:
    def __init__(self, db: Database, secret_key: bytes, clock: Clock = system_clock) -> None:
        self._db = db
        self._secret_key = secret_key
        self._clock = clock

    def _hash(self, api_key: str) -> str:
        return keyed_hash(self._secret_key, API_KEY_PURPOSE, api_key)

    async def create_sponsor(self, name: str) -> tuple[Sponsor, str]:
        """Create a sponsor and return it with its API key, the only time the key exists in
        clear. Raises SponsorNameTaken or InvalidSponsorName."""
        name = " ".join(name.split())
        if not name:
            raise InvalidSponsorName("a sponsor name must not be empty")
        if len(name) > MAX_NAME_LENGTH:
            raise InvalidSponsorName(f"a sponsor name must be at most {MAX_NAME_LENGTH} characters")
        api_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
        sponsor = Sponsor(name=name, api_key_hash=self._hash(api_key), created_at=self._clock())
        try:
            async with self._db.transaction() as session:
                session.add(sponsor)
        except IntegrityError as exc:
            # The unique constraint, not a prior SELECT, decides: two concurrent `sponsor add`
            # runs with one name cannot both succeed. A key-hash clash is 2**-256: not handled.
            raise SponsorNameTaken(f"a sponsor named {name!r} already exists") from exc
        return sponsor, api_key

    async def authenticate(self, api_key: str) -> Sponsor | None:
        """The sponsor owning this key, or None.

        The key is never compared itself: its keyed hash is looked up by the unique index. An
        attacker cannot steer which bytes of the stored hash a guess matches, so lookup timing
        reveals nothing useful about any real key (unlike comparing keys character by character).
        """
        if not api_key.startswith(API_KEY_PREFIX) or len(api_key) > _MAX_KEY_LENGTH:
            return None
        async with self._db.transaction() as session:
            # expire_on_commit is off, so the row stays readable after the session closes.
            return await session.scalar(
                select(Sponsor).where(Sponsor.api_key_hash == self._hash(api_key))
            )
