"""Stopping the service while a scheduled job runs: the job finishes, then the database closes."""

from __future__ import annotations

import asyncio
from datetime import datetime

from notifications.promotions import FanoutSummary
from tests.e2e.conftest import ServiceFactory


async def test_stop_lets_a_running_job_finish_before_closing_the_database(
    start_service: ServiceFactory,
) -> None:
    service = await start_service()
    started = asyncio.Event()
    finished: list[bool] = []
    fan_out = service.promotions.run_once

    async def slow_fan_out() -> FanoutSummary:
        started.set()
        await asyncio.sleep(0.2)  # stop() arrives while the job is mid-way
        summary = await fan_out()  # touches the database: it must still be open
        finished.append(True)
        return summary

    service.promotions.run_once = slow_fan_out  # type: ignore[method-assign]
    service.scheduler.modify_job("promotions", next_run_time=datetime.now(service.settings.tz))
    await asyncio.wait_for(started.wait(), 10)
    await service.stop()
    # Before, APScheduler's shutdown cancelled the job mid-transaction and the engine was
    # disposed under it: "unclosed connection" warnings, which fail the suite.
    assert finished == [True]
