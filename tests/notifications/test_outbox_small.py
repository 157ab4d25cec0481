"""Issue 21, an outbox that stays small, on SQLite and PostgreSQL: promotion rows carry no text
(the dispatcher renders the promotion, byte for byte what the rows used to hold), the fan-out
goes in chunks that each commit and resumes after a crash without skipping or repeating anyone,
and pruning finished rows leaves the sponsor's counts as they were."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update
from telegram import Bot

from notifications.dispatcher import Dispatcher
from notifications.housekeeping import OutboxPruner
from notifications.promotions import PromotionFanout
from services.clock import ManualClock, as_aware_utc
from services.promotion_messages import (
    PAID_PROMOTION_PRIORITY,
    promotion_markup,
    promotion_text,
    render_promotion,
)
from services.promotions import PromotionDraft, PromotionService
from standin import BotApiStandIn
from storage.db import Database
from storage.models import OutboxMessage, Promotion
from tests.e2e.conftest import TEST_TOKEN
from tests.support.promotion_data import Person, add_people, add_sponsor, draft_body

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TOMORROW = START + timedelta(days=1)


class Crash(Exception):
    """The injected failure: the process dies inside a chunk's transaction."""


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def promotions(db: Database, clock: ManualClock) -> PromotionService:
    return PromotionService(db, clock, LONDON)


def draft(**fields: Any) -> PromotionDraft:
    return PromotionDraft.model_validate(draft_body(TOMORROW, **fields))


async def queued_citizens(db: Database, promotion_id: int) -> list[int | None]:
    async with db.transaction() as session:
        return list(
            (
                await session.scalars(
                    select(OutboxMessage.citizen_id)
                    .where(OutboxMessage.promotion_id == promotion_id)
                    .order_by(OutboxMessage.citizen_id)
                )
            ).all()
        )


async def stored(db: Database, promotion_id: int) -> Promotion:
    async with db.transaction() as session:
        promotion = await session.get(Promotion, promotion_id)
        assert promotion is not None
        return promotion


def crash_at(chunk: int) -> Any:
    async def hook(number: int) -> None:
        if number == chunk:
            raise Crash(f"killed inside chunk {number}")

    return hook


# -- the chunked fan-out ----------------------------------------------------------------------


@pytest.mark.parametrize("crash_chunk", [0, 3, 6])
async def test_a_fan_out_crashed_inside_a_chunk_resumes_with_nobody_skipped_or_repeated(
    db: Database, promotions: PromotionService, clock: ManualClock, crash_chunk: int
) -> None:
    people = [Person(n, opted_in=n % 5 != 0) for n in range(1000, 1060)]
    ids = await add_people(db, people, clock())
    audience = sorted(ids[p.key] for p in people if p.opted_in)
    sponsor = await add_sponsor(db)
    pid = (await promotions.create(sponsor, draft())).promotion.id
    chunk = 7  # citizen ids per chunk: 60 people make 9 chunks

    crashing = PromotionFanout(db, clock, LONDON, chunk=chunk, chunk_hook=crash_at(crash_chunk))
    with pytest.raises(Crash):
        await crashing.run_once()
    # Chunks before the crash are committed, the crashed one left nothing; the cursor says so.
    before = await queued_citizens(db, pid)
    promotion = await stored(db, pid)
    assert promotion.status == "sending" and promotion.fanout_finished_at is None
    # Ids are consecutive here, so chunk k covers (first - 1 + 7k, first - 1 + 7(k + 1)].
    first = min(ids.values())
    assert promotion.fanout_cursor == (first - 1 + chunk * crash_chunk if crash_chunk else 0)
    assert before == [c for c in audience if c <= (promotion.fanout_cursor or 0)]
    assert promotion.targeted == len(before)

    # The restart (any instance's next tick) carries on from the cursor.
    summary = await PromotionFanout(db, clock, LONDON, chunk=chunk).run_once()
    assert summary.fanned_out == {pid: len(audience)}
    after = await queued_citizens(db, pid)
    assert after == audience  # everyone once: none skipped, none twice
    promotion = await stored(db, pid)
    assert promotion.targeted == len(audience) and promotion.fanout_finished_at is not None
    # And a further run finds nothing to do.
    assert (await PromotionFanout(db, clock, LONDON, chunk=chunk).run_once()).fanned_out == {}


