"""Run one reminder scan at a fixed moment, as its own process (killed with -9 by a test)."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from notifications.reminders import ReminderScan
from services.clock import ManualClock
from storage.db import Database


async def main(url: str, moment: str) -> None:
    db = Database(url)
    try:
        await ReminderScan(
            db, ManualClock(datetime.fromisoformat(moment)), ZoneInfo("Europe/London")
        ).run_once()
    finally:
        await db.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
