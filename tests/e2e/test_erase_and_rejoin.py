"""Erasure without score laundering (issue 17): deleting and rejoining with the same NI number
brings the late and missed records back, and only those; after erasure the database holds
nothing else about the person."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import date

import aiohttp
import pytest
from sqlalchemy import func, select, text

from api.openapi import API_PREFIX
from bot.service import BritizenService
from services.retention import keep_until
from storage.models import Base, Erasure, PaymentEvent, RetainedRecord, Score
from tests.api.rights_helpers import batch, event
from tests.api.test_sponsor_api import call
from tests.e2e.conftest import register
from tests.standin.driver import Citizen

NI = "AB 94 00 01 A"
CANONICAL = "AB940001A"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def score_of(service: BritizenService, telegram_id: int) -> int:
    return (await service.services.scores.current_for_telegram_user(telegram_id)).score


async def test_erase_and_rejoin_restores_the_adverse_record_and_only_that(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    http: aiohttp.ClientSession,
) -> None:
    ben = citizen(940, "Ben")
    await register(ben, NI)
    _partner, key = await service.services.partners.create("Southern Water")
    reply = await call(
        http,
        service,
        f"{API_PREFIX}/events",
        method="POST",
        key=key,
        data=batch(
            event("missed-1", CANONICAL, outcome="missed", occurred_on="2026-10-01"),
            event("paid-1", CANONICAL, outcome="on_time", occurred_on="2026-09-01"),
        ),
    )
    assert [e["status"] for e in reply.json["events"]] == ["accepted", "accepted"]
    await service.services.scoring.run()
    with_record = await score_of(service, 940)
    assert with_record < 600  # the missed bill counts
    await ben.expect("Your band changed: Good → Fair")

    # /mydata and /delete say what an erasure would keep.
    export = await service.services.data_rights.export(940)
    kept = json.loads(export.content)["kept_if_you_erase_your_account"]
    assert [(r["outcome"], r["date"]) for r in kept["late_or_missed_payment_records"]] == [
        ("missed", "2026-10-01")
    ]
    await ben.send("/delete")
    await ben.expect("1 late or missed payment record, kept until 1 Oct 2032 at the latest")
    await ben.press("Yes, erase everything")
    await ben.expect("Your account has been erased")

    # What is left: the NI hash, and the one adverse record. Nothing else names Ben.
    async with service.db.transaction() as session:
        (erasure,) = (await session.scalars(select(Erasure))).all()
        retained = (await session.scalars(select(RetainedRecord))).all()
        assert [(r.external_id, r.outcome, r.occurred_on) for r in retained] == [
            ("missed-1", "missed", date(2026, 10, 1))
        ]
        assert retained[0].keep_until == keep_until(date(2026, 10, 1)) == date(2032, 10, 1)
        assert retained[0].ni_hash == erasure.ni_hash
        assert erasure.referral_inviter_id is None
        leftovers = {}
        for table in Base.metadata.sorted_tables:
            if table.name in {"erasures", "retained_records", "partners", "alembic_version"}:
                continue
            if table.name == "send_seats":
                continue  # the bot's send seats, numbered 0 to the rate: seat 940 isn't Ben
            rows = (await session.execute(select(table))).all()
            about_ben = [
                row
                for row in rows
                if any(value in (940, "Ben", erasure.ni_hash) for value in row)
                or any(isinstance(v, str) and "940" in v and "0001" in v for v in row)
            ]
            if about_ben:
                leftovers[table.name] = about_ben
        assert leftovers == {}
        assert await session.scalar(select(func.count()).select_from(PaymentEvent)) == 0

    # Rejoining with the same number: the missed bill is back, the on-time one is not.
    await ben.send("/start")
    await ben.expect("Welcome to Britizen")
    await ben.press("I agree")
    await ben.expect("National Insurance number")
    await ben.send(NI)
    await ben.expect("saved as")
    await ben.send("14/03/1990")
    await ben.expect("postcode district")
    await ben.press("Skip")
    await ben.expect("You're registered")
    async with service.db.transaction() as session:
        events = (await session.scalars(select(PaymentEvent))).all()
        assert [(e.external_id, e.outcome) for e in events] == [("missed-1", "missed")]
        assert await session.scalar(select(func.count()).select_from(RetainedRecord)) == 0
    await service.services.scoring.run()
    assert await score_of(service, 940) < 600  # no erase-and-rejoin resets the score


async def test_nothing_adverse_leaves_only_the_hash(
    service: BritizenService, citizen: Callable[..., Citizen]
) -> None:
    cat = citizen(941, "Cat")
    await register(cat, "AB 94 10 02 B")
    await cat.send("/delete")
    await cat.expect("You have no late or missed payment records")
    await cat.press("Yes, erase everything")
    await cat.expect("Your account has been erased")
    async with service.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Erasure)) == 1
        assert await session.scalar(select(func.count()).select_from(RetainedRecord)) == 0
        assert await session.scalar(select(func.count()).select_from(Score)) == 0
        assert (await session.execute(text("SELECT count(*) FROM citizens"))).scalar() == 0


async def test_records_past_six_years_are_purged_by_housekeeping(
    service: BritizenService,
) -> None:
    async with service.db.transaction() as session:
        session.add_all(
            [
                RetainedRecord(
                    ni_hash="x" * 64,
                    source="partner:1",
                    external_id=f"old-{n}",
                    kind="bill",
                    outcome="missed",
                    occurred_on=date(2020, 1, 1),
                    keep_until=until,
                )
                for n, until in enumerate([date(2026, 1, 1), date(2027, 1, 1)])
            ]
        )
    # What the hourly housekeeping job runs (called directly: the job itself, started with
    # the service, may hold its lock or may have purged the old record already).
    assert await service.services.data_rights.purge_retained() in (0, 1)
    async with service.db.transaction() as session:
        left = (await session.scalars(select(RetainedRecord.external_id))).all()
    assert left == ["old-1"]
