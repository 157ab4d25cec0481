"""Concurrency across people, order within one person."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

DEFAULT_WORKING_LIMIT = 16


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Process updates of different people concurrently but one person's updates in order.

    PTB's `concurrent_updates=True` would let "/start" and the NI number typed right after it
    race each other; the default sequential processing makes one slow database write hold up
    every citizen. A lock per user gives both properties.

    At most `working_limit` updates are worked on at once; the rest wait their turn in a queue
    that costs nothing. Unbounded, a short stall (a busy core, a slow disk) lets dozens of
    updates start together, each wanting a database connection the pool doesn't have; opening
    them costs more CPU than the updates themselves, which lengthens the stall. Kept below the
    pool size, updates never open a connection beyond it. A person waiting behind their own
    earlier update holds no working slot, so one busy person can't hold up everyone else.
    """

    def __init__(
        self, max_concurrent_updates: int = 256, working_limit: int = DEFAULT_WORKING_LIMIT
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiters: dict[int, int] = {}
        self._working = asyncio.Semaphore(working_limit)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        user = update.effective_user if isinstance(update, Update) else None
        if user is None:
            async with self._working:
                await coroutine
            return
        lock = self._locks.setdefault(user.id, asyncio.Lock())
        self._waiters[user.id] = self._waiters.get(user.id, 0) + 1
        try:
            async with lock, self._working:
                await coroutine
        finally:
            # Drop the lock once nobody is waiting so the dict doesn't grow with every citizen.
            self._waiters[user.id] -= 1
            if self._waiters[user.id] == 0:
                del self._waiters[user.id]
                del self._locks[user.id]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
