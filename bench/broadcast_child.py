"""Run the outbox dispatcher as its own process until the queue is empty (kill -9 by tests/bench).

    python -m bench.broadcast_child DB_URL BOT_API_BASE_URL TOKEN SEND_RATE

The last line on stdout is a JSON summary: sent, first/last send times, rate, 429s answered,
rows recovered as uncertain at start, peak RSS. Progress lines go to stderr.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import resource
import statistics
import sys
import time
from array import array
from typing import Any

from sqlalchemy import func, select
from telegram import Bot

from notifications.dispatcher import Dispatcher
from notifications.send_budget import SendBudget, bot_id_from_token
from notifications.sender import BotApiSender
from services.clock import system_clock
from storage.db import Database
from storage.models import OutboxMessage

QUEUE_CHECK_SECONDS = 0.2


WINDOW_SECONDS = 5.0


class TimedSender(BotApiSender):
    """Records when each successful send was answered, for the achieved and sustained rate."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.stamps = array("d")
        self.round_trips = array("d")  # seconds from the request to its answer

    async def send_message(
        self, chat_id: int, text: str, reply_markup: Any, *, allow_paid_broadcast: bool = False
    ) -> None:
        started = time.monotonic()
        await super().send_message(
            chat_id, text, reply_markup, allow_paid_broadcast=allow_paid_broadcast
        )
        self.stamps.append(time.monotonic())
        self.round_trips.append(self.stamps[-1] - started)

    def slowest_window(self) -> float | None:
        """The lowest rate over any full 5 s window from the first send to the last."""
        if len(self.stamps) < 2 or self.stamps[-1] - self.stamps[0] < WINDOW_SECONDS:
            return None
        stamps = sorted(self.stamps)
        lowest, end = float("inf"), 0
        for start, t in enumerate(stamps):
            if t + WINDOW_SECONDS > stamps[-1]:
                break
            while end < len(stamps) and stamps[end] < t + WINDOW_SECONDS:
                end += 1
            lowest = min(lowest, (end - start) / WINDOW_SECONDS)
        return lowest


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
    # As in the service: the sender spends from the bot's shared send budget.
    budget: SendBudget | None = SendBudget(db, bot_id_from_token(token), send_rate)
    if os.environ.get("BENCH_NO_BUDGET"):  # to see what the shared budget's leases cost
        budget = None
    dispatcher = Dispatcher(db, bot, system_clock, send_rate, sender=sender, budget=budget)
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
        if budget is not None:
            await budget.close()
        await db.close()
    span = sender.stamps[-1] - sender.stamps[0] if len(sender.stamps) > 1 else 0.0
    slowest = sender.slowest_window()
    trips = list(sender.round_trips)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "sent": dispatcher.sent,
        "seconds": round(time.monotonic() - started, 2),
        "send_span_seconds": round(span, 2),
        # Monotonic stamps (system-wide on Linux): two instances' runs can be put together.
        "first_send": sender.stamps[0] if sender.stamps else None,
        "last_send": sender.stamps[-1] if sender.stamps else None,
        "rate": round((dispatcher.sent - 1) / span, 1) if span > 0 else 0.0,
        "slowest_5s_rate": round(slowest, 1) if slowest is not None else None,
        "answered_429": dispatcher.answered_429,
        "recovered_uncertain": dispatcher.recovered,
        "max_unsettled": dispatcher.max_unsettled,
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        # The rolling window costs one round trip per `rate` sends (pacing.RollingWindow).
        "round_trip_ms_median": round(1000 * statistics.median(trips), 1) if trips else None,
        "round_trip_ms_p95": (
            round(1000 * statistics.quantiles(trips, n=20)[-1], 1) if len(trips) > 1 else None
        ),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
    }


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    summary = asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])))
    print(json.dumps(summary), flush=True)
