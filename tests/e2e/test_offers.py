"""Sponsor offers through the real bot: the opt-in question after registration, the toggle in
/settings, a promotion delivered by the running dispatcher with its Stop offers button (which
opts out and cancels another queued offer), /offers with Redeem revealing a code, refusals, and
the redeemed voucher in the score after a pass.

Promotions are inserted as the sponsor API and fan-out would leave them (Sponsor, Promotion and
outbox rows built with promotion_text / promotion_markup); dates come from the ManualClock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.service import BritizenService
from services.clock import ManualClock
from services.offers import PAGE_SIZE
from services.promotion_messages import (
    PROMOTION_KIND,
    PROMOTION_PRIORITY,
    promotion_markup,
    promotion_text,
    redeem_data,
)
from standin import BotApiStandIn
from storage.models import Citizen as CitizenRow
from storage.models import OutboxMessage, Promotion, Redemption, Score, Sponsor, Voucher
from tests.e2e.conftest import START, register
from tests.standin.driver import Citizen

LONDON = ZoneInfo("Europe/London")


async def citizen_row(service: BritizenService, telegram_id: int) -> CitizenRow:
    async with service.db.transaction() as session:
        found = await session.scalar(
            select(CitizenRow).where(CitizenRow.telegram_id == telegram_id)
        )
    assert found is not None
    return found


async def add_promotion(
    service: BritizenService,
    *,
    sponsor: str = "Acme Coffee",
    title: str = "Free flat white",
    vouchers: str = "unique",
    codes: tuple[str, ...] = ("FLAT7K2Q",),
    max_recipients: int | None = None,
    expires_in: timedelta = timedelta(days=7),
) -> int:
    async with service.db.transaction() as session:
        owner = await session.scalar(select(Sponsor).where(Sponsor.name == sponsor))
        if owner is None:
            owner = Sponsor(name=sponsor, api_key_hash=f"{sponsor:0>64}"[:64])
            session.add(owner)
            await session.flush()
        promotion = Promotion(
            sponsor_id=owner.id, title=title, text="Show this message at any Acme till.",
            button_label="Find a shop", button_url="https://acme.example/shops",
            audience_max_recipients=max_recipients, starts_at=START - timedelta(minutes=5),
            expires_at=START + expires_in, voucher_kind=vouchers,
            voucher_code="SHARED10" if vouchers == "shared" else None,
            voucher_count=len(codes) if vouchers == "unique" else None, status="sending",
            created_at=START - timedelta(minutes=10),
        )  # fmt: skip
        session.add(promotion)
        await session.flush()
        if vouchers == "unique":
            session.add_all(Voucher(promotion_id=promotion.id, code=code) for code in codes)
        return promotion.id


async def queue_promotion(
    service: BritizenService, promotion_id: int, telegram_id: int, *, delay: timedelta
) -> int:
    """The outbox row the fan-out writes for one recipient, due after ``delay``."""
    me = await citizen_row(service, telegram_id)
    async with service.db.transaction() as session:
        promotion = await session.get(Promotion, promotion_id)
        assert promotion is not None
        sponsor = await session.get(Sponsor, promotion.sponsor_id)
        assert sponsor is not None
        has_voucher = promotion.voucher_kind != "none"
        row = OutboxMessage(
            chat_id=me.chat_id, citizen_id=me.id, kind=PROMOTION_KIND,
            priority=PROMOTION_PRIORITY,
            text=promotion_text(
                sponsor.name, promotion.title, promotion.text, promotion.expires_at, LONDON,
                has_voucher=has_voucher, button_url=promotion.button_url,
            ),
            reply_markup=promotion_markup(
                promotion.id, button_label=promotion.button_label,
                button_url=promotion.button_url, has_voucher=has_voucher,
            ),
            status="pending", attempts=0, next_attempt_at=START + delay, created_at=START,
            promotion_id=promotion.id,
        )  # fmt: skip
        session.add(row)
        await session.flush()
        return row.id


async def outbox_row(service: BritizenService, row_id: int) -> OutboxMessage:
    async with service.db.transaction() as session:
        row = await session.get(OutboxMessage, row_id)
    assert row is not None
    return row


async def press_data(standin: BotApiStandIn, person: Citizen, data: str) -> str:
    """Press a button carrying ``data`` on the person's newest message; the bot's answer."""
    anchor = person.last
    assert anchor is not None
    since = standin.mark()
    standin.callback_query(person.user_id, anchor, data, strict=False)
    answer = await standin.wait_for("answerCallbackQuery", since=since)
    return str(answer.params.get("text"))


async def test_registration_asks_once_and_settings_toggle_offers(
    service: BritizenService, standin: BotApiStandIn, citizen: Callable[..., Citizen]
) -> None:
    alice = citizen(601, "Alice")
    await alice.send("/start")
    await alice.expect("Welcome to Britizen")
    await alice.press("I agree")
    await alice.expect("National Insurance number")
    await alice.send("AB 12 34 56 C")
    await alice.expect("saved as")
    await alice.send("14/03/1990")
    await alice.expect("postcode district")
    await alice.send("SO17 1BJ")
    await alice.expect("You're registered in SO17")
    question = await alice.expect(
        "would you like offers from Britizen's sponsors?",
        "labelled as sponsored",
        "never affect your score",
        "each voucher you redeem adds 2 community points",
        "/settings",
    )
    assert alice.buttons(question) == ["✅ Yes, send me offers", "No thanks"]
    row = await citizen_row(service, 601)
    assert row.marketing_asked_at is not None and row.marketing_opt_in is False

    await alice.press("Yes, send me offers")
    await alice.expect("Offers are on", "/offers", "Stop offers")
    assert (await citizen_row(service, 601)).marketing_opt_in is True
    assert alice.buttons(question) == [], "answered: the buttons are gone"
    # A double tap (or a replayed press) sets the same again.
    assert await press_data(standin, alice, "off:opt:yes") == "Offers on."
    await alice.expect_nothing(quiet=0.3)
    assert (await citizen_row(service, 601)).marketing_opt_in is True

    # Asked once: coming back with /start doesn't ask again.
    await alice.send("/start")
    await alice.expect("Welcome back, Alice")
    await alice.expect_nothing(quiet=0.3)

    await alice.send("/settings")
    await alice.expect("Your settings", "Sponsor offers: On", "labelled as sponsored")
    assert "✓ Offers: On" in alice.buttons()
    await alice.press("Offers: Off")
    await alice.expect("Sponsor offers: Off", "Off unless you opt in")
    assert (await citizen_row(service, 601)).marketing_opt_in is False
    await alice.press("Offers: On")
    await alice.expect("Sponsor offers: On")
    assert (await citizen_row(service, 601)).marketing_opt_in is True


async def test_no_thanks_keeps_offers_off_and_offers_says_how_to_opt_in(
    service: BritizenService, citizen: Callable[..., Citizen]
) -> None:
    bob = citizen(602, "Bob")
    await register(bob, "CE 12 34 56 A", offers=False)
    assert (await citizen_row(service, 602)).marketing_opt_in is False
    await add_promotion(service)  # open to everyone opted in: not Bob
    await bob.send("/offers")
    await bob.expect("You're not getting sponsor offers", "opt-in")
    await bob.press("Get offers")
    await bob.expect("Offers are on")
    await bob.send("/offers")
    await bob.expect("1 offer for you right now")
    offer = await bob.expect("Sponsored by Acme Coffee", "Free flat white", "Redeem")
    assert bob.buttons(offer) == ["Find a shop", "🎟 Redeem", "🔕 Stop offers"]


async def test_a_promotion_arrives_and_stop_offers_cancels_the_queued_one(
    service: BritizenService, standin: BotApiStandIn, citizen: Callable[..., Citizen]
) -> None:
    carol = citizen(603, "Carol")
    await register(carol, "JG 10 30 50 B", offers=True)
    first = await add_promotion(service, title="Free flat white", max_recipients=10)
    second = await add_promotion(service, title="Half-price cake", max_recipients=10)
    await queue_promotion(service, first, 603, delay=timedelta(0))
    later = await queue_promotion(service, second, 603, delay=timedelta(hours=1))

    message = await carol.expect(
        "📣 Sponsored by Acme Coffee", "Free flat white", "Tap “Redeem”", "Stop offers"
    )
    assert carol.buttons(message) == ["Find a shop", "🎟 Redeem", "🔕 Stop offers"]
    await carol.press("Stop offers", message=message)
    await carol.expect("Offers are off", "the one still queued for you won't be sent", "/settings")
    assert (await citizen_row(service, 603)).marketing_opt_in is False
    cancelled = await outbox_row(service, later)
    assert (cancelled.status, cancelled.last_error) == ("cancelled", "opted out")

    # Twice is harmless: nothing changes and she is told offers were already off.
    await carol.press("Stop offers", message=message)
    await carol.expect("Offers were already off")
    assert (await outbox_row(service, later)).status == "cancelled"

    # The offer she did receive is still hers to redeem; the cancelled one isn't.
    await carol.press("Redeem", message=message)
    await carol.expect("Your voucher code", "FLAT7K2Q", "Acme Coffee")
    assert "isn't available to you" in await press_data(standin, carol, redeem_data(second))

    # And "Get offers" brings them back.
    await carol.press("Get offers")
    await carol.expect("Offers are on")
    assert (await citizen_row(service, 603)).marketing_opt_in is True


async def test_offers_redeem_reveals_the_code_and_the_score_counts_it(
    service: BritizenService,
    standin: BotApiStandIn,
    citizen: Callable[..., Citizen],
    clock: ManualClock,
) -> None:
    dan, eve = citizen(604, "Dan"), citizen(605, "Eve")
    await register(dan, "AB 12 34 56 C", offers=True)
    await register(eve, "CE 12 34 56 A", offers=True)
    await dan.send("/offers")
    await dan.expect("There are no offers for you right now")

    single = await add_promotion(service, title="Free flat white", codes=("ONLY1CDE",))
    await add_promotion(service, sponsor="Bikes Ltd", title="10% off", vouchers="shared")
    await dan.send("/offers")
    await dan.expect("2 offers for you right now", "sponsored")
    newest = await dan.expect("Sponsored by Bikes Ltd", "10% off")
    await dan.expect("Sponsored by Acme Coffee", "Free flat white")
    await dan.press("Redeem")  # the newest message with one: Acme's
    code = await dan.expect("Your voucher code", "Free flat white", "ONLY1CDE", "community points")
    assert "(sponsored)" in code.text
    await dan.press("Redeem", message=newest)
    await dan.expect("Your voucher code", "SHARED10")

    # Pressing again shows the same code; /offers now says "Show my code".
    await dan.press("Redeem", message=newest)
    await dan.expect("Here's your code again", "SHARED10")
    await dan.send("/offers")
    await dan.expect("2 offers")
    await dan.expect("Bikes Ltd")
    acme = await dan.expect("Acme Coffee")
    assert "🎟 Show my code" in dan.buttons(acme)

    # Eve is too late for the single unique code; a forged id and an ended offer are refused.
    eve_offers = await press_data(standin, eve, redeem_data(single))
    assert "every voucher for this offer has already been claimed" in eve_offers
    assert "no longer available" in await press_data(standin, eve, redeem_data(999_999))
    ending = await add_promotion(service, title="Last call", expires_in=timedelta(minutes=30))
    clock.advance(hours=1)
    ended = await press_data(standin, eve, redeem_data(ending))
    assert "This offer ended on 21 Nov 2026, 12:30" in ended

    async with service.db.transaction() as session:
        redemptions = (await session.scalars(select(Redemption.code))).all()
    assert sorted(c or "" for c in redemptions) == ["ONLY1CDE", "SHARED10"]

    # The nightly pass counts both vouchers in the community dimension, and /why agrees.
    before = await community_points(service, 604)
    clock.advance(days=1)
    await service.services.scoring.run()
    assert await community_points(service, 604) == (before or 0) + 4
    await dan.send("/why")
    await dan.expect("Community: +4", "2 sponsor vouchers redeemed")


async def community_points(service: BritizenService, telegram_id: int) -> int | None:
    me = await citizen_row(service, telegram_id)
    async with service.db.transaction() as session:
        return await session.scalar(select(Score.community).where(Score.citizen_id == me.id))


async def test_offers_are_paged_with_a_more_button(
    service: BritizenService, citizen: Callable[..., Citizen]
) -> None:
    fay = citizen(606, "Fay")
    await register(fay, "AB 12 34 56 C", offers=True)
    for k in range(PAGE_SIZE + 1):
        await add_promotion(service, title=f"Offer number {k}", vouchers="none")
    await fay.send("/offers")
    await fay.expect(f"{PAGE_SIZE + 1} offers for you right now", f"showing 1–{PAGE_SIZE}")
    for k in range(PAGE_SIZE, 0, -1):  # newest first
        shown = await fay.expect(f"Offer number {k}", "Sponsored by Acme Coffee")
        assert fay.buttons(shown) == ["Find a shop", "🔕 Stop offers"], "no voucher: no Redeem"
    await fay.expect(f"Showing 1–{PAGE_SIZE} of {PAGE_SIZE + 1} offers")
    await fay.press("More offers")
    await fay.expect(f"showing {PAGE_SIZE + 1}–{PAGE_SIZE + 1}")
    await fay.expect("Offer number 0")
    await fay.expect_nothing(quiet=0.3)
