"""The promotion routes over loopback HTTP against the real service, on SQLite and PostgreSQL,
and a promotion created over HTTP arriving in an opted-in citizen's chat at the stand-in."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select, update

from api.limits import REQUESTS_PER_MINUTE
from api.openapi import API_PREFIX
from bot.service import PROMOTION_TICK_SECONDS, BritizenService
from services.clock import ManualClock
from storage.models import Citizen, OutboxMessage
from tests.api.test_sponsor_api import OVERSIZED, Reply, assert_json_error, call, http, new_sponsor
from tests.e2e.conftest import START, register
from tests.standin.driver import Citizen as ChatUser

__all__ = ["http"]  # the fixture, shared with the sponsor API tests

PROMOTIONS = f"{API_PREFIX}/promotions"
EXPIRES = (START + timedelta(days=7)).isoformat()


def body(**fields: Any) -> bytes:
    payload: dict[str, Any] = {
        "title": "10% off groceries",
        "text": "Show the code at any Acme store.",
        "expires_at": EXPIRES,
    }
    payload.update(fields)
    return json.dumps(payload).encode()


async def post(
    http: aiohttp.ClientSession, service: BritizenService, key: str, data: bytes
) -> Reply:
    return await call(http, service, PROMOTIONS, method="POST", key=key, data=data)


async def test_create_list_get_and_cancel(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    key = await new_sponsor(service, "Acme Ltd")
    created = await post(
        http,
        service,
        key,
        body(
            button={"label": "Shop now", "url": "https://acme.example/offer"},
            audience={"min_band": "Good", "min_score": 620, "postcode_districts": ["so17"]},
            starts_at=(START + timedelta(hours=1)).isoformat(),
            vouchers={"kind": "unique", "count": 500},
        ),
    )
    assert created.status == 201, created.body
    promotion = created.json
    assert created.headers["Location"] == f"{PROMOTIONS}/{promotion['id']}"
    assert promotion["status"] == "scheduled"
    assert promotion["button"] == {"label": "Shop now", "url": "https://acme.example/offer"}
    assert promotion["audience"] == {
        "min_band": "Good",
        "min_score": 620,
        "postcode_districts": ["SO17"],
        "max_recipients": None,
    }
    assert promotion["vouchers"] == {"kind": "unique", "count": 500}
    assert promotion["starts_at"] == "2026-11-21T13:00:00Z"
    assert promotion["counts"]["targeted"] == 0  # nobody has opted in yet
    assert "sent_per_minute" not in promotion

    shared = await post(
        http, service, key, body(title="Later", vouchers={"kind": "shared", "code": "ACME10"})
    )
    assert shared.status == 201 and shared.json["vouchers"] == {"kind": "shared", "code": "ACME10"}

    listed = await call(http, service, PROMOTIONS, key=key)
    assert listed.status == 200
    assert [p["id"] for p in listed.json["promotions"]] == [shared.json["id"], promotion["id"]]

    one = await call(http, service, f"{PROMOTIONS}/{promotion['id']}", key=key)
    assert one.status == 200 and one.json["sent_per_minute"] == []
    assert {k: v for k, v in one.json.items() if k != "sent_per_minute"} == promotion

    cancelled = await call(
        http, service, f"{PROMOTIONS}/{promotion['id']}", method="DELETE", key=key
    )
    assert cancelled.status == 200 and cancelled.json["status"] == "cancelled"
    again = await call(http, service, f"{PROMOTIONS}/{promotion['id']}", method="DELETE", key=key)
    assert again.status == 200 and again.json == cancelled.json


async def test_another_sponsors_promotion_is_not_found(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    acme = await new_sponsor(service, "Acme Ltd")
    other = await new_sponsor(service, "Other plc")
    created = await post(http, service, acme, body())
    path = f"{PROMOTIONS}/{created.json['id']}"
    assert_json_error(await call(http, service, path, key=other), 404, "not_found")
    assert_json_error(await call(http, service, path, method="DELETE", key=other), 404, "not_found")
    assert (await call(http, service, PROMOTIONS, key=other)).json == {"promotions": []}
    # Still running for its owner: the other sponsor's DELETE did nothing.
    assert (await call(http, service, path, key=acme)).json["status"] != "cancelled"
    for missing in ("999999", "99999999999999999999"):
        reply = await call(http, service, f"{PROMOTIONS}/{missing}", key=acme)
        assert_json_error(reply, 404, "not_found")
    assert_json_error(await call(http, service, f"{PROMOTIONS}/abc", key=acme), 404, "not_found")


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        (
            body(
                title="",
                button={"label": "Go", "url": "http://acme.example"},
                audience={"min_score": 10, "postcode_districts": ["SO17", "nope!"]},
                vouchers={"kind": "unique", "count": 0},
            ),
            {
                "title",
                "button.url",
                "audience.min_score",
                "audience.postcode_districts.1",
                "vouchers.count",
            },
        ),
        (body(text="🎉" * 1751), {"text"}),
        (body(expires_at=(START - timedelta(hours=1)).isoformat()), {"expires_at"}),
        (body(expires_at="2026-12-01T10:00:00"), {"expires_at"}),
        (body(vouchers={"kind": "shared"}), {"vouchers.code"}),
        (body(audience={"min_band": "Superb"}, expire_at="x"), {"audience.min_band", "expire_at"}),
        (b"[1, 2]", {"body"}),
        (b"", {"body"}),
    ],
)
async def test_invalid_bodies_are_422_naming_each_field(
    service: BritizenService, http: aiohttp.ClientSession, data: bytes, fields: set[str]
) -> None:
    key = await new_sponsor(service)
    reply = await post(http, service, key, data)
    assert_json_error(reply, 422, "validation")
    assert set(reply.json["fields"]) == fields
    assert all(isinstance(m, str) and m for m in reply.json["fields"].values())
    assert (await call(http, service, PROMOTIONS, key=key)).json == {"promotions": []}


async def test_the_guards_hold_on_the_new_routes(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    key = await new_sponsor(service, "Acme Ltd")
    created = await post(http, service, key, body())
    one = f"{PROMOTIONS}/{created.json['id']}"
    for method, path in (("POST", PROMOTIONS), ("GET", PROMOTIONS), ("GET", one), ("DELETE", one)):
        reply = await call(http, service, path, method=method, data=body())
        assert_json_error(reply, 401, "unauthorized")
        reply = await call(http, service, path, method=method, key="bz_sp_wrong", data=body())
        assert_json_error(reply, 401, "unauthorized")
    assert_json_error(await post(http, service, key, OVERSIZED), 413, "payload_too_large")
    # A body just under the limit is read and judged on its fields instead.
    long_text = body(text="x" * 50_000)
    assert_json_error(await post(http, service, key, long_text), 422, "validation")

    busy = await new_sponsor(service, "Busy Ltd")
    for _ in range(REQUESTS_PER_MINUTE):
        assert (await call(http, service, PROMOTIONS, key=busy)).status == 200
    reply = await post(http, service, busy, body())
    assert_json_error(reply, 429, "rate_limited")
    assert int(reply.headers["Retry-After"]) >= 1
    busy_sponsor = await service.services.sponsors.authenticate(busy)
    assert busy_sponsor is not None
    assert await service.services.promotions.list_for(busy_sponsor.id) == []  # nothing made
    assert (await post(http, service, key, body())).status == 201  # others are unaffected


async def _set_opt_in(service: BritizenService, telegram_id: int, value: bool) -> None:
    async with service.db.transaction() as session:
        await session.execute(
            update(Citizen).where(Citizen.telegram_id == telegram_id).values(marketing_opt_in=value)
        )


async def _wait_for_sent(
    http: aiohttp.ClientSession, service: BritizenService, key: str, path: str, sent: int
) -> Reply:
    for _ in range(100):
        reply = await call(http, service, path, key=key)
        if reply.json["counts"]["sent"] >= sent and reply.json["counts"]["queued"] == 0:
            return reply
        await asyncio.sleep(0.05)
    raise AssertionError(f"never sent {sent}: {reply.json}")


async def test_a_promotion_created_over_http_reaches_opted_in_citizens_only(
    service: BritizenService,
    http: aiohttp.ClientSession,
    citizen: Callable[..., ChatUser],
    clock: ManualClock,
) -> None:
    alice = citizen(601, "Alice")
    bob = citizen(602, "Bob")
    await register(alice, "AB 60 10 01 A", postcode="SO17 1BJ")
    await register(bob, "AB 60 10 02 A", postcode="SO17 1BJ")
    await _set_opt_in(service, 601, True)  # the opt-in question is the citizen side's
    await _set_opt_in(service, 602, False)
    await alice.expect_nothing(quiet=0.3)
    await bob.expect_nothing(quiet=0.3)

    key = await new_sponsor(service, "Acme Ltd")
    # With the tick paused, only the kick after creation can send it: it goes out at once.
    service.scheduler.pause_job("promotions")
    created = await post(
        http,
        service,
        key,
        body(
            title="Winter warmer",
            text="Half price soup all week.",
            button={"label": "See the menu", "url": "https://acme.example/soup"},
            audience={"postcode_districts": ["SO17"]},
            vouchers={"kind": "shared", "code": "SOUP50"},
        ),
    )
    assert created.status == 201, created.body
    assert created.json["counts"]["targeted"] == 1

    job = service.scheduler.get_job("promotions")
    assert job is not None and job.trigger.interval.total_seconds() == PROMOTION_TICK_SECONDS
    message = await alice.expect(
        "Sponsored by Acme Ltd", "Winter warmer", "Half price soup all week.", "Redeem"
    )
    assert message.text.startswith("📣 Sponsored by Acme Ltd")
    assert alice.buttons(message) == ["See the menu", "🎟 Redeem", "🔕 Stop offers"]
    assert message.inline_keyboard[0][0]["url"] == "https://acme.example/soup"
    await bob.expect_nothing(quiet=0.5)

    path = f"{PROMOTIONS}/{created.json['id']}"
    done = await _wait_for_sent(http, service, key, path, 1)
    assert done.json["status"] == "completed"
    assert done.json["counts"] == {
        "targeted": 1,
        "queued": 0,
        "sent": 1,
        "failed": 0,
        "unreachable": 0,
        "uncertain": 0,
        "cancelled": 0,
        "redeemed": 0,
    }
    assert done.json["sent_per_minute"] == [{"minute": "2026-11-21T12:00:00Z", "count": 1}]

    # Running the tick again (or after a restart) sends nobody anything twice.
    await service.run_promotions()
    await alice.expect_nothing(quiet=0.5)
    async with service.db.transaction() as session:
        rows = await session.scalar(
            select(func.count()).where(OutboxMessage.promotion_id == created.json["id"])
        )
    assert rows == 1


async def test_a_scheduled_promotion_goes_out_at_its_start_and_a_cancelled_one_never(
    service: BritizenService,
    http: aiohttp.ClientSession,
    citizen: Callable[..., ChatUser],
    clock: ManualClock,
) -> None:
    alice = citizen(611, "Alice")
    await register(alice, "AB 61 10 01 A")
    await _set_opt_in(service, 611, True)
    key = await new_sponsor(service, "Acme Ltd")
    later = (START + timedelta(hours=1)).isoformat()
    kept = await post(http, service, key, body(title="At one o'clock", starts_at=later))
    dropped = await post(http, service, key, body(title="Called off", starts_at=later))
    assert kept.status == dropped.status == 201
    await call(http, service, f"{PROMOTIONS}/{dropped.json['id']}", method="DELETE", key=key)
    await service.run_promotions()
    await alice.expect_nothing(quiet=0.3)

    clock.advance(hours=1)
    await service.run_promotions()
    await alice.expect("Sponsored by Acme Ltd", "At one o'clock")
    await alice.expect_nothing(quiet=0.5)