async def test_two_chunked_fan_outs_at_once_queue_everyone_exactly_once(
    db: Database, db_url: str, promotions: PromotionService, clock: ManualClock
) -> None:
    people = [Person(n) for n in range(2000, 2150)]
    ids = await add_people(db, people, clock())
    sponsor = await add_sponsor(db)
    pid = (await promotions.create(sponsor, draft())).promotion.id
    other_db = Database(db_url)
    try:
        await asyncio.gather(
            PromotionFanout(db, clock, LONDON, chunk=10).run_once(),
            PromotionFanout(other_db, clock, LONDON, chunk=10).run_once(),
        )
    finally:
        await other_db.close()
    assert await queued_citizens(db, pid) == sorted(ids.values())
    assert (await stored(db, pid)).targeted == len(people)


async def test_a_capped_audience_takes_the_lowest_ids_across_chunks(
    db: Database, promotions: PromotionService, clock: ManualClock
) -> None:
    ids = await add_people(db, [Person(n) for n in range(3000, 3040)], clock())
    sponsor = await add_sponsor(db)
    pid = (await promotions.create(sponsor, draft(audience={"max_recipients": 13}))).promotion.id
    await PromotionFanout(db, clock, LONDON, chunk=4).run_once()
    assert await queued_citizens(db, pid) == sorted(ids.values())[:13]
    assert (await stored(db, pid)).targeted == 13


async def test_a_cancel_between_chunks_stops_the_fan_out(
    db: Database, promotions: PromotionService, clock: ManualClock
) -> None:
    await add_people(db, [Person(n) for n in range(4000, 4030)], clock())
    sponsor = await add_sponsor(db)
    pid = (await promotions.create(sponsor, draft())).promotion.id
    with pytest.raises(Crash):
        await PromotionFanout(db, clock, LONDON, chunk=5, chunk_hook=crash_at(2)).run_once()
    await promotions.cancel(sponsor, pid)
    assert (await PromotionFanout(db, clock, LONDON, chunk=5).run_once()).fanned_out == {}
    async with db.transaction() as session:
        statuses = Counter(
            (
                await session.scalars(
                    select(OutboxMessage.status).where(OutboxMessage.promotion_id == pid)
                )
            ).all()
        )
    assert statuses == {"cancelled": 10}  # the two chunks committed, cancelled; no more


# -- rendering at send time -------------------------------------------------------------------

SAMPLES: list[dict[str, Any]] = [
    {},
    {"vouchers": {"kind": "shared", "code": "ACME10"}},
    {
        "title": "Ffair Haf — 20% i ffwrdd",
        "text": "Line one\nLine two 🎉 “quoted” & <not html>",
        "button": {"label": "Siopa", "url": "https://siop.example/cynnig?a=1&b=2"},
        "vouchers": {"kind": "unique", "count": 5},
    },
]


@pytest.mark.parametrize("fields", SAMPLES)
async def test_rendering_from_the_promotion_is_byte_for_byte_what_rows_used_to_hold(
    db: Database, promotions: PromotionService, fields: dict[str, Any]
) -> None:
    sponsor = await add_sponsor(db, "Siop Gymreig Cyf")
    promotion = (await promotions.create(sponsor, draft(**fields))).promotion
    has_voucher = promotion.voucher_kind != "none"
    # What notifications.promotions wrote into every row before issue 21.
    old_text = promotion_text(
        "Siop Gymreig Cyf",
        promotion.title,
        promotion.text,
        as_aware_utc(promotion.expires_at),
        LONDON,
        has_voucher=has_voucher,
        button_url=promotion.button_url,
    )
    old_markup = promotion_markup(
        promotion.id,
        button_label=promotion.button_label,
        button_url=promotion.button_url,
        has_voucher=has_voucher,
    )
    rendered = render_promotion(await stored(db, promotion.id), "Siop Gymreig Cyf", LONDON)
    assert rendered.text.encode() == old_text.encode()
    assert rendered.reply_markup == old_markup


@pytest.fixture
async def bot(standin: BotApiStandIn) -> AsyncIterator[Bot]:
    async with Bot(TEST_TOKEN, base_url=standin.base_url) as telegram_bot:
        yield telegram_bot


async def drain(dispatcher: Dispatcher) -> None:
    for _ in range(20):
        if await dispatcher.dispatch_once() == 0:
            return


