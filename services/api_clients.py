"""API clients (sponsors, partners, operators) and their keys: one scheme for every kind.

A key is a kind-specific prefix (``bz_sp_``, ``bz_pt_``, ``bz_op_``) plus 43 URL-safe base64
characters (256 bits from ``secrets``): the prefix tells the API which kind of caller a key
claims to be before anything is looked up, and lets an operator (and secret scanners)
recognise a leaked key at a glance. Only ``keyed_hash(secret_key, "api-key", key)`` is
stored, so a copy of the database yields no working keys and a key is shown exactly once,
when it is created.
"""

from __future__ import annotations

import secrets
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.clock import Clock, system_clock
from services.secrets import keyed_hash
from storage.db import Database
from storage.models import Operator, Partner, Sponsor

API_KEY_PURPOSE = "api-key"
MAX_NAME_LENGTH = 100
# A real key is 6 + 43 characters; anything far longer is not worth hashing.
_MAX_KEY_LENGTH = 200

ClientT = TypeVar("ClientT", Sponsor, Partner, Operator)

# Every kind's prefix, so a key sent to another kind's route can be named in the refusal
# ("that is an operator key") without looking anything up.
KEY_PREFIXES = {"bz_sp_": "sponsor", "bz_pt_": "partner", "bz_op_": "operator"}


def kind_of_key(api_key: str) -> str | None:
    """The kind of client a key claims to be by its prefix (None for anything else)."""
    return next((kind for p, kind in KEY_PREFIXES.items() if api_key.startswith(p)), None)


class ApiClientError(Exception):
    """A client could not be created; the message is fit to show an operator."""


class ApiClientNameTaken(ApiClientError):
    pass


class InvalidApiClientName(ApiClientError):
    pass


class ApiClients(Generic[ClientT]):
    """Create clients of one kind and find them again by key."""

    def __init__(
        self,
        model: type[ClientT],
        kind: str,
        prefix: str,
        db: Database,
        secret_key: bytes,
        clock: Clock = system_clock,
    ) -> None:
        self._model: type[ClientT] = model
        self.kind = kind
        self.prefix = prefix
        self._db = db
        self._secret_key = secret_key
        self._clock = clock

    def _hash(self, api_key: str) -> str:
        return keyed_hash(self._secret_key, API_KEY_PURPOSE, api_key)

    async def create(self, name: str) -> tuple[ClientT, str]:
        """Create a client and return it with its API key, the only time the key exists in
        clear. Raises ApiClientNameTaken or InvalidApiClientName."""
        name = " ".join(name.split())
        if not name:
            raise InvalidApiClientName(f"a {self.kind} name must not be empty")
        if len(name) > MAX_NAME_LENGTH:
            raise InvalidApiClientName(
                f"a {self.kind} name must be at most {MAX_NAME_LENGTH} characters"
            )
        api_key = self.prefix + secrets.token_urlsafe(32)
        client = self._model(name=name, api_key_hash=self._hash(api_key), created_at=self._clock())
        try:
            async with self._db.transaction() as session:
                session.add(client)
        except IntegrityError as exc:
            # The unique constraint, not a prior SELECT, decides: two concurrent `add` runs
            # with one name cannot both succeed. A key-hash clash is 2**-256: not handled.
            raise ApiClientNameTaken(f"a {self.kind} named {name!r} already exists") from exc
        return client, api_key

    async def authenticate(self, api_key: str) -> ClientT | None:
        """The client owning this key, or None.

        The key is never compared itself: its keyed hash is looked up by the unique index. An
        attacker cannot steer which bytes of the stored hash a guess matches, so lookup timing
        reveals nothing useful about any real key (unlike comparing keys character by character).
        """
        if not api_key.startswith(self.prefix) or len(api_key) > _MAX_KEY_LENGTH:
            return None
        async with self._db.transaction() as session:
            # expire_on_commit is off, so the row stays readable after the session closes.
            return await session.scalar(
                select(self._model).where(self._model.api_key_hash == self._hash(api_key))
            )
