"""The citizen's side of promotions on SQLite and PostgreSQL: opt-in and opt-out (queued offers
cancelled at once), who qualifies for /offers, and redeeming under concurrency (a unique code to
one person only, one code per person, the same code again on a second tap)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from scoring.rules import VOUCHER_CAP, VOUCHER_POINTS
from services.clock import ManualClock
from services.errors import NotRegistered
from services.offers import (
    PAGE_SIZE,
    NotForYou,
    NoVoucher,
    OfferEnded,
    OfferNotFound,
    OfferNotStarted,
    OffersService,
    OfferWithdrawn,
    VouchersGone,
)
from services.promotion_messages import PROMOTION_KIND, PROMOTION_PRIORITY
from services.scores import ScoreService
from services.scoring_pass import ScoringPass
from storage.db import Database
from storage.models import Citizen, OutboxMessage, Promotion, Redemption, Score, Sponsor, Voucher

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def offers(db: Database, clock: ManualClock) -> OffersService:
    return OffersService(db, clock)


async def add_citizen(
    db: Database,
    telegram_id: int,
    *,
    opt_in: bool = True,
    score: int | None = 600,
    district: str | None = None,
) -> int:
    async with db.transaction() as session:
        citizen = Citizen(
            telegram_id=telegram_id, chat_id=telegram_id, display_name=f"C{telegram_id}",
            ni_hash=f"{telegram_id:064d}", ni_masked="AB •• •• •• C",
            date_of_birth=date(1990, 1, 1), registered_at=NOW - timedelta(days=30),
            postcode_district=district, marketing_opt_in=opt_in,
        )  # fmt: skip
        session.add(citizen)
        await session.flush()
        if score is not None:
            session.add(Score(citizen_id=citizen.id, score=score, band="Good", computed_at=NOW))
        return citizen.id


async def add_sponsor(db: Database, name: str = "Acme Coffee") -> int:
    async with db.transaction() as session:
        sponsor = Sponsor(name=name, api_key_hash=f"{name:0>64}"[:64])
        session.add(sponsor)
        await session.flush()
        return sponsor.id


async def add_promotion(
    db: Database,
    sponsor_id: int,
    *,
    title: str = "Free flat white",
    status: str = "sending",
    vouchers: str = "shared",
    unique_count: int = 0,
    min_score: int | None = None,
    districts: list[str] | None = None,
    max_recipients: int | None = None,
    starts_at: datetime = NOW - timedelta(hours=1),
    expires_at: datetime = NOW + timedelta(days=7),
) -> int:
    async with db.transaction() as session:
        promotion = Promotion(
            sponsor_id=sponsor_id, title=title, text="Show this at the till.",
            audience_min_score=min_score, audience_districts=districts,
            audience_max_recipients=max_recipients, starts_at=starts_at, expires_at=expires_at,
            voucher_kind=vouchers, voucher_code="COFFEE10" if vouchers == "shared" else None,
            voucher_count=unique_count or None, status=status, created_at=NOW - timedelta(hours=2),
            cancelled_at=NOW if status == "cancelled" else None,
        )  # fmt: skip
        session.add(promotion)
        await session.flush()
        session.add_all(
            Voucher(promotion_id=promotion.id, code=f"CODE{k:04d}") for k in range(unique_count)
        )
        return promotion.id


async def queue(db: Database, promotion_id: int, citizen_id: int, status: str = "pending") -> int:
    async with db.transaction() as session:
        chat_id = await session.scalar(select(Citizen.chat_id).where(Citizen.id == citizen_id))
        row = OutboxMessage(
            chat_id=chat_id, citizen_id=citizen_id, kind=PROMOTION_KIND,
            priority=PROMOTION_PRIORITY, text="offer", status=status, attempts=0,
            next_attempt_at=NOW, created_at=NOW, promotion_id=promotion_id,
        )  # fmt: skip
        session.add(row)
        await session.flush()
        return row.id


async def outbox_statuses(db: Database) -> dict[int, tuple[str, str | None]]:
    async with db.transaction() as session:
        rows = (await session.execute(select(OutboxMessage))).scalars().all()
        return {row.id: (row.status, row.last_error) for row in rows}


# --------------------------------------------------------------------------------------------
# Opt-in and opt-out


async def test_opting_out_cancels_queued_offers_at_once_and_twice_is_harmless(
    db: Database, offers: OffersService
) -> None:
    me = await add_citizen(db, 1)
    other = await add_citizen(db, 2)
    sponsor = await add_sponsor(db)
    first = await add_promotion(db, sponsor, title="One")
    second = await add_promotion(db, sponsor, title="Two")
    delivered = await queue(db, first, me, status="sent")
    waiting = await queue(db, second, me)
    theirs = await queue(db, second, other)
    async with db.transaction() as session:  # a reminder is not marketing: it stays
        session.add(
            OutboxMessage(
                chat_id=1,
                citizen_id=me,
                kind="loan_reminder",
                priority=0,
                text="due",
                status="pending",
                attempts=0,
                next_attempt_at=NOW,
                created_at=NOW,
            )
        )

    change = await offers.set_marketing(1, False)
    assert (change.opted_in, change.changed, change.cancelled) == (False, True, 1)
    statuses = await outbox_statuses(db)
    assert statuses[waiting] == ("cancelled", "opted out")
    assert statuses[delivered] == ("sent", None)
    assert statuses[theirs] == ("pending", None)
    assert sorted(s for s, _ in statuses.values()).count("pending") == 2  # theirs + reminder
    assert not await offers.opted_in(1)

    again = await offers.set_marketing(1, False)
    assert (again.changed, again.cancelled) == (False, 0)
    back = await offers.set_marketing(1, True)
    assert back.changed and await offers.opted_in(1)


async def test_the_question_is_claimed_once(db: Database, offers: OffersService) -> None:
    await add_citizen(db, 1, opt_in=False)
    assert await offers.claim_ask(1)
    assert not await offers.claim_ask(1)
    assert not await offers.claim_ask(99)  # nobody
    async with db.transaction() as session:
        asked = await session.scalar(select(Citizen.marketing_asked_at))
        opted = await session.scalar(select(Citizen.marketing_opt_in))
    assert asked is not None and opted is False  # asking changes nothing: default off


async def test_someone_without_an_account_is_refused(offers: OffersService) -> None:
    with pytest.raises(NotRegistered):
        await offers.set_marketing(5, True)
    with pytest.raises(NotRegistered):
        await offers.current_offers(5)
    with pytest.raises(NotRegistered):
        await offers.redeem(5, 1)


# --------------------------------------------------------------------------------------------
# Who qualifies


async def test_offers_listed_are_live_and_for_me(
    db: Database, offers: OffersService, clock: ManualClock
) -> None:
    me = await add_citizen(db, 1, score=640, district="SO17")
    sponsor = await add_sponsor(db)
    open_to_all = await add_promotion(db, sponsor, title="Open")
    local = await add_promotion(db, sponsor, title="Local", districts=["SO17", "SO18"])
    await add_promotion(db, sponsor, title="Elsewhere", districts=["M1"])
    await add_promotion(db, sponsor, title="Too high", min_score=700)
    capped_sent = await add_promotion(db, sponsor, title="Capped, sent", max_recipients=10)
    await queue(db, capped_sent, me, status="sent")
    await add_promotion(db, sponsor, title="Capped, not me", max_recipients=10)
    capped_cancelled = await add_promotion(
        db, sponsor, title="Capped, cancelled row", max_recipients=1
    )
    await queue(db, capped_cancelled, me, status="cancelled")
    await add_promotion(db, sponsor, title="Withdrawn", status="cancelled")
    await add_promotion(db, sponsor, title="Expired", expires_at=NOW - timedelta(minutes=1))
    await add_promotion(
        db, sponsor, title="Later", status="scheduled", starts_at=NOW + timedelta(hours=1)
    )

    page = await offers.current_offers(1)
    titles = {offer.title for offer in page.offers}
    assert titles == {"Open", "Local", "Capped, sent"}
    assert page.opted_in and page.total == 3 and page.pages == 1
    assert all(offer.sponsor_name == "Acme Coffee" for offer in page.offers)
    assert {o.promotion_id for o in page.offers} >= {open_to_all, local}

    # Opted out: only what they were actually sent is still theirs.
    await offers.set_marketing(1, False)
    page = await offers.current_offers(1)
    assert [o.title for o in page.offers] == ["Capped, sent"] and not page.opted_in

    # Time passes: everything expires.
    clock.advance(days=8)
    assert (await offers.current_offers(1)).total == 0


async def test_offers_are_paged_newest_first(db: Database, offers: OffersService) -> None:
    await add_citizen(db, 1)
    sponsor = await add_sponsor(db)
    for k in range(PAGE_SIZE + 2):
        await add_promotion(
            db, sponsor, title=f"Offer {k}", starts_at=NOW - timedelta(hours=10 - k)
        )
    first = await offers.current_offers(1, 0)
    assert first.pages == 2 and first.total == PAGE_SIZE + 2
    assert first.offers[0].title == f"Offer {PAGE_SIZE + 1}"
    assert (first.first, first.last) == (1, PAGE_SIZE)
    second = await offers.current_offers(1, 1)
    assert [o.title for o in second.offers] == ["Offer 1", "Offer 0"]
    assert (await offers.current_offers(1, 9)).page == 1  # past the end: the last page


# --------------------------------------------------------------------------------------------
# Redeem


async def test_redeeming_a_shared_code_records_it_once(db: Database, offers: OffersService) -> None:
    await add_citizen(db, 1)
    sponsor = await add_sponsor(db)
    promotion = await add_promotion(db, sponsor)
    first = await offers.redeem(1, promotion)
    assert (first.code, first.again, first.sponsor_name) == ("COFFEE10", False, "Acme Coffee")
    again = await offers.redeem(1, promotion)
    assert (again.code, again.again) == ("COFFEE10", True)
    listed = (await offers.current_offers(1)).offers[0]
    assert listed.redeemed_code == "COFFEE10"
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Redemption)) == 1


async def test_each_refusal_is_specific(
    db: Database, offers: OffersService, clock: ManualClock
) -> None:
    await add_citizen(db, 1, score=560)
    sponsor = await add_sponsor(db)
    withdrawn = await add_promotion(db, sponsor, status="cancelled")
    ending = await add_promotion(db, sponsor, expires_at=NOW + timedelta(minutes=5))
    later = await add_promotion(db, sponsor, status="scheduled", starts_at=NOW + timedelta(days=1))
    high = await add_promotion(db, sponsor, min_score=650)
    capped = await add_promotion(db, sponsor, max_recipients=5)
    no_voucher = await add_promotion(db, sponsor, vouchers="none")
    with pytest.raises(OfferWithdrawn):
        await offers.redeem(1, withdrawn)
    with pytest.raises(OfferNotStarted):
        await offers.redeem(1, later)
    with pytest.raises(NotForYou):
        await offers.redeem(1, high)
    with pytest.raises(NotForYou):
        await offers.redeem(1, capped)  # not one of the capped recipients
    with pytest.raises(NoVoucher):
        await offers.redeem(1, no_voucher)
    with pytest.raises(OfferNotFound):
        await offers.redeem(1, 999_999)
    kept = await offers.redeem(1, ending)
    clock.advance(minutes=10)
    # Already redeemed before it ended: the same code is shown again.
    assert (await offers.redeem(1, ending)).code == kept.code
    await add_citizen(db, 2)
    with pytest.raises(OfferEnded) as ended_for_two:
        await offers.redeem(2, ending)
    assert ended_for_two.value.expires_at == NOW + timedelta(minutes=5)


async def test_concurrent_redeems_issue_every_unique_code_once(
    db: Database, offers: OffersService
) -> None:
    people = 24
    codes = 16
    for telegram_id in range(1, people + 1):
        await add_citizen(db, telegram_id)
    sponsor = await add_sponsor(db)
    promotion = await add_promotion(db, sponsor, vouchers="unique", unique_count=codes)

    # Everyone taps Redeem twice at the same moment.
    taps = [offers.redeem(t, promotion) for t in range(1, people + 1) for _ in range(2)]
    results = await asyncio.gather(*taps, return_exceptions=True)
    unexpected = [
        r for r in results if isinstance(r, BaseException) and not isinstance(r, VouchersGone)
    ]
    assert not unexpected, unexpected
    issued: dict[int, set[str]] = {}
    for index, result in enumerate(results):
        if not isinstance(result, BaseException):
            issued.setdefault(index // 2 + 1, set()).add(result.code)
    assert all(len(mine) == 1 for mine in issued.values()), "a person got two different codes"
    every = [code for mine in issued.values() for code in mine]
    assert len(every) == codes and len(set(every)) == codes, "each code exactly once"
    gone = [r for r in results if isinstance(r, VouchersGone)]
    assert len(gone) == 2 * (people - codes)

    async with db.transaction() as session:
        rows = (await session.execute(select(Voucher.citizen_id, Voucher.code))).all()
        redemptions = (await session.execute(select(Redemption.citizen_id, Redemption.code))).all()
    assert all(citizen is not None for citizen, _ in rows)
    assert len({citizen for citizen, _ in rows}) == codes
    assert sorted(str(code) for _, code in redemptions) == sorted(every)

    # Pressing again later shows the same code; somebody late gets a clear "all gone".
    winner = next(iter(issued))
    assert (await offers.redeem(winner, promotion)).code in issued[winner]
    loser = next(t for t in range(1, people + 1) if t not in issued)
    with pytest.raises(VouchersGone):
        await offers.redeem(loser, promotion)


# --------------------------------------------------------------------------------------------
# The score


async def test_redemptions_count_in_the_pass_and_in_why(
    db: Database, offers: OffersService, clock: ManualClock
) -> None:
    await add_citizen(db, 1)
    await add_citizen(db, 2)
    sponsor = await add_sponsor(db)
    for k in range(VOUCHER_CAP // VOUCHER_POINTS + 1):  # one more than counts
        await offers.redeem(1, await add_promotion(db, sponsor, title=f"Offer {k}"))
    await offers.redeem(2, await add_promotion(db, sponsor, title="Just one"))

    scoring = ScoringPass(db, clock, LONDON)
    await scoring.run()
    async with db.transaction() as session:
        community = dict(
            (
                await session.execute(
                    select(Citizen.telegram_id, Score.community).join(
                        Score, Score.citizen_id == Citizen.id
                    )
                )
            ).all()
        )
    assert community == {1: VOUCHER_CAP, 2: VOUCHER_POINTS}

    scores = ScoreService(db, LONDON)
    for telegram_id, expected in ((1, VOUCHER_CAP), (2, VOUCHER_POINTS)):
        why = await scores.explain(telegram_id)
        part = next(d for d in why.result.dimensions if d.key == "community")
        assert part.points == expected
        assert not why.pending_change, "/why counts vouchers as the pass does"
