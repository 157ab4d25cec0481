"""Issue 21: a sponsor sees an honest delivery estimate before anything is sent (the audience,
the rate and when it should finish, quiet hours included), and can ask for a paid broadcast."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp

from bot.service import BritizenService
from services.delivery_estimate import estimate_delivery
from tests.api.test_promotions_api import PROMOTIONS, body, post
from tests.api.test_sponsor_api import assert_json_error, call, http, new_sponsor
from tests.e2e.conftest import START
from tests.support.promotion_data import add_many_opted_in

__all__ = ["http"]

LONDON = ZoneInfo("Europe/London")


async def test_the_create_response_gives_the_audience_and_an_estimate(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    await add_many_opted_in(service.db, 1_000, START)
    key = await new_sponsor(service)
    starts = START + timedelta(hours=1)
    free = await post(http, service, key, body(starts_at=starts.isoformat()))
    assert free.status == 201, free.body
    estimate = free.json["delivery_estimate"]
    rate = service.settings.send_rate
    assert free.json["paid_broadcast"] is False
    assert estimate["audience"] == free.json["counts"]["targeted"] == 1_000
    assert estimate["send_rate"] == rate and estimate["quiet_hours"] is True
    assert estimate["sending_seconds"] == round(1_000 / rate, 1)
    finish = datetime.fromisoformat(estimate["estimated_finish"].replace("Z", "+00:00"))
    assert finish == starts + timedelta(seconds=1_000 / rate)

    paid = await post(http, service, key, body(title="Fast", paid_broadcast=True))
    assert paid.status == 201, paid.body
    assert paid.json["paid_broadcast"] is True
    assert paid.json["delivery_estimate"]["send_rate"] == service.settings.paid_send_rate
    assert paid.json["delivery_estimate"]["quiet_hours"] is False

    # A single lookup gives it again; the list leaves it out.
    one = await call(http, service, f"{PROMOTIONS}/{free.json['id']}", key=key)
    assert one.json["delivery_estimate"] == estimate
    listed = await call(http, service, PROMOTIONS, key=key)
    assert all("delivery_estimate" not in p for p in listed.json["promotions"])


async def test_paid_broadcast_must_be_a_boolean(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    key = await new_sponsor(service)
    reply = await post(http, service, key, body(paid_broadcast="please"))
    assert_json_error(reply, 422, "validation")
    assert set(reply.json["fields"]) == {"paid_broadcast"}


def test_a_free_broadcast_pauses_overnight_and_a_paid_one_does_not() -> None:
    noon = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # 12:00 in London (GMT)
    free = estimate_delivery(
        1_000_000,
        noon,
        send_rate=25,
        paid_send_rate=1000,
        paid_broadcast=False,
        quiet_hours=True,
        timezone=LONDON,
    )
    # 40,000 s: 9 h until 21:00 (32,400 s), then 7,600 s from 08:00 the next morning.
    assert free.sending_seconds == 40_000
    assert free.finishes_at == datetime(2026, 11, 22, 10, 6, 40, tzinfo=UTC)
    paid = estimate_delivery(
        1_000_000,
        noon,
        send_rate=25,
        paid_send_rate=1000,
        paid_broadcast=True,
        quiet_hours=True,
        timezone=LONDON,
    )
    assert paid.finishes_at == noon + timedelta(seconds=1_000)
    night = estimate_delivery(
        25,
        datetime(2026, 11, 21, 23, 0, tzinfo=UTC),
        send_rate=25,
        paid_send_rate=1000,
        paid_broadcast=False,
        quiet_hours=True,
        timezone=LONDON,
    )
    assert night.finishes_at == datetime(2026, 11, 22, 8, 0, 1, tzinfo=UTC)
    # The whole of the UK's over-15s (55 million) at the free rate: weeks, said plainly.
    national = estimate_delivery(
        55_000_000,
        noon,
        send_rate=25,
        paid_send_rate=1000,
        paid_broadcast=False,
        quiet_hours=True,
        timezone=LONDON,
    )
    assert national.finishes_at - noon > timedelta(days=45)
