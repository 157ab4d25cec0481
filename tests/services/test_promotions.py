"""Promotions as a use case (create, list, get, cancel, vouchers, counts) on SQLite and
PostgreSQL, and the request rules of the pydantic models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select, update

from api.errors import fields_from_pydantic
from notifications.promotions import PromotionFanout
from services.clock import ManualClock, as_aware_utc
from services.promotions import (
    VOUCHER_ALPHABET,
    VOUCHER_CODE_LENGTH,
    InvalidPromotion,
    PromotionDraft,
    PromotionNotFound,
    PromotionService,
    generate_voucher_codes,
    in_audience,
    telegram_length,
)
from storage.db import Database
from storage.models import OutboxMessage, Promotion, Redemption, Voucher
from tests.support.promotion_data import Person, add_people, add_sponsor, draft_body

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TOMORROW = START + timedelta(days=1)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def promotions(db: Database, clock: ManualClock) -> PromotionService:
    return PromotionService(db, clock, LONDON)


def draft(**fields: Any) -> PromotionDraft:
    return PromotionDraft.model_validate(draft_body(TOMORROW, **fields))


def problems(body: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        PromotionDraft.model_validate(body)
    return fields_from_pydantic(caught.value)


# -- the request rules (pure) --------------------------------------------------------------------


def test_a_minimal_body_is_valid_and_defaults_to_everyone_now_without_vouchers() -> None:
    parsed = draft()
    assert parsed.starts_at is None and parsed.button is None
    assert parsed.vouchers.kind == "none"
    assert parsed.audience.effective_min_score() is None


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"text": "x" * 3501}, "text"),
        # 1,750 emoji are 1,750 characters to Python but 3,500 + 2 UTF-16 units to Telegram.
        ({"text": "🎉" * 1751}, "text"),
        ({"button": {"label": "Shop", "url": "http://acme.example/offer"}}, "button.url"),
        ({"button": {"label": "Shop", "url": "javascript:alert(1)"}}, "button.url"),
        ({"button": {"label": "Shop", "url": "https:///no-host"}}, "button.url"),
        ({"button": {"label": "Shop", "url": "https://acme.example/" + "a" * 2048}}, "button.url"),
        ({"button": {"label": "", "url": "https://acme.example/"}}, "button.label"),
        ({"button": {"label": "x" * 41, "url": "https://acme.example/"}}, "button.label"),
        ({"audience": {"min_score": 200}}, "audience.min_score"),
        ({"audience": {"min_score": "700"}}, "audience.min_score"),
        ({"audience": {"min_band": "Superb"}}, "audience.min_band"),
        ({"audience": {"postcode_districts": ["SO17", "QQ1"]}}, "audience.postcode_districts.1"),
        ({"audience": {"postcode_districts": []}}, "audience.postcode_districts"),
        ({"audience": {"max_recipients": 0}}, "audience.max_recipients"),
        ({"audience": {"everyone": True}}, "audience.everyone"),
        ({"expires_at": "2026-11-22T12:00:00"}, "expires_at"),
        ({"expires_at": "next tuesday"}, "expires_at"),
        ({"starts_at": "2026-11-22T12:00:00"}, "starts_at"),
        ({"vouchers": {"kind": "unique", "count": 0}}, "vouchers.unique.count"),
        ({"vouchers": {"kind": "unique", "count": 100_001}}, "vouchers.unique.count"),
        ({"vouchers": {"kind": "shared"}}, "vouchers.shared.code"),
        ({"vouchers": {"kind": "shared", "code": "A\nB"}}, "vouchers.shared.code"),
        ({"vouchers": {"kind": "lottery"}}, "vouchers"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_each_bad_field_is_named(fields: dict[str, Any], bad: str) -> None:
    assert set(problems(draft_body(TOMORROW, **fields))) == {bad}


def test_several_bad_fields_are_all_named() -> None:
    body = draft_body(TOMORROW, title="", audience={"min_score": 10, "max_recipients": -1})
    del body["expires_at"]
    assert set(problems(body)) == {
        "title",
        "audience.min_score",
        "audience.max_recipients",
        "expires_at",
    }


def test_districts_are_normalised_and_deduplicated_and_limits_count_utf16() -> None:
    parsed = draft(audience={"postcode_districts": ["so17", "SO17 1BJ", " sw1a "]})
    assert parsed.audience.postcode_districts == ["SO17", "SW1A"]
    assert telegram_length("🎉a") == 3
    assert draft(text="🎉" * 1750).text == "🎉" * 1750


def test_the_band_floor_and_the_score_combine_to_the_higher_threshold() -> None:
    assert draft(audience={"min_band": "Good"}).audience.effective_min_score() == 600
    both = draft(audience={"min_band": "Good", "min_score": 620}).audience
    assert both.effective_min_score() == 620
    lower = draft(audience={"min_band": "Excellent", "min_score": 400}).audience
    assert lower.effective_min_score() == 700


def test_voucher_codes_are_distinct_and_unambiguous() -> None:
    codes = generate_voucher_codes(100_000)
    assert len(codes) == len(set(codes)) == 100_000
    assert all(len(code) == VOUCHER_CODE_LENGTH for code in codes[:1000])
    used = set("".join(codes[:5000]))
    assert used <= set(VOUCHER_ALPHABET)
    assert not used & set("0O1IL")
    assert len(used) == len(VOUCHER_ALPHABET) == 31


# -- the service on both databases ---------------------------------------------------------------


async def test_create_counts_the_audience_by_the_contract_rule(
    db: Database, promotions: PromotionService, clock: ManualClock
) -> None:
    ids = await add_people(
        db,
        [
            Person(1, score=720, district="SO17"),
            Person(2, score=610, district="SO17"),
            Person(3, score=590, district="SO17"),  # below Good
            Person(4, score=None, district="SO17"),  # no score: not in a score audience
            Person(5, score=700, district="SW1A"),  # other district
            Person(6, score=800, district="SO17", opted_in=False),
            Person(7, score=800, district="SO17", unreachable=True),
            Person(8, score=650, district="SO15"),
            Person(9, score=900, district=None),
        ],
        clock(),
    )
    sponsor = await add_sponsor(db)
    audience = {"min_band": "Good", "postcode_districts": ["SO17", "SO15"]}
    created = await promotions.create(sponsor, draft(audience=audience))
    assert created.promotion.targeted == 3  # people 1, 2 and 8
    assert created.counts["targeted"] == 3 and created.counts["queued"] == 0
    assert created.status == "scheduled"
    assert created.promotion.audience_min_score == 600
    assert as_aware_utc(created.promotion.starts_at) == START

    capped = await promotions.create(sponsor, draft(audience={**audience, "max_recipients": 2}))
    assert capped.promotion.targeted == 2
    everyone = await promotions.create(sponsor, draft())
    assert everyone.promotion.targeted == 7  # all opted-in, reachable people, scored or not

    # The fan-out queues exactly that audience, lowest citizen ids first under a cap.
    fanout = PromotionFanout(db, clock, LONDON)
    await fanout.run_once()
    async with db.transaction() as session:
        queued = (
            await session.execute(
                select(OutboxMessage.promotion_id, OutboxMessage.citizen_id).order_by(
                    OutboxMessage.citizen_id
                )
            )
        ).all()
    by_promotion: dict[int | None, list[int | None]] = {}
    for promotion_id, citizen_id in queued:
        by_promotion.setdefault(promotion_id, []).append(citizen_id)
    assert by_promotion[created.promotion.id] == [ids[1], ids[2], ids[8]]
    assert by_promotion[capped.promotion.id] == [ids[1], ids[2]]
    assert len(by_promotion[everyone.promotion.id]) == 7


class Reader(TypedDict):
    """in_audience's keyword arguments: one person as the audience rule sees them."""

    marketing_opt_in: bool
    unreachable: bool
    score: int | None
    district: str | None


