"""Partners' events are plausible or held (issue 17), over loopback HTTP on both databases:
dates outside the six years a credit record keeps are refused by field; a burst beyond what
real accounts produce is stored but held, leaves the score alone, and counts once an admin
releases it with `britizen events release`."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from api.openapi import API_PREFIX
from bot.cli import main
from bot.service import BritizenService
from services.event_rules import MONTHLY_LIMIT, earliest_date
from storage.models import EventBatch, OutboxMessage, PaymentEvent, Score
from tests.api.rights_helpers import batch, event, new_partner, ni, register_directly
from tests.api.test_sponsor_api import Reply, call
from tests.e2e.conftest import START, TEST_SECRET

EVENTS = f"{API_PREFIX}/events"
TODAY = START.date()  # 2026-11-21


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def post(
    http: aiohttp.ClientSession, service: BritizenService, key: str, *events: dict[str, str]
) -> Reply:
    return await call(http, service, EVENTS, method="POST", key=key, data=batch(*events))


async def score_of(service: BritizenService, citizen_id: int) -> tuple[int, int | None]:
    await service.services.scoring.run()
    async with service.db.transaction() as session:
        row = await session.get(Score, citizen_id)
    assert row is not None
    return row.score, row.payment_history


async def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str, *args: str) -> int:
    """`britizen ...` as an operator runs it, against the test database."""
    for name in list(os.environ):
        if name.startswith("BRITIZEN_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BRITIZEN_DATABASE_URL", db_url)
    monkeypatch.setenv("BRITIZEN_SECRET_KEY", TEST_SECRET)
    return await asyncio.to_thread(main, list(args))


async def test_dates_before_six_years_ago_or_in_the_future_are_422_by_field(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    _partner_id, key = await new_partner(service)
    earliest = earliest_date(TODAY)
    assert earliest.isoformat() == "2020-11-21"
    reply = await post(
        http,
        service,
        key,
        event("ancient", ni(1), occurred_on="0001-01-01"),
        event("day-before", ni(1), occurred_on="2020-11-20"),
        event("oldest-ok", ni(1), occurred_on="2020-11-21"),
        event("tomorrow-ok", ni(1), occurred_on="2026-11-22"),
        event("future", ni(1), occurred_on="2026-11-23"),
    )
    assert reply.status == 422
    fields = reply.json["fields"]
    assert set(fields) == {"events.0.occurred_on", "events.1.occurred_on", "events.4.occurred_on"}
    assert "within the last 6 years" in fields["events.0.occurred_on"]
    assert "2020-11-21" in fields["events.1.occurred_on"]
    assert fields["events.4.occurred_on"] == "must not be in the future"
    # Nothing from a refused request is stored.
    async with service.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(EventBatch)) == 0
    fine = await post(
        http,
        service,
        key,
        event("oldest-ok", ni(1), occurred_on="2020-11-21"),
        event("tomorrow-ok", ni(1), occurred_on="2026-11-22"),
    )
    assert fine.status == 200 and fine.json["accepted"] == 2


async def test_300_missed_bills_in_one_request_are_held_until_an_admin_releases_them(
    service: BritizenService,
    http: aiohttp.ClientSession,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    citizen_id = await register_directly(service, 401, ni(401))
    _partner_id, key = await new_partner(service, "Flood Energy")
    before = await score_of(service, citizen_id)
    flood = [event(f"flood-{i}", ni(401), "missed", "2026-11-01") for i in range(300)]
    reply = await post(http, service, key, *flood)
    assert reply.status == 200
    assert (reply.json["accepted"], reply.json["held"], reply.json["duplicates"]) == (0, 300, 0)
    statuses = {(e["status"], e["reason"]) for e in reply.json["events"]}
    [(status, reason)] = statuses
    assert status == "held" and "held for review" in reason and f"beyond {MONTHLY_LIMIT}" in reason
    # Sent again: every one is a duplicate, not a fresh chance to count.
    again = await post(http, service, key, *flood[:5])
    assert again.json["duplicates"] == 5

    async with service.db.transaction() as session:
        alerts_before = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "score_alert")
        )
    assert await score_of(service, citizen_id) == before
    async with service.db.transaction() as session:
        stored = await session.scalar(select(func.count()).select_from(PaymentEvent))
        alerts_after = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "score_alert")
        )
        [held] = (await session.scalars(select(EventBatch))).all()
    assert stored == 300 and alerts_after == alerts_before
    assert (held.status, held.events, held.citizen_id) == ("held", 300, citizen_id)

    capsys.readouterr()
    assert await cli(monkeypatch, tmp_path, db_url, "events", "held") == 0
    listing = capsys.readouterr().out
    assert f"#{held.id}" in listing and "Flood Energy" in listing
    assert "300 event(s), 300 late or missed" in listing
    assert await cli(monkeypatch, tmp_path, db_url, "events", "release", "999999") == 1
    assert "no batch #999999 is held" in capsys.readouterr().err
    assert await cli(monkeypatch, tmp_path, db_url, "events", "release", str(held.id)) == 0
    assert "released" in capsys.readouterr().out
    assert await cli(monkeypatch, tmp_path, db_url, "events", "held") == 0
    assert "no batches are held" in capsys.readouterr().out

    score, payment_history = await score_of(service, citizen_id)
    assert score < before[0]
    assert payment_history is not None and before[1] is not None
    assert payment_history < before[1]


async def test_the_monthly_limit_counts_what_the_partner_sent_before(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    citizen_id = await register_directly(service, 402, ni(402))
    _partner_id, key = await new_partner(service)
    _other_id, other_key = await new_partner(service, "Other Water")
    three = [event(f"m-{i}", ni(402), "late", "2026-10-0" + str(i + 1)) for i in range(3)]
    assert (await post(http, service, key, *three)).json["accepted"] == MONTHLY_LIMIT
    # Another month, another kind and another partner each have their own allowance.
    assert (
        await post(
            http,
            service,
            key,
            event("sep", ni(402), occurred_on="2026-09-01"),
            event("loan", ni(402), occurred_on="2026-10-09", kind="loan_instalment"),
        )
    ).json["accepted"] == 2
    assert (await post(http, service, other_key, event("o", ni(402), "late", "2026-10-02"))).json[
        "accepted"
    ] == 1
    # A fourth bill for October from the first partner: that request is held, with the
    # rest of what it said about this person (but not what it said about someone else).
    fourth = await post(
        http,
        service,
        key,
        event("oct-4", ni(402), "missed", "2026-10-20"),
        event("aug", ni(402), "missed", "2026-08-01"),
        event("someone-else", ni(403), "missed", "2026-10-20"),
    )
    assert [e["status"] for e in fourth.json["events"]] == ["held", "held", "accepted"]
    async with service.db.transaction() as session:
        statuses = dict(
            (
                await session.execute(
                    select(PaymentEvent.external_id, EventBatch.status)
                    .join(EventBatch, EventBatch.id == PaymentEvent.batch_id)
                    .where(PaymentEvent.citizen_id == citizen_id)
                )
            ).all()
        )
    assert statuses["oct-4"] == statuses["aug"] == "held"
    assert statuses["m-0"] == "counted"


async def test_held_reads_the_same_for_someone_not_registered_and_stays_held_when_they_join(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    _partner_id, key = await new_partner(service)
    burst = [event(f"u-{i}", ni(404), "missed", "2026-11-02") for i in range(4)]
    reply = await post(http, service, key, *burst)
    assert [e["status"] for e in reply.json["events"]] == ["held"] * 4
    registered = await register_directly(service, 405, ni(405))
    for_member = await post(
        http, service, key, *[event(f"r-{i}", ni(405), "missed", "2026-11-02") for i in range(4)]
    )
    assert for_member.json["events"][0] == reply.json["events"][0] | {"id": "r-0"}

    citizen_id = await register_directly(service, 404, ni(404))
    async with service.db.transaction() as session:
        moved = (
            await session.execute(
                select(PaymentEvent.citizen_id, EventBatch.citizen_id, EventBatch.status)
                .join(EventBatch, EventBatch.id == PaymentEvent.batch_id)
                .where(PaymentEvent.external_id.like("u-%"))
            )
        ).all()
    assert moved == [(citizen_id, citizen_id, "held")] * 4
    assert (await score_of(service, citizen_id))[1] == 0
    assert (await score_of(service, registered))[1] == 0
