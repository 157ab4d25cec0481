"""The processed-updates ledger is pruned on a schedule, keeping a week of ids."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from bot.service import BritizenService
from services.clock import ManualClock
from services.updates import KEEP_PROCESSED_FOR
from storage.models import ProcessedUpdate
from tests.standin.driver import Citizen


async def _ledger(service: BritizenService) -> set[int]:
    async with service.db.transaction() as session:
        return set((await session.scalars(select(ProcessedUpdate.update_id))).all())


async def test_the_ledger_is_pruned_hourly_and_keeps_recent_ids(
    service: BritizenService, citizen: Callable[..., Citizen], clock: ManualClock
) -> None:
    job = service.scheduler.get_job("housekeeping")
    assert job is not None and isinstance(job.trigger, IntervalTrigger)
    assert job.trigger.interval == timedelta(hours=1)

    ola = citizen(321, "Ola")
    await ola.send("/help")
    await ola.expect("Britizen")
    old = await _ledger(service)
    assert old

    clock.advance(seconds=(KEEP_PROCESSED_FOR + timedelta(minutes=1)).total_seconds())
    await ola.send("/help")
    await ola.expect("Britizen")
    both = await _ledger(service)
    assert old < both

    await service.run_housekeeping()
    kept = await _ledger(service)
    assert kept == both - old
    async with service.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(ProcessedUpdate)) == len(kept)
