"""The promotion fan-out and expiry sweep on SQLite and PostgreSQL: one outbox row per
recipient, never twice (run again, or by two instances at once), and nothing after expiry."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from notifications.promotions import PromotionFanout
from services.clock import ManualClock, as_aware_utc
from services.promotion_messages import (
    PROMOTION_KIND,
    PROMOTION_PRIORITY,
    STOP_OFFERS_DATA,
    promotion_markup,
    promotion_text,
    redeem_data,
    render_promotion,
)
from services.promotions import PromotionDraft, PromotionService
from storage.db import Database
from storage.models import Citizen, OutboxMessage, Promotion
from tests.support.narrowing import present
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


@pytest.fixture
def fanout(db: Database, clock: ManualClock) -> PromotionFanout:
    return PromotionFanout(db, clock, LONDON)


def draft(**fields: Any) -> PromotionDraft:
    return PromotionDraft.model_validate(draft_body(TOMORROW, **fields))


async def outbox_rows(db: Database, promotion_id: int) -> list[OutboxMessage]:
    async with db.transaction() as session:
        return list(
            (
                await session.scalars(
                    select(OutboxMessage)
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


async def test_fan_out_writes_one_labelled_row_per_recipient(
    db: Database, promotions: PromotionService, fanout: PromotionFanout, clock: ManualClock
) -> None:
    ids = await add_people(
        db, [Person(11), Person(12), Person(13, opted_in=False), Person(14)], clock()
    )
    sponsor = await add_sponsor(db, "Acme Ltd")
    view = await promotions.create(
        sponsor,
        draft(
            button={"label": "Shop now", "url": "https://acme.example/offer?x=1"},
            vouchers={"kind": "shared", "code": "ACME10"},
        ),
    )
    pid = view.promotion.id
    # Someone opts out between creation and the start: the count follows what is queued.
    async with db.transaction() as session:
        await session.execute(
            update(Citizen).where(Citizen.id == ids[14]).values(marketing_opt_in=False)
        )

    summary = await fanout.run_once()
    assert summary.fanned_out == {pid: 2}
    rows = await outbox_rows(db, pid)
    assert [(r.citizen_id, r.chat_id) for r in rows] == [(ids[11], 11), (ids[12], 12)]
    expected_text = promotion_text(
        "Acme Ltd",
        "10% off groceries",
        "Show the code at any Acme store.",
        TOMORROW,
        LONDON,
        has_voucher=True,
        button_url="https://acme.example/offer?x=1",
    )
    assert "The link button opens acme.example" in expected_text
    expected_markup = promotion_markup(
        pid, button_label="Shop now", button_url="https://acme.example/offer?x=1", has_voucher=True
    )
    for row in rows:
        assert row.kind == PROMOTION_KIND and row.priority == PROMOTION_PRIORITY
        assert row.status == "pending" and row.attempts == 0
        assert as_aware_utc(row.next_attempt_at) == START
        # The row carries no copy of the offer: the dispatcher renders it when it sends.
        assert row.text is None and row.reply_markup is None
    rendered = render_promotion(await stored(db, pid), "Acme Ltd", LONDON)
    assert rendered.text == expected_text
    assert rendered.text.startswith("📣 Sponsored by Acme Ltd")
    assert rendered.reply_markup == expected_markup
    buttons = [b for line in expected_markup["inline_keyboard"] for b in line]
    assert {"text": "🎟 Redeem", "callback_data": redeem_data(pid)} in buttons
    assert buttons[-1]["callback_data"] == STOP_OFFERS_DATA

    promotion = await stored(db, pid)
    assert promotion.status == "sending" and promotion.targeted == 2
    assert as_aware_utc(promotion.fanned_out_at or START - timedelta(1)) == START
    assert (await promotions.get(sponsor, pid)).counts["queued"] == 2


async def test_running_again_or_twice_at_once_queues_nobody_twice(
    db: Database, db_url: str, promotions: PromotionService, clock: ManualClock
) -> None:
    await add_people(db, [Person(n) for n in range(100, 400)], clock())
    sponsor = await add_sponsor(db)
    first = await promotions.create(sponsor, draft())
    second = await promotions.create(sponsor, draft(title="Second"))

    # Two "instances", each with its own engine, racing on the same due promotions.
    other_db = Database(db_url)
    try:
        a = PromotionFanout(db, clock, LONDON)
        b = PromotionFanout(other_db, clock, LONDON)
        results = await asyncio.gather(a.run_once(), b.run_once(), a.run_once())
    finally:
        await other_db.close()
    queued: dict[int, int] = {}
    for summary in results:
        for pid, count in summary.fanned_out.items():
            assert pid not in queued, "a promotion was fanned out twice"
            queued[pid] = count
    assert queued == {first.promotion.id: 300, second.promotion.id: 300}
    for pid in queued:
        rows = await outbox_rows(db, pid)
        assert len(rows) == len({r.citizen_id for r in rows}) == 300
        assert (await stored(db, pid)).targeted == 300
    assert (await PromotionFanout(db, clock, LONDON).run_once()).fanned_out == {}


async def test_the_database_refuses_a_second_row_for_the_same_person(
    db: Database, promotions: PromotionService, fanout: PromotionFanout, clock: ManualClock
) -> None:
    ids = await add_people(db, [Person(21)], clock())
    view = await promotions.create(await add_sponsor(db), draft())
    await fanout.run_once()
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            session.add(
                OutboxMessage(
                    chat_id=21,
                    citizen_id=ids[21],
                    kind=PROMOTION_KIND,
                    priority=PROMOTION_PRIORITY,
                    text="again",
                    status="pending",
                    next_attempt_at=clock(),
                    created_at=clock(),
                    promotion_id=view.promotion.id,
                )
            )


async def test_a_later_start_waits_for_its_time(
    db: Database, promotions: PromotionService, fanout: PromotionFanout, clock: ManualClock
) -> None:
    await add_people(db, [Person(31), Person(32)], clock())
    starts = START + timedelta(hours=3)
    view = await promotions.create(await add_sponsor(db), draft(starts_at=starts.isoformat()))
    assert view.promotion.targeted == 2 and view.status == "scheduled"
    assert (await fanout.run_once()).fanned_out == {}
    assert await outbox_rows(db, view.promotion.id) == []
    clock.now = starts - timedelta(seconds=1)
    assert (await fanout.run_once()).fanned_out == {}
    clock.now = starts
    assert (await fanout.run_once()).fanned_out == {view.promotion.id: 2}


async def test_expiry_cancels_what_is_still_queued(
    db: Database, promotions: PromotionService, fanout: PromotionFanout, clock: ManualClock
) -> None:
    await add_people(db, [Person(n) for n in range(41, 45)], clock())
    sponsor = await add_sponsor(db)
    sending = await promotions.create(
        sponsor, draft(expires_at=(START + timedelta(hours=1)).isoformat())
    )
    never_started = await promotions.create(
        sponsor,
        draft(
            starts_at=(START + timedelta(hours=2)).isoformat(),
            expires_at=(START + timedelta(hours=3)).isoformat(),
        ),
    )
    lasting = await promotions.create(sponsor, draft(title="Lasting"))
    await fanout.run_once()
    rows = await outbox_rows(db, sending.promotion.id)
    async with db.transaction() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == rows[0].id)
            .values(status="sent", sent_at=clock())
        )
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == rows[1].id).values(status="sending")
        )

    clock.now = START + timedelta(hours=1)  # expiry is inclusive: at expires_at it is over
    summary = await fanout.run_once()
    assert summary.expired == [sending.promotion.id]
    statuses = [(r.status, r.last_error) for r in await outbox_rows(db, sending.promotion.id)]
    assert statuses == [
        ("sent", None),
        ("sending", None),  # in flight: the dispatcher finishes it
        ("cancelled", "expired"),
        ("cancelled", "expired"),
    ]
    assert (await stored(db, sending.promotion.id)).status == "expired"
    assert (await promotions.get(sponsor, lasting.promotion.id)).counts["queued"] == 4

    clock.now = START + timedelta(hours=4)
    summary = await fanout.run_once()
    assert summary.expired == [never_started.promotion.id] and summary.fanned_out == {}
    assert await outbox_rows(db, never_started.promotion.id) == []
    # Cancelling an expired promotion changes nothing.
    assert (await promotions.cancel(sponsor, sending.promotion.id)).status == "expired"
    assert (await fanout.run_once()).expired == []


async def test_a_large_audience_is_queued_in_one_statement(
    db: Database, promotions: PromotionService, fanout: PromotionFanout, clock: ManualClock
) -> None:
    """5,000 recipients (the 100,000 figure is measured in bench/fanout.py)."""
    from tests.support.promotion_data import add_many_opted_in

    await add_many_opted_in(db, 5_000, clock())
    sponsor = await add_sponsor(db)
    # Scores cycle 350..950, so 4,100 of the 5,000 have at least 450.
    uncapped = await promotions.create(sponsor, draft(audience={"min_score": 450}))
    assert uncapped.promotion.targeted == 4_100
    await promotions.cancel(sponsor, uncapped.promotion.id)
    view = await promotions.create(
        sponsor, draft(audience={"min_score": 450, "max_recipients": 4_000})
    )
    assert view.promotion.targeted == 4_000
    assert (await fanout.run_once()).fanned_out == {view.promotion.id: 4_000}
    async with db.transaction() as session:
        count = await session.scalar(
            select(func.count(func.distinct(OutboxMessage.citizen_id))).where(
                OutboxMessage.promotion_id == view.promotion.id
            )
        )
    assert count == 4_000


async def test_a_cancel_racing_the_fan_out_leaves_nothing_to_send(
    db: Database, db_url: str, promotions: PromotionService, clock: ManualClock
) -> None:
    """Whichever commits first, a cancelled promotion ends with no pending rows."""
    await add_people(db, [Person(n) for n in range(500, 1500)], clock())
    sponsor = await add_sponsor(db)
    for _ in range(3):
        view = await promotions.create(sponsor, draft())
        other_db = Database(db_url)
        try:
            racer = PromotionFanout(other_db, clock, LONDON)
            await asyncio.gather(
                racer.fan_out(view.promotion.id),
                promotions.cancel(sponsor, view.promotion.id),
            )
        finally:
            await other_db.close()
        after = await promotions.get(sponsor, view.promotion.id)
        assert after.status == "cancelled"
        assert after.counts["queued"] == 0
        assert after.counts["cancelled"] in (0, 1000)


async def test_a_welsh_reader_gets_britizens_frame_in_welsh_and_the_sponsors_words_as_written(
    db: Database, promotions: PromotionService, fanout: PromotionFanout, clock: ManualClock
) -> None:
    from services.languages import LanguageService
    from texts.i18n import worded_in

    ids = await add_people(db, [Person(21), Person(22), Person(23)], clock())
    await LanguageService(db).choose(22, "cy")
    await LanguageService(db).choose(23, "en")
    sponsor = await add_sponsor(db, "Acme Ltd")
    view = await promotions.create(sponsor, draft(vouchers={"kind": "shared", "code": "ACME10"}))
    pid = view.promotion.id
    summary = await fanout.run_once()
    assert summary.fanned_out == {pid: 3}
    # Rows carry no text (issue 21): the dispatcher renders each reader's frame at send time.
    from notifications.rendering import PromotionRenderer

    rows = await outbox_rows(db, pid)
    assert all(row.text is None for row in rows)
    renderer = PromotionRenderer(db, ZoneInfo("Europe/London"))
    await renderer.prepare([(present(row.citizen_id), row.promotion_id) for row in rows])

    def rendered(person: int) -> tuple[str, dict[str, Any]]:
        text, markup, _paid = renderer.message(ids[person], pid, None, None)
        assert markup is not None
        return text, markup

    (english, english_markup), (welsh, welsh_markup) = rendered(21), rendered(22)
    assert english.startswith("📣 Sponsored by Acme Ltd") and rendered(23)[0] == english
    assert welsh.startswith("📣 Wedi'i noddi gan Acme Ltd")
    # The sponsor's title and text are not translated; the expiry date is in Welsh.
    assert "10% off groceries" in welsh and "Show the code at any Acme store." in welsh
    assert "Tach 2026" in welsh or "Rhag 2026" in welsh
    assert welsh_markup == worded_in(
        "cy", promotion_markup, pid, button_label=None, button_url=None, has_voucher=True
    )
    labels = [b["text"] for line in welsh_markup["inline_keyboard"] for b in line]
    assert "🎟 Defnyddio" in labels and "🔕 Stopio cynigion" in labels
    assert "🎟 Redeem" in [b["text"] for line in english_markup["inline_keyboard"] for b in line]