async def test_in_audience_agrees_with_the_sql_rule(
    db: Database, promotions: PromotionService
) -> None:
    sponsor = await add_sponsor(db)
    view = await promotions.create(
        sponsor, draft(audience={"min_score": 600, "postcode_districts": ["SO17"]})
    )
    p = view.promotion
    ok: Reader = {"marketing_opt_in": True, "unreachable": False, "score": 600, "district": "SO17"}
    assert in_audience(p, **ok)
    assert not in_audience(p, **(ok | {"marketing_opt_in": False}))
    assert not in_audience(p, **(ok | {"unreachable": True}))
    assert not in_audience(p, **(ok | {"score": 599}))
    assert not in_audience(p, **(ok | {"score": None}))
    assert not in_audience(p, **(ok | {"district": "SO15"}))


async def test_times_are_checked_against_the_clock(
    db: Database, promotions: PromotionService
) -> None:
    sponsor = await add_sponsor(db)
    cases = [
        ({"expires_at": (START - timedelta(minutes=1)).isoformat()}, "expires_at", "future"),
        (
            {
                "starts_at": (START + timedelta(days=2)).isoformat(),
                "expires_at": (START + timedelta(days=1)).isoformat(),
            },
            "expires_at",
            "after starts_at",
        ),
        (
            {
                "starts_at": (START + timedelta(days=400)).isoformat(),
                "expires_at": (START + timedelta(days=401)).isoformat(),
            },
            "starts_at",
            "within",
        ),
        ({"expires_at": (START + timedelta(days=400)).isoformat()}, "expires_at", "at most"),
    ]
    for fields, bad, words in cases:
        with pytest.raises(InvalidPromotion) as caught:
            await promotions.create(sponsor, draft(**fields))
        assert set(caught.value.fields) == {bad}
        assert words in caught.value.fields[bad]
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Promotion)) == 0

    # A start in the past means now; a later one is kept (in UTC, whatever offset was given).
    past = await promotions.create(sponsor, draft(starts_at="2026-11-20T09:00:00+00:00"))
    assert as_aware_utc(past.promotion.starts_at) == START
    later = await promotions.create(sponsor, draft(starts_at="2026-11-21T15:00:00+01:00"))
    assert as_aware_utc(later.promotion.starts_at) == START + timedelta(hours=2)


