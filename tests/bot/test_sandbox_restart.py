"""A sandbox restarted on the same database keeps answering (issue 15).

Each start brings a fresh stand-in whose chats are empty, while the database remembers every
update id the bot processed (the exactly-once ledger). The second run must not hand the bot ids
the ledger already holds, or the bot would take every message for a redelivery and say nothing.
"""

from __future__ import annotations

import aiohttp
from sqlalchemy import func, select

from bot.sandbox import CITIZENS
from storage.db import Database
from storage.models import ProcessedUpdate
from tests.support.sandbox import bot_says, press, running_sandbox, say

ALICE, BEN = CITIZENS[0], CITIZENS[1]


async def _ledger(db_url: str) -> tuple[int, int]:
    """How many update ids the ledger holds, and the highest."""
    db = Database(db_url)
    try:
        async with db.transaction() as session:
            row = (
                await session.execute(select(func.count(), func.max(ProcessedUpdate.update_id)))
            ).one()
    finally:
        await db.close()
    return int(row[0]), int(row[1] or 0)


async def test_a_restarted_sandbox_answers_on_the_same_database(db_url: str) -> None:
    async with running_sandbox(db_url) as first, aiohttp.ClientSession(base_url=first.url) as http:
        await say(http, ALICE.user_id, "/start")
        since, welcome = await bot_says(http, ALICE.user_id, 0, "Welcome to Britizen")
        await press(http, ALICE.user_id, welcome, "I agree")
        since, _ = await bot_says(http, ALICE.user_id, since, "National Insurance number")
        await say(http, ALICE.user_id, ALICE.ni_number)
        await bot_says(http, ALICE.user_id, since, "saved as")
    seen, highest = await _ledger(db_url)
    assert seen == 3  # /start, the button, the NI number

    # Stopped and started again, as `make run` twice: a new stand-in, the same database.
    async with (
        running_sandbox(db_url) as second,
        aiohttp.ClientSession(base_url=second.url) as http,
    ):
        # Alice's registration goes on where it stopped (the step is in the database)...
        await say(http, ALICE.user_id, ALICE.date_of_birth)
        await bot_says(http, ALICE.user_id, 0, "postcode district")
        # ...and someone new starts from the beginning.
        await say(http, BEN.user_id, "/start")
        await bot_says(http, BEN.user_id, 0, "Welcome to Britizen")
    after, _ = await _ledger(db_url)
    assert after == seen + 2  # both messages were processed, none taken for a redelivery
    # The new run numbered its updates after everything the ledger had seen.
    db = Database(db_url)
    try:
        async with db.transaction() as session:
            newest = await session.scalars(
                select(ProcessedUpdate.update_id).where(ProcessedUpdate.update_id > highest)
            )
            assert len(list(newest)) == 2
    finally:
        await db.close()
