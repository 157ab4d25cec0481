"""Partners over loopback HTTP against the real service, on SQLite and PostgreSQL: payment
events (held, applied, duplicate, refused, malformed), one-time share codes, access requests
with Allow / Deny, and the public open data."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from api.openapi import API_PREFIX
from bot.cli import main
from bot.service import BritizenService
from services.clock import ManualClock
from services.secrets import ni_number_hash
from storage.models import (
    Erasure,
    HeldPaymentEvent,
    OutboxMessage,
    Partner,
    PaymentEvent,
    Score,
    ScoreAccess,
)
from tests.api.rights_helpers import batch, event, new_partner, ni, register_directly
from tests.api.test_sponsor_api import Reply, call
from tests.e2e.conftest import TEST_SECRET
from tests.support.narrowing import present

EVENTS = f"{API_PREFIX}/events"
REQUESTS = f"{API_PREFIX}/access-requests"
BANDS = f"{API_PREFIX}/open-data/score-bands"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def post_events(
    http: aiohttp.ClientSession, service: BritizenService, key: str, *events: dict[str, str]
) -> Reply:
    return await call(http, service, EVENTS, method="POST", key=key, data=batch(*events))


async def test_cli_creates_a_partner_whose_key_works_only_on_partner_routes(
    db_url: str,
    start_service: Callable[..., Awaitable[BritizenService]],
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in list(os.environ):
        if name.startswith("BRITIZEN_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BRITIZEN_DATABASE_URL", db_url)
    monkeypatch.setenv("BRITIZEN_SECRET_KEY", TEST_SECRET)
    assert await asyncio.to_thread(main, ["partner", "add", "Southern Water"]) == 0
    out = capsys.readouterr().out
    [key] = [line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("API key: ")]
    assert key.startswith("bz_pt_") and "will not be shown again" in out
    assert await asyncio.to_thread(main, ["partner", "add", "Southern Water"]) == 2
    assert "already exists" in capsys.readouterr().err

    service = await start_service()
    async with service.db.transaction() as session:
        stored = await session.scalar(select(Partner))
    assert stored is not None and key not in stored.api_key_hash
    reply = await post_events(http, service, key, event("e1", ni(1)))
    assert reply.status == 200, reply.body
    # A partner key is not a sponsor key, nor the other way round.
    assert (await call(http, service, f"{API_PREFIX}/sponsor", key=key)).status == 401
    _sponsor, sponsor_key = await service.services.sponsors.create_sponsor("Acme")
    refused = await post_events(http, service, sponsor_key, event("e2", ni(1)))
    assert refused.status == 401 and "partner key" in refused.json["detail"]


async def test_an_event_for_a_registered_person_feeds_the_next_pass(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    citizen_id = await register_directly(service, 101, ni(101))
    partner_id, key = await new_partner(service)
    reply = await post_events(
        http, service, key, event("bill-1", "ab 00 01 01 c", "missed", "2026-11-01")
    )
    assert reply.status == 200
    assert reply.json == {
        "received": 1,
        "accepted": 1,
        "held": 0,
        "duplicates": 0,
        "refused": 0,
        "events": [{"id": "bill-1", "status": "accepted"}],
    }
    async with service.db.transaction() as session:
        row = await session.scalar(select(PaymentEvent))
    assert row is not None
    assert (row.citizen_id, row.source, row.outcome) == (
        citizen_id,
        f"partner:{partner_id}",
        "missed",
    )
    await service.services.scoring.run()
    async with service.db.transaction() as session:
        score = await session.get(Score, citizen_id)
    assert score is not None and score.payment_history is not None and score.payment_history < 0


async def test_the_same_event_id_counts_once(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    await register_directly(service, 102, ni(102))
    _partner_id, key = await new_partner(service)
    first = await post_events(http, service, key, event("dup", ni(102)), event("dup", ni(102)))
    assert [e["status"] for e in first.json["events"]] == ["accepted", "duplicate"]
    again = await post_events(http, service, key, event("dup", ni(102), "late"))
    assert again.json["duplicates"] == 1 and again.json["accepted"] == 0
    # Another partner's "dup" is a different event.
    _other, other_key = await new_partner(service, "Other Energy")
    assert (await post_events(http, service, other_key, event("dup", ni(102)))).json[
        "accepted"
    ] == 1
    async with service.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(PaymentEvent)) == 2


async def test_an_unknown_person_is_held_then_applied_when_they_register(
    service: BritizenService, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    _partner_id, key = await new_partner(service)
    reply = await post_events(http, service, key, event("early", ni(103), "late"))
    # Held reads the same as applied: the partner can't tell who is registered.
    assert reply.json["events"] == [{"id": "early", "status": "accepted"}]
    async with service.db.transaction() as session:
        held = await session.scalar(select(HeldPaymentEvent))
    assert held is not None and held.ni_hash == ni_number_hash(TEST_SECRET.encode(), ni(103))
    assert ni(103) not in json.dumps(
        [held.ni_hash, held.external_id, held.kind, held.outcome, str(held.occurred_on)]
    )

    clock.advance(days=89)
    citizen_id = await register_directly(service, 103, ni(103))
    async with service.db.transaction() as session:
        applied = (await session.scalars(select(PaymentEvent))).all()
        left = await session.scalar(select(func.count()).select_from(HeldPaymentEvent))
    assert [(e.citizen_id, e.external_id, e.outcome) for e in applied] == [
        (citizen_id, "early", "late")
    ]
    assert left == 0
    # Sent again after it was applied: still one event.
    assert (await post_events(http, service, key, event("early", ni(103)))).json["duplicates"] == 1


async def test_held_events_are_purged_after_90_days(
    service: BritizenService, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    _partner_id, key = await new_partner(service)
    await post_events(http, service, key, event("old", ni(104)), event("old2", ni(105)))
    clock.advance(days=91)
    await post_events(http, service, key, event("new", ni(105)))
    assert await service.services.events.purge_expired() == 2
    await register_directly(service, 105, ni(105))
    async with service.db.transaction() as session:
        ids = (await session.scalars(select(PaymentEvent.external_id))).all()
    assert ids == ["new"]


async def test_events_about_an_erased_person_read_exactly_like_a_stranger(
    service: BritizenService, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Issue 17: the answer must not tell a partner that an erased person was ever here (it
    used to say "refused" where a stranger gets "accepted")."""
    async with service.db.transaction() as session:
        session.add(
            Erasure(ni_hash=ni_number_hash(TEST_SECRET.encode(), ni(106)), erased_at=clock())
        )
    _partner_id, key = await new_partner(service)
    erased = await post_events(http, service, key, event("gone", ni(106)))
    stranger = await post_events(http, service, key, event("gone-2", ni(107)))
    assert (erased.status, erased.headers.get("Content-Type")) == (
        stranger.status,
        stranger.headers.get("Content-Type"),
    )
    assert erased.json["events"] == [{"id": "gone", "status": "accepted"}]
    assert stranger.json["events"] == [{"id": "gone-2", "status": "accepted"}]
    assert {k: v for k, v in erased.json.items() if k != "events"} == {
        k: v for k, v in stranger.json.items() if k != "events"
    }
    async with service.db.transaction() as session:
        held = (await session.scalars(select(HeldPaymentEvent.external_id))).all()
    assert sorted(held) == ["gone", "gone-2"]