async def test_unique_vouchers_are_made_in_bulk_at_creation(
    db: Database, promotions: PromotionService
) -> None:
    sponsor = await add_sponsor(db)
    big = await promotions.create(sponsor, draft(vouchers={"kind": "unique", "count": 100_000}))
    small = await promotions.create(sponsor, draft(vouchers={"kind": "unique", "count": 3}))
    shared = await promotions.create(sponsor, draft(vouchers={"kind": "shared", "code": "ACME10"}))
    async with db.transaction() as session:
        counts = dict(
            (
                await session.execute(
                    select(Voucher.promotion_id, func.count(func.distinct(Voucher.code)))
                    .where(Voucher.citizen_id.is_(None))
                    .group_by(Voucher.promotion_id)
                )
            ).all()
        )
    assert counts == {big.promotion.id: 100_000, small.promotion.id: 3}
    assert big.promotion.voucher_kind == "unique" and big.promotion.voucher_count == 100_000
    assert shared.promotion.voucher_code == "ACME10"
    assert shared.promotion.id not in counts


async def test_list_and_get_show_only_the_sponsors_own_with_live_counts(
    db: Database, promotions: PromotionService, clock: ManualClock
) -> None:
    ids = await add_people(db, [Person(1), Person(2), Person(3)], clock())
    acme = await add_sponsor(db, "Acme Ltd")
    other = await add_sponsor(db, "Other plc")
    first = await promotions.create(acme, draft(title="First"))
    clock.advance(seconds=1)
    second = await promotions.create(acme, draft(title="Second"))
    theirs = await promotions.create(other, draft(title="Theirs"))
    assert [v.promotion.title for v in await promotions.list_for(acme)] == ["Second", "First"]
    with pytest.raises(PromotionNotFound):
        await promotions.get(acme, theirs.promotion.id)
    with pytest.raises(PromotionNotFound):
        await promotions.cancel(acme, theirs.promotion.id)

    await PromotionFanout(db, clock, LONDON).run_once()
    sent_at = START + timedelta(minutes=2, seconds=10)
    async with db.transaction() as session:
        rows = list(
            (
                await session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.promotion_id == first.promotion.id)
                    .order_by(OutboxMessage.id)
                )
            ).all()
        )
        for row, status in zip(rows, ["sent", "sent", "unreachable"], strict=True):
            row.status = status
            row.sent_at = sent_at if status == "sent" else None
        session.add(
            Redemption(promotion_id=first.promotion.id, citizen_id=ids[1], redeemed_at=sent_at)
        )
    view = await promotions.get(acme, first.promotion.id)
    assert view.counts == {
        "targeted": 3,
        "queued": 0,
        "sent": 2,
        "failed": 0,
        "unreachable": 1,
        "uncertain": 0,
        "cancelled": 0,
        "redeemed": 1,
    }
    assert view.status == "completed"
    assert view.sent_per_minute is not None
    assert [(m.minute, m.count) for m in view.sent_per_minute] == [
        (START + timedelta(minutes=2), 2)
    ]
    listed = {v.promotion.id: v for v in await promotions.list_for(acme)}
    assert listed[first.promotion.id].counts == view.counts
    assert listed[second.promotion.id].counts["queued"] == 3
    assert listed[second.promotion.id].status == "sending"


async def test_cancel_stops_everything_not_yet_sent_and_is_idempotent(
    db: Database, promotions: PromotionService, clock: ManualClock
) -> None:
    await add_people(db, [Person(n) for n in range(1, 6)], clock())
    sponsor = await add_sponsor(db)
    view = await promotions.create(sponsor, draft())
    await PromotionFanout(db, clock, LONDON).run_once()
    async with db.transaction() as session:
        first_two = list(
            (
                await session.scalars(
                    select(OutboxMessage.id)
                    .where(OutboxMessage.promotion_id == view.promotion.id)
                    .order_by(OutboxMessage.id)
                    .limit(2)
                )
            ).all()
        )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(first_two))
            .values(status="sent", sent_at=clock())
        )
    cancelled = await promotions.cancel(sponsor, view.promotion.id)
    assert cancelled.status == "cancelled"
    assert cancelled.counts["sent"] == 2 and cancelled.counts["cancelled"] == 3
    assert cancelled.counts["queued"] == 0
    again = await promotions.cancel(sponsor, view.promotion.id)
    assert again.status == "cancelled" and again.counts == cancelled.counts
    assert as_aware_utc(again.promotion.cancelled_at or START) == START

    # A scheduled one cancelled before its start is never fanned out.
    later = await promotions.create(
        sponsor, draft(starts_at=(START + timedelta(hours=1)).isoformat())
    )
    await promotions.cancel(sponsor, later.promotion.id)
    clock.advance(hours=2)
    assert (await PromotionFanout(db, clock, LONDON).run_once()).fanned_out == {}
    assert (await promotions.get(sponsor, later.promotion.id)).counts["queued"] == 0
