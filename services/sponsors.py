"""Sponsors (promotions through the HTTP API) and their `bz_sp_` keys: services.api_clients."""

from __future__ import annotations

from services.api_clients import (
    API_KEY_PURPOSE,
    MAX_NAME_LENGTH,
    ApiClientError,
    ApiClientNameTaken,
    ApiClients,
    InvalidApiClientName,
)
from services.clock import Clock, system_clock
from storage.db import Database
from storage.models import Sponsor

__all__ = [
    "API_KEY_PREFIX",
    "API_KEY_PURPOSE",
    "MAX_NAME_LENGTH",
    "InvalidSponsorName",
    "SponsorError",
    "SponsorNameTaken",
    "SponsorService",
]

API_KEY_PREFIX = "bz_sp_"
SponsorError = ApiClientError
SponsorNameTaken = ApiClientNameTaken
InvalidSponsorName = InvalidApiClientName


class SponsorService(ApiClients[Sponsor]):
    def __init__(self, db: Database, secret_key: bytes, clock: Clock = system_clock) -> None:
        super().__init__(Sponsor, "sponsor", API_KEY_PREFIX, db, secret_key, clock)

    async def create_sponsor(self, name: str) -> tuple[Sponsor, str]:
        return await self.create(name)
