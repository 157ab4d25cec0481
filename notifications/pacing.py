"""Pacing the dispatcher's sends: evenly spaced slots at the send rate."""

from __future__ import annotations

import asyncio
import logging
import time

from notifications.outbox import (
    CATCH_UP_SECONDS,
)

logger = logging.getLogger(__name__)


class _Pacer:
    """Evenly spaced send slots at `rate`: never a burst above it.

    After a stall the pacer catches up at most `CATCH_UP_SECONDS` worth of slots at once, so a
    busy CPU costs little throughput, and no second ever holds more than
    ``rate * (1 + CATCH_UP_SECONDS) + 1`` sends (27.5 at the default 25/s; Telegram's is 30).
    """

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._catch_up = max(CATCH_UP_SECONDS, 0.0)
        self._next = 0.0

    def idle(self) -> None:
        """Nothing to send: the next message starts a fresh schedule, with nothing to catch up."""
        self._next = 0.0

    async def wait(self, not_before: float) -> None:
        now = time.monotonic()
        if self._next == 0.0:
            self._next = now
        slot = max(self._next, now - self._catch_up, not_before)
        self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)