async def test_the_dispatcher_sends_the_rendered_promotion_and_paid_ones_as_paid(
    db: Database, promotions: PromotionService, clock: ManualClock, standin: BotApiStandIn, bot: Bot
) -> None:
    await add_people(db, [Person(n) for n in (51, 52)], clock())
    sponsor = await add_sponsor(db)
    free = (await promotions.create(sponsor, draft(title="Free one"))).promotion
    paid_draft = draft(title="Paid one", paid_broadcast=True)
    paid = (await promotions.create(sponsor, paid_draft)).promotion
    await PromotionFanout(db, clock, LONDON).run_once()
    async with db.transaction() as session:
        priorities = dict(
            (
                await session.execute(
                    select(OutboxMessage.promotion_id, func.max(OutboxMessage.priority)).group_by(
                        OutboxMessage.promotion_id
                    )
                )
            ).all()
        )
    assert priorities[paid.id] == PAID_PROMOTION_PRIORITY

    dispatcher = Dispatcher(db, bot, clock, 100, timezone=LONDON)
    try:
        await drain(dispatcher)
    finally:
        await dispatcher.close()
    expected = {
        p.id: render_promotion(await stored(db, p.id), "Acme Ltd", LONDON) for p in (free, paid)
    }
    calls = standin.calls_of("sendMessage")
    assert len(calls) == 4
    for call in calls:
        paid_call = call.params.get("allow_paid_broadcast") is True
        wanted = expected[paid.id if paid_call else free.id]
        assert call.params["text"] == wanted.text
        assert call.params["reply_markup"] == wanted.reply_markup
    assert sum(1 for c in calls if c.params.get("allow_paid_broadcast") is True) == 2
    assert standin.stats()["paid_broadcasts"] == 2


async def test_free_broadcasts_wait_out_quiet_hours_and_paid_ones_do_not(
    db: Database, promotions: PromotionService, standin: BotApiStandIn, bot: Bot
) -> None:
    night = ManualClock(datetime(2026, 11, 21, 22, 30, tzinfo=UTC))  # 22:30 in London
    await add_people(db, [Person(61)], night())
    sponsor = await add_sponsor(db)
    service = PromotionService(db, night, LONDON)
    await service.create(sponsor, draft(title="Free one"))
    await service.create(sponsor, draft(title="Paid one", paid_broadcast=True))
    await PromotionFanout(db, night, LONDON).run_once()
    dispatcher = Dispatcher(db, bot, night, 100, timezone=LONDON, quiet_hours=True)
    try:
        await drain(dispatcher)
        assert [c.params.get("allow_paid_broadcast") for c in standin.calls_of("sendMessage")] == [
            True
        ]
        night.advance(hours=10)  # 08:30
        await drain(dispatcher)
    finally:
        await dispatcher.close()
    assert len(standin.calls_of("sendMessage")) == 2


# -- pruning ----------------------------------------------------------------------------------


async def test_pruning_deletes_finished_rows_after_their_period_and_keeps_the_counts(
    db: Database, promotions: PromotionService, clock: ManualClock
) -> None:
    people = [Person(n) for n in range(5000, 5020)]
    await add_people(db, people, clock())
    sponsor = await add_sponsor(db)
    pid = (await promotions.create(sponsor, draft())).promotion.id
    await PromotionFanout(db, clock, LONDON).run_once()
    async with db.transaction() as session:
        rows = list(
            (
                await session.scalars(
                    select(OutboxMessage.id)
                    .where(OutboxMessage.promotion_id == pid)
                    .order_by(OutboxMessage.id)
                )
            ).all()
        )
        plan = {
            "sent": rows[:8],
            "failed": rows[8:11],
            "unreachable": rows[11:13],
            "uncertain": rows[13:14],
            "cancelled": rows[14:16],
        }  # rows[16:] stay pending
        for status, chosen in plan.items():
            values: dict[str, Any] = {"status": status}
            if status == "sent":
                values["sent_at"] = clock()
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id.in_(chosen)).values(**values)
            )
        # One more sent row, a day later: younger than the period when the others go.
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == rows[7])
            .values(sent_at=clock() + timedelta(days=1))
        )
    before = (await promotions.get(sponsor, pid)).counts
    assert before["sent"] == 8 and before["failed"] == 3 and before["queued"] == 4

    pruner = OutboxPruner(db, clock, keep_sent_days=7, keep_failed_days=30, batch=3)
    clock.advance(days=7, minutes=1)
    assert await pruner.prune() == 7  # sent rows a week old; the failures are younger
    assert (await promotions.get(sponsor, pid)).counts == before
    clock.advance(days=1)
    assert await pruner.prune() == 1
    clock.advance(days=30)
    assert await pruner.prune() == 8  # failed, unreachable, uncertain, cancelled
    assert (await promotions.get(sponsor, pid)).counts == before
    assert await pruner.prune() == 0
    async with db.transaction() as session:
        left = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.promotion_id == pid)
        )
    assert left == 4  # only what is still pending
    promotion = await stored(db, pid)
    assert (promotion.pruned_sent, promotion.pruned_failed, promotion.pruned_cancelled) == (8, 3, 2)
