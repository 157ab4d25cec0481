"""Time partner event ingestion: batches of 1,000 through EventService (the work behind
``POST /api/v1/events`` minus HTTP), half for registered people and half held.

    python bench/bench_events.py --batches 20 [--database-url URL]

Prints events per second for new events and for a resend (all duplicates); never part of the
test run. The database is a fresh SQLite file unless a URL is given.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.clock import ManualClock  # noqa: E402
from services.events import MAX_BATCH, EventService, IncomingEvent  # noqa: E402
from services.secrets import ni_number_hash  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Citizen  # noqa: E402

KEY = b"bench-secret-key"


def ni(n: int) -> str:
    return f"AB{n:06d}C"


async def run(url: str, batches: int) -> None:
    db = Database(url)
    clock = ManualClock(datetime(2026, 11, 21, 12, tzinfo=UTC))
    async with db.transaction() as session:
        session.add_all(
            Citizen(
                telegram_id=n,
                chat_id=n,
                display_name=f"P{n}",
                ni_hash=ni_number_hash(KEY, ni(n)),
                ni_masked="AB •• •• •• C",
                date_of_birth=date(1990, 1, 1),
                registered_at=clock(),
            )
            for n in range(MAX_BATCH // 2)
        )
    service = EventService(db, KEY, clock)
    work = [
        [
            IncomingEvent(f"{b}-{i}", ni(i), "bill", "on_time", date(2026, 11, 1))
            for i in range(MAX_BATCH)
        ]
        for b in range(batches)
    ]
    for label in ("new", "resent (duplicates)"):
        started = time.perf_counter()
        for events in work:
            await service.report(1, events)
        seconds = time.perf_counter() - started
        total = batches * MAX_BATCH
        print(
            f"{label}: {total} events in {seconds:.2f} s = {total / seconds:,.0f} events/s "
            f"({seconds / batches * 1000:.0f} ms per 1,000-event batch)"
        )
    await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/events.db"
        upgrade(url)
        asyncio.run(run(url, args.batches))


if __name__ == "__main__":
    main()
