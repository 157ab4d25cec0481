"""Operators: Britizen's own staff, who read the growth report with ``bz_op_`` keys.

The one key scheme in services.api_clients (256 random bits, shown once, only a keyed hash
stored). A separate kind rather than a flag on sponsors so that no sponsor or partner key can
ever open an operator route, and an operator key opens nothing else (api.access).
"""

from __future__ import annotations

from services.api_clients import ApiClients
from services.clock import Clock, system_clock
from storage.db import Database
from storage.models import Operator

OPERATOR_KEY_PREFIX = "bz_op_"


class OperatorService(ApiClients[Operator]):
    def __init__(self, db: Database, secret_key: bytes, clock: Clock = system_clock) -> None:
        super().__init__(Operator, "operator", OPERATOR_KEY_PREFIX, db, secret_key, clock)
