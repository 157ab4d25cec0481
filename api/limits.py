"""The API's documented limits, and the request-rate limiter's interface."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Protocol

# Promotions and events are small JSON documents; 64 KiB leaves ample room and keeps a slow or
# hostile client from making us buffer megabytes per request.
MAX_BODY_BYTES = 64 * 1024
# A partner's batch of up to 1,000 payment events is about 150 bytes an event.
EVENTS_MAX_BODY_BYTES = 512 * 1024
# Our bodies nest four levels at most; json.loads recurses once a level, so depth is capped
# before parsing (api.errors.parse_json).
MAX_JSON_DEPTH = 64
# Ids are 32-bit integers in both databases: a longer number cannot name a row (and would
# overflow a PostgreSQL integer parameter), so it is simply not found.
MAX_ID = 2**31 - 1
_ASCII_DIGITS = frozenset("0123456789")


def row_id(raw: str) -> int | None:
    """A path segment as a row id, or None if no row can have it. Strictly ASCII digits:
    str.isdigit() is true for "²" (and int() refuses it), \\d matches "١" (and int() reads 1)."""
    if not raw or len(raw) > 10 or not set(raw) <= _ASCII_DIGITS:
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None


# Two requests a second on average per key: far above what a sponsor's integration needs, low
# enough that one runaway client cannot monopolise the database.
REQUESTS_PER_MINUTE = 120
WINDOW_SECONDS = 60.0


class RateLimiter(Protocol):
    async def hit(self, caller: str) -> int | None:
        """Count a request; None if accepted, else the whole seconds until one would be."""


class SlidingWindowLimiter:
    """At most ``limit`` accepted requests per key in any ``window`` seconds, in this process's
    memory: for an API app built on its own (tests). The service counts in the database
    instead (services.rate_limits.ApiRateLimiter), so its limit holds across instances.
    """

    def __init__(
        self,
        limit: int = REQUESTS_PER_MINUTE,
        window: float = WINDOW_SECONDS,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self._now = now
        self._hits: dict[Hashable, deque[float]] = {}

    async def hit(self, caller: str) -> int | None:
        """Rejected requests are not recorded, so a client that waits as told gets through."""
        now = self._now()
        hits = self._hits.setdefault(caller, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(1, math.ceil(hits[0] + self.window - now))
        hits.append(now)
        return None
