"""kill -9 in the middle of a reminder scan: nothing lost, nothing duplicated."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from notifications.reminders import ReminderScan
from services.clock import ManualClock
from services.loans import LoanService
from storage.db import Database
from storage.models import Citizen, OutboxMessage, Reminder, Score

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
BORROWERS = 400
ROOT = Path(__file__).resolve().parents[2]


async def reminders_decided(db: Database) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Reminder)) or 0)


async def test_a_killed_scan_loses_and_duplicates_nothing(db: Database, db_url: str) -> None:
    async with db.transaction() as session:
        for i in range(BORROWERS):
            citizen = Citizen(
                telegram_id=10_000 + i, chat_id=10_000 + i, display_name=f"B{i}",
                ni_hash=f"{i:064d}", ni_masked="x", date_of_birth=date(1990, 1, 1),
                registered_at=START,
            )  # fmt: skip
            session.add(citizen)
            await session.flush()
            session.add(Score(citizen_id=citizen.id, score=620, band="Good", computed_at=START))
    clock = ManualClock(START)
    loans = LoanService(db, clock, LONDON)
    for i in range(BORROWERS):
        await loans.confirm(10_000 + i, 5_000, 3, f"k{i}")
    # Three days before the first due date: one reminder to decide per borrower.
    moment = datetime.combine(date(2026, 12, 18), time(10), LONDON).astimezone(UTC)

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    killed_at = 0
    for _attempt in range(5):
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.support.reminder_scan_child", db_url, moment.isoformat(),
            cwd=ROOT, env=env,
        )  # fmt: skip
        while child.returncode is None:
            done = await reminders_decided(db)
            if done >= BORROWERS // 10:
                child.send_signal(signal.SIGKILL)
                killed_at = done
                break
            await asyncio.sleep(0.005)
        await child.wait()
        if 0 < killed_at < BORROWERS:
            break
    assert 0 < killed_at < BORROWERS, "the scan should be killed half-way through"

    clock.now = moment
    await ReminderScan(db, clock, LONDON).run_once()  # the restart's first tick
    await ReminderScan(db, clock, LONDON).run_once()
    async with db.transaction() as session:
        reminders = await session.scalar(select(func.count()).select_from(Reminder))
        messages = await session.scalar(select(func.count()).select_from(OutboxMessage))
        per_chat = (
            await session.execute(
                select(OutboxMessage.chat_id, func.count()).group_by(OutboxMessage.chat_id)
            )
        ).all()
    assert reminders == BORROWERS
    assert messages == BORROWERS
    assert {count for _, count in per_chat} == {1}
