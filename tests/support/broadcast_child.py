"""Run the outbox dispatcher as its own process until the queue is empty (kill -9 by tests/bench).

    python -m tests.support.broadcast_child DB_URL BOT_API_BASE_URL TOKEN SEND_RATE

The last line on stdout is a JSON summary: sent, first/last send times, rate, 429s answered,
rows recovered as uncertain at start, peak RSS. Progress lines go to stderr.
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import sys
import time
from typing import Any

from sqlalchemy import func, select
from telegram import Bot

from notifications.outbox import BotApiSender, Dispatcher
from services.clock import system_clock
from storage.db import Database
from storage.models import OutboxMessage

QUEUE_CHECK_SECONDS = 0.2


class TimedSender(BotApiSender):
    """Records when the first and the last successful send left, for the achieved rate."""

    first: float | None = None
    last: float | None = None

    async def send_message(self, chat_id: int, text: str, reply_markup: Any) -> None:
        await super().send_message(chat_id, text, reply_markup)
        self.last = time.monotonic()
        if self.first is None:
            self.first = self.last


async def queued(db: Database) -> int:
    async with db.transaction() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status.in_(("pending", "sending")))
        )
    return int(count or 0)


async def main(url: str, base_url: str, token: str, send_rate: float) -> dict[str, Any]:
    db = Database(url)
    bot = Bot(token, base_url=base_url)
    sender = TimedSender(bot.base_url)
    dispatcher = Dispatcher(db, bot, system_clock, send_rate, sender=sender)
    stop = asyncio.Event()

    async def watch() -> None:
        empty = False
        while not empty:
            await asyncio.sleep(QUEUE_CHECK_SECONDS)
            empty = await queued(db) == 0
        stop.set()

    started = time.monotonic()
    try:
        watcher = asyncio.create_task(watch())
        await dispatcher.run(stop)
        await watcher
    finally:
        await db.close()
    span = (sender.last - sender.first) if sender.first and sender.last else 0.0
    return {
        "sent": dispatcher.sent,
        "seconds": round(time.monotonic() - started, 2),
        "send_span_seconds": round(span, 2),
        "rate": round((dispatcher.sent - 1) / span, 1) if span > 0 else 0.0,
        "answered_429": dispatcher.answered_429,
        "recovered_uncertain": dispatcher.recovered,
        "max_unsettled": dispatcher.max_unsettled,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    summary = asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])))
    print(json.dumps(summary), flush=True)
