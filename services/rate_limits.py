"""The HTTP API's per-key request rate, counted in the database so it holds across instances.

A fixed window per clock minute: one row per caller per minute, incremented by a single
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` (PostgreSQL and SQLite both have it), which
is atomic however many instances count at once, and costs one statement per request in
autocommit (no BEGIN/COMMIT round trips). Why not a library: the ones that share a count
(limits, slowapi) do it through Redis or memcached, a service Britizen does not run; the
database is already shared by every instance. A fixed window lets a client send up to twice
the limit across a minute boundary; that is within what the limit is for (no runaway client
monopolises the database), and the answer's Retry-After is exact.

Requests refused with 429 are counted too: a client hammering through its refusals stays
refused until the minute ends, which is when Retry-After says to come back.
"""

from __future__ import annotations

import math

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from services.clock import Clock, system_clock
from storage.db import Database
from storage.models import ApiRateCount

WINDOW_SECONDS = 60


class ApiRateLimiter:
    """At most ``limit`` requests per caller in each clock minute, across all instances."""

    def __init__(self, db: Database, limit: int, clock: Clock = system_clock) -> None:
        self._db = db
        self.limit = limit
        self._clock = clock

    async def hit(self, caller: str) -> int | None:
        """Count a request by ``caller`` (e.g. ``sponsor:12``); None if it is within the limit,
        else the whole seconds until the next window opens."""
        now = self._clock().timestamp()
        window = math.floor(now / WINDOW_SECONDS)
        insert = sqlite.insert if self._db.is_sqlite else postgresql.insert
        table = ApiRateCount.__table__
        upsert = (
            insert(ApiRateCount)
            .values(caller=caller, window=window, hits=1)
            .on_conflict_do_update(
                index_elements=[table.c.caller, table.c.window],
                set_={"hits": table.c.hits + 1},
            )
            .returning(table.c.hits)
        )
        async with self._db.autocommit() as session:
            hits = (await session.execute(upsert)).scalar_one()
            if hits == 1:
                # This caller's first request this minute: its older windows are history.
                await session.execute(
                    delete(ApiRateCount).where(
                        ApiRateCount.caller == caller, ApiRateCount.window < window
                    )
                )
        if hits <= self.limit:
            return None
        return max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
