"""How updates are scheduled: one person's in order, people in parallel, a bounded few at once."""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.updates import PerUserUpdateProcessor


def _update(update_id: int, user_id: int) -> Update:
    update = Update.de_json(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 0,
                "chat": {"id": user_id, "type": "private"},
                "from": {"id": user_id, "is_bot": False, "first_name": "Test"},
                "text": "hello",
            },
        },
        None,
    )
    assert update is not None
    return update


class Work:
    """Coroutines that record what ran, how many at once, and wait for a gate to finish."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.active = 0
        self.most_active = 0
        self.finished: list[int] = []

    async def run(self, update_id: int, *, wait: bool = True) -> None:
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            if wait:
                await self.gate.wait()
        finally:
            self.active -= 1
            self.finished.append(update_id)


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_no_more_than_the_working_limit_run_at_once() -> None:
    processor = PerUserUpdateProcessor(working_limit=3)
    work = Work()
    tasks = [
        asyncio.create_task(processor.process_update(_update(i, 100 + i), work.run(i)))
        for i in range(10)
    ]
    await _settle()
    assert work.active == 3  # the other seven wait their turn
    work.gate.set()
    await asyncio.gather(*tasks)
    assert work.most_active == 3
    assert sorted(work.finished) == list(range(10))  # nobody's update was lost


async def test_one_persons_queue_holds_no_slot_and_keeps_its_order() -> None:
    processor = PerUserUpdateProcessor(working_limit=2)
    work = Work()
    # Five updates from one person, the first of them slow: the four behind it wait on that
    # person's lock, not on a working slot, so someone else is still served at once.
    busy = [
        asyncio.create_task(processor.process_update(_update(i, 1), work.run(i))) for i in range(5)
    ]
    await _settle()
    other = asyncio.create_task(processor.process_update(_update(99, 2), work.run(99, wait=False)))
    await asyncio.wait_for(other, timeout=5)
    assert work.finished == [99]
    work.gate.set()
    await asyncio.gather(*busy)
    assert work.finished == [99, 0, 1, 2, 3, 4]
    assert work.most_active == 2