async def test_malformed_events_are_422_naming_the_event_and_field(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    _partner_id, key = await new_partner(service)
    reply = await post_events(
        http,
        service,
        key,
        event("fine", ni(1)),
        event("bad-ni", "QQ123456C"),
        event("bad-outcome", ni(1), outcome="sometimes"),
        event("bad-date", ni(1), occurred_on="31/11/2026"),
        {
            "id": "",
            "ni_number": ni(1),
            "kind": "bill",
            "outcome": "late",
            "occurred_on": "2026-01-01",
        },
    )
    assert reply.status == 422
    fields = reply.json["fields"]
    assert set(fields) == {
        "events.1.ni_number",
        "events.2.outcome",
        "events.3.occurred_on",
        "events.4.id",
    }
    assert "National Insurance" in fields["events.1.ni_number"]
    assert "QQ123456C" not in reply.body.decode()
    future = await post_events(http, service, key, event("f", ni(1), occurred_on="2027-06-01"))
    assert future.json["fields"] == {"events.0.occurred_on": "must not be in the future"}
    async with service.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(HeldPaymentEvent)) == 0


async def test_batches_up_to_1000_events(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    _partner_id, key = await new_partner(service)
    full = [event(f"b{i}", ni(i)) for i in range(1000)]
    reply = await post_events(http, service, key, *full)
    assert reply.status == 200 and reply.json["accepted"] == 1000
    over = await post_events(http, service, key, *full, event("b1000", ni(1000)))
    assert over.status == 422 and set(over.json["fields"]) == {"events"}
    empty = await post_events(http, service, key)
    assert empty.status == 422 and set(empty.json["fields"]) == {"events"}


async def test_a_share_code_works_once_for_10_minutes_and_every_read_is_logged(
    service: BritizenService, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    citizen_id = await register_directly(service, 108, ni(108))
    partner_id, key = await new_partner(service, "Lend Well")
    code = (await service.services.sharing.new_code(108, share_score=True)).code
    reply = await call(http, service, f"{API_PREFIX}/scores/{code}", key=key)
    assert reply.status == 200
    assert set(reply.json) == {"band", "score", "computed_at"}
    assert (reply.json["band"], reply.json["score"]) == ("Good", 600)
    reused = await call(http, service, f"{API_PREFIX}/scores/{code}", key=key)
    assert reused.status == 410 and "already been used" in reused.json["detail"]

    expiring = (await service.services.sharing.new_code(108, share_score=True)).code
    clock.advance(minutes=10, seconds=1)
    expired = await call(http, service, f"{API_PREFIX}/scores/{expiring}", key=key)
    assert expired.status == 410 and "expired" in expired.json["detail"]
    # Typed loosely (lower case, no dash) a code still works; a new one retires the last.
    older = (await service.services.sharing.new_code(108, share_score=True)).code
    newest = (await service.services.sharing.new_code(108, share_score=True)).code
    assert (await call(http, service, f"{API_PREFIX}/scores/{older}", key=key)).status == 410
    loose = newest.replace("-", "").lower()
    assert (await call(http, service, f"{API_PREFIX}/scores/{loose}", key=key)).status == 200
    unknown = await call(http, service, f"{API_PREFIX}/scores/AAAA-AAAA", key=key)
    assert unknown.status == 404

    async with service.db.transaction() as session:
        accesses = (await session.scalars(select(ScoreAccess))).all()
        told = (
            await session.scalars(
                select(OutboxMessage.text).where(OutboxMessage.kind == "score_access")
            )
        ).all()
    assert [(a.citizen_id, a.partner_id, a.via) for a in accesses] == [
        (citizen_id, partner_id, "code")
    ] * 2
    assert len(told) == 2 and all("Lend Well" in present(t) for t in told)
    log = await service.services.sharing.access_log(108)
    assert [(e.partner, e.via) for e in log] == [("Lend Well", "code")] * 2


async def test_a_partner_asks_and_the_citizen_allows_once(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    await register_directly(service, 109, ni(109))
    _partner_id, key = await new_partner(service, "Lend Well")
    asked = await call(
        http, service, REQUESTS, method="POST", key=key, data=json.dumps({"ni_number": ni(109)})
    )
    assert asked.status == 202 and asked.json["status"] == "pending"
    request_id = asked.json["id"]
    async with service.db.transaction() as session:
        message = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "access_request")
        )
    assert message is not None and "Lend Well" in present(message.text)
    assert message.reply_markup is not None
    buttons = [b["text"] for b in message.reply_markup["inline_keyboard"][0]]
    assert buttons == ["Allow", "Deny"]

    status = await call(http, service, f"{REQUESTS}/{request_id}", key=key)
    assert status.json["status"] == "pending" and "score" not in status.json
    await service.services.sharing.answer_request(109, request_id, allow=True)
    allowed = await call(http, service, f"{REQUESTS}/{request_id}", key=key)
    assert allowed.json["status"] == "used"
    assert (allowed.json["score"]["band"], allowed.json["score"]["score"]) == ("Good", 600)
    again = await call(http, service, f"{REQUESTS}/{request_id}", key=key)
    assert again.json["status"] == "used" and "score" not in again.json
    # Another partner can't even see that the request exists.
    _other, other_key = await new_partner(service, "Nosy Ltd")
    assert (await call(http, service, f"{REQUESTS}/{request_id}", key=other_key)).status == 404


async def test_an_unknown_person_or_a_denial_never_shows_a_score(
    service: BritizenService, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    await register_directly(service, 110, ni(110))
    _partner_id, key = await new_partner(service)
    unknown = await call(
        http, service, REQUESTS, method="POST", key=key, data=json.dumps({"ni_number": ni(999)})
    )
    assert unknown.status == 202 and unknown.json["status"] == "pending"
    denied = await call(
        http, service, REQUESTS, method="POST", key=key, data=json.dumps({"ni_number": ni(110)})
    )
    await service.services.sharing.answer_request(110, denied.json["id"], allow=False)
    assert (await call(http, service, f"{REQUESTS}/{denied.json['id']}", key=key)).json[
        "status"
    ] == "denied"
    clock.advance(hours=25)
    late = await call(http, service, f"{REQUESTS}/{unknown.json['id']}", key=key)
    assert late.json["status"] == "expired"
    bad = await call(
        http, service, REQUESTS, method="POST", key=key, data=json.dumps({"ni_number": "x"})
    )
    assert bad.status == 422 and set(bad.json["fields"]) == {"ni_number"}


async def test_open_data_suppresses_cells_under_10_people_and_what_would_give_them_away(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    for i in range(12):
        await register_directly(service, 200 + i, ni(200 + i), "SO17")
    for i in range(3):
        await register_directly(service, 300 + i, ni(300 + i), "E1")
    reply = await call(http, service, BANDS)
    assert reply.status == 200 and reply.json["@context"]["@vocab"]
    assert "Open Government Licence" in reply.json["licence"]
    assert reply.json["computed_at"]
    assert reply.json["total"] == {"count": 15, "suppressed": False}
    bands = {b["band"]: (b["count"], b["suppressed"]) for b in reply.json["bands"]}
    assert bands["Good"] == (15, False) and bands["Poor"] == (0, False)
    areas = {a["area"]: a for a in reply.json["areas"]}
    assert set(areas) == {"E", "SO"}
    # E's 3 would be 15 - 12 if SO's figures were out: SO's Good and total are hidden with it.
    for area in ("E", "SO"):
        assert areas[area]["total"] == {"count": None, "suppressed": True}
        by_band = {b["band"]: (b["count"], b["suppressed"]) for b in areas[area]["bands"]}
        assert by_band["Good"] == (None, True)
        assert all(v == (0, False) for k, v in by_band.items() if k != "Good")
    assert "fewer than 10" in reply.json["suppression"]["note"]
    assert "worked out" in reply.json["suppression"]["complementary"]
    assert reply.json["suppression"]["suppressed_cells"] == 2 + 2

    as_csv = await call(http, service, f"{BANDS}?format=csv")
    assert as_csv.status == 200 and as_csv.content_type == "text/csv"
    text = as_csv.body.decode()
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert any("Licence: Open Government Licence" in c for c in comments)
    assert any("Computed at:" in c for c in comments)
    rows = list(
        csv.DictReader(
            io.StringIO("\n".join(ln for ln in text.splitlines() if not ln.startswith("#")))
        )
    )
    by = {(r["area"], r["band"]): (r["count"], r["suppressed"]) for r in rows}
    assert by[("SO", "Good")] == ("", "true") and by[("SO", "Poor")] == ("0", "false")
    assert by[("E", "ALL")] == ("", "true") and by[("ALL", "Good")] == ("15", "false")
    assert (await call(http, service, f"{BANDS}?format=xml")).json["fields"] == {
        "format": "must be json or csv"
    }


async def test_two_racing_reads_of_one_code_let_only_one_through(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    await register_directly(service, 111, ni(111))
    _partner_id, key = await new_partner(service)
    code = (await service.services.sharing.new_code(111, share_score=True)).code
    replies = await asyncio.gather(
        *(call(http, service, f"{API_PREFIX}/scores/{code}", key=key) for _ in range(4)),
        return_exceptions=True,
    )
    statuses = sorted(r.status for r in replies if not isinstance(r, BaseException))
    assert statuses[0] == 200 and statuses.count(200) == 1


async def test_an_event_held_while_its_person_was_registering_is_applied_by_the_sweep(
    service: BritizenService, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    citizen_id = await register_directly(service, 112, ni(112))
    partner_id, _key = await new_partner(service)
    # As if the event's transaction read "unknown" just before the registration committed.
    async with service.db.transaction() as session:
        for external_id in ("raced-1", "raced-2"):
            session.add(
                HeldPaymentEvent(
                    ni_hash=ni_number_hash(TEST_SECRET.encode(), ni(112)),
                    source=f"partner:{partner_id}",
                    external_id=external_id,
                    kind="bill",
                    outcome="on_time",
                    occurred_on=clock().date(),
                    received_at=clock(),
                )
            )
    assert await service.services.events.apply_matched() == 2
    async with service.db.transaction() as session:
        owners = (await session.scalars(select(PaymentEvent.citizen_id))).all()
        left = await session.scalar(select(func.count()).select_from(HeldPaymentEvent))
    assert owners == [citizen_id, citizen_id] and left == 0
    assert await service.services.events.apply_matched() == 0


async def test_the_same_batch_sent_twice_at_once_counts_once(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    await register_directly(service, 113, ni(113))
    _partner_id, key = await new_partner(service)
    # A month each, so the ten bills about 113 are a plausible history rather than a burst.
    events = [
        event(f"race-{i}", ni(113 if i % 2 else 900 + i), occurred_on=f"2026-{i // 2 + 1:02d}-05")
        for i in range(20)
    ]
    first, second = await asyncio.gather(
        post_events(http, service, key, *events), post_events(http, service, key, *events)
    )
    assert (first.status, second.status) == (200, 200)
    assert first.json["accepted"] + second.json["accepted"] == 20
    assert first.json["duplicates"] + second.json["duplicates"] == 20
    async with service.db.transaction() as session:
        applied = await session.scalar(select(func.count()).select_from(PaymentEvent))
        held = await session.scalar(select(func.count()).select_from(HeldPaymentEvent))
    assert (applied, held) == (10, 10)


async def test_asking_again_while_a_request_waits_does_not_message_the_citizen_again(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    await register_directly(service, 114, ni(114))
    _partner_id, key = await new_partner(service)
    body = json.dumps({"ni_number": ni(114)})
    first = await call(http, service, REQUESTS, method="POST", key=key, data=body)
    second = await call(http, service, REQUESTS, method="POST", key=key, data=body)
    assert first.json["id"] == second.json["id"] and second.status == 202
    async with service.db.transaction() as session:
        sent = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "access_request")
        )
    assert sent == 1
