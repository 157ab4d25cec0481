"""Loan reminders inside the running service: ticked by the scheduler, delivered through the
outbox, exactly once across a restart."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from apscheduler.triggers.interval import IntervalTrigger

from services.clock import ManualClock
from tests.e2e.conftest import ServiceFactory, register
from tests.standin.driver import Citizen

LONDON = ZoneInfo("Europe/London")


def london(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), LONDON).astimezone(UTC)


async def test_reminders_arrive_once_each_across_a_restart(
    start_service: ServiceFactory, citizen: Callable[..., Citizen], clock: ManualClock
) -> None:
    service = await start_service()
    job = service.scheduler.get_job("reminders")
    assert job is not None and isinstance(job.trigger, IntervalTrigger)
    assert job.trigger.interval.total_seconds() == 60

    alice = citizen(401, "Alice")
    await register(alice, "AB 40 10 01 A")
    loan = await service.services.loans.confirm(401, 9_000, 3, "e2e-key")
    assert loan.instalments[0].due_on == date(2026, 12, 21)

    # The scans below run beside the scheduler's own ticks (the first fires at start-up); the
    # unique (instalment, kind) rows keep them from ever deciding a reminder twice.
    clock.now = london(date(2026, 12, 18), 10)
    await service.reminders.run_once()
    await alice.expect("due on Monday 21 December", "in 3 days", "/loans")
    await service.reminders.run_once()
    await alice.expect_nothing(quiet=0.5)

    await service.stop()
    restarted = await start_service()
    clock.now = london(date(2026, 12, 21), 10)
    await restarted.reminders.run_once()
    await alice.expect("due today")
    clock.now = london(date(2026, 12, 22), 10)
    await restarted.reminders.run_once()
    await alice.expect("1 day overdue", "late fee", "can't be switched off")
    await restarted.reminders.run_once()
    await alice.expect_nothing(quiet=0.5)
