"""Data partners (utilities, lenders) and their API keys.

Keys are ``bz_pt_`` plus 256 random bits, shown once, stored only as a keyed hash: the one
scheme in services.api_clients, shared with sponsors.
"""

from __future__ import annotations

from services.api_clients import ApiClients
from services.clock import Clock, system_clock
from storage.db import Database
from storage.models import Partner

PARTNER_KEY_PREFIX = "bz_pt_"


def partner_source(partner_id: int) -> str:
    """The ``payment_events.source`` of a partner's events."""
    return f"partner:{partner_id}"


class PartnerService(ApiClients[Partner]):
    def __init__(self, db: Database, secret_key: bytes, clock: Clock = system_clock) -> None:
        super().__init__(Partner, "partner", PARTNER_KEY_PREFIX, db, secret_key, clock)
