"""The scoring job inside the running service: scheduled nightly, and band changes delivered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from bot.service import BritizenService
from notifications.outbox import IDLE_POLL_SECONDS
from services.clock import ManualClock, as_aware_utc
from storage.models import Citizen as CitizenRow
from storage.models import OutboxMessage, PaymentEvent
from tests.e2e.conftest import register
from tests.standin.driver import Citizen


def to(clock: ManualClock, moment: datetime) -> None:
    clock.advance(seconds=(moment - clock()).total_seconds())


async def test_the_pass_is_scheduled_nightly_at_two_in_london(service: BritizenService) -> None:
    job = service.scheduler.get_job("scoring")
    assert job is not None
    assert isinstance(job.trigger, CronTrigger)
    assert str(job.trigger.timezone) == "Europe/London"
    after = datetime(2026, 6, 1, 12, 0, tzinfo=job.trigger.timezone)
    next_run = job.trigger.get_next_fire_time(None, after)
    assert next_run is not None
    assert (next_run.hour, next_run.minute, next_run.day) == (2, 0, 2)
    assert job.misfire_grace_time >= 3600, "a pass due during downtime must still run"


async def test_a_band_change_reaches_the_citizen_once(
    service: BritizenService, citizen: Callable[..., Citizen], clock: ManualClock
) -> None:
    alice = citizen(301, "Alice")
    await register(alice, "AB 11 22 33 A")
    await service.services.scoring.run()
    await alice.expect_nothing(quiet=0.3)  # same band as the starting score: no message

    async with service.db.transaction() as session:
        citizen_id = await session.scalar(
            select(CitizenRow.id).where(CitizenRow.telegram_id == 301)
        )
        for k in range(10):
            session.add(
                PaymentEvent(
                    citizen_id=citizen_id,
                    source="partner:test",
                    external_id=f"missed-{k}",
                    kind="bill",
                    outcome="missed",
                    occurred_on=(clock() - timedelta(days=k)).date(),
                    recorded_at=clock(),
                )
            )
    clock.advance(days=1)
    summary = await service.services.scoring.run()
    assert summary.band_changes == 1
    alert = await alice.expect("Your band changed", "→ Poor", "/why")
    assert "600" in alert.text
    await service.services.scoring.run()
    await alice.expect_nothing(quiet=0.5)


async def test_a_band_change_at_the_nightly_pass_waits_for_the_morning(
    service: BritizenService, citizen: Callable[..., Citizen], clock: ManualClock
) -> None:
    """The pass runs at 02:00; its band alert is queued for 08:00 and sent then, not before."""
    alice = citizen(302, "Alice")
    await register(alice, "AB 11 22 34 A")
    async with service.db.transaction() as session:
        citizen_id = await session.scalar(
            select(CitizenRow.id).where(CitizenRow.telegram_id == 302)
        )
        for k in range(10):
            session.add(
                PaymentEvent(
                    citizen_id=citizen_id,
                    source="partner:test",
                    external_id=f"night-{k}",
                    kind="bill",
                    outcome="missed",
                    occurred_on=(clock() - timedelta(days=31 * k)).date(),
                    recorded_at=clock(),
                )
            )
    london = ZoneInfo("Europe/London")
    to(clock, datetime(2026, 11, 22, 2, 0, tzinfo=london))
    assert (await service.services.scoring.run()).band_changes == 1
    async with service.db.transaction() as session:
        [alert] = (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "score_alert"))
        ).all()
    assert alert.status == "pending"
    assert as_aware_utc(alert.next_attempt_at) == datetime(2026, 11, 22, 8, 0, tzinfo=london)
    assert as_aware_utc(alert.created_at) == datetime(2026, 11, 22, 2, 0, tzinfo=london)

    to(clock, datetime(2026, 11, 22, 7, 59, tzinfo=london))
    # Quiet for two of the dispatcher's polls: it has looked, and found nothing due.
    await alice.expect_nothing(quiet=2 * IDLE_POLL_SECONDS)
    async with service.db.transaction() as session:
        waiting = await session.get(OutboxMessage, alert.id)
    assert waiting is not None and waiting.status == "pending" and waiting.sent_at is None

    to(clock, datetime(2026, 11, 22, 8, 0, tzinfo=london))
    await alice.expect("Your band changed", "/why")
    await alice.expect_nothing()  # once the outbox has settled: sent exactly once
    async with service.db.transaction() as session:
        sent = await session.get(OutboxMessage, alert.id)
    assert sent is not None and sent.status == "sent"
