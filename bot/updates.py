"""Concurrency across people, order within one person."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Process updates of different people concurrently but one person's updates in order.

    PTB's `concurrent_updates=True` would let "/start" and the NI number typed right after it
    race each other; the default sequential processing makes one slow database write hold up
    every citizen. A lock per user gives both properties.
    """

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiters: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        user = update.effective_user if isinstance(update, Update) else None
        if user is None:
            await coroutine
            return
        lock = self._locks.setdefault(user.id, asyncio.Lock())
        self._waiters[user.id] = self._waiters.get(user.id, 0) + 1
        try:
            async with lock:
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
