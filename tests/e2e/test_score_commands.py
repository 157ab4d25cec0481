"""/score, /why, /history and /benefits and the buttons under /score, through the real bot.

Payments go straight into payment_events (as a partner's report would) and the nightly pass is
run by hand, moving the ManualClock a day between passes so each one adds a history point.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import select, update

from bot.service import BritizenService
from services.clock import ManualClock
from standin import BotApiStandIn
from storage.models import Citizen as CitizenRow
from storage.models import PaymentEvent, Score
from tests.e2e.conftest import START, register
from tests.standin.driver import Citizen

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DIMENSION_NAMES = (
    "Payment history",
    "Commitments",
    "Account standing",
    "Community",
    "Connections",
)
# (days before registration, outcome). Scored as of the next day: 3 recent on-time bills +46,
# one late last year -10, one missed 2.5 years ago -8 (it has faded): 600 + 28 = 628 (Good).
PAYMENTS = [
    (10, "on_time"),
    (40, "on_time"),
    (70, "on_time"),
    (200, "late"),
    (900, "missed"),
]


async def add_payments(
    service: BritizenService, telegram_id: int, payments: list[tuple[date, str]]
) -> None:
    async with service.db.transaction() as session:
        citizen_id = await session.scalar(
            select(CitizenRow.id).where(CitizenRow.telegram_id == telegram_id)
        )
        assert citizen_id is not None
        for due_on, outcome in payments:
            session.add(
                PaymentEvent(
                    citizen_id=citizen_id,
                    source="partner:test",
                    external_id=f"{telegram_id}-{due_on.isoformat()}-{outcome}",
                    kind="bill",
                    outcome=outcome,
                    occurred_on=due_on,
                    recorded_at=START,
                )
            )


async def nightly_pass(service: BritizenService, clock: ManualClock) -> None:
    clock.advance(days=1)
    await service.services.scoring.run()


async def registered_with_payments(
    service: BritizenService, citizen: Callable[..., Citizen], clock: ManualClock
) -> Citizen:
    """Alice, registered, with PAYMENTS on file and one nightly pass done (628, Good)."""
    alice = citizen(201, "Alice")
    await register(alice, "AB 12 34 56 C")
    today = START.date()
    await add_payments(
        service, 201, [(today - timedelta(days=days), outcome) for days, outcome in PAYMENTS]
    )
    await nightly_pass(service, clock)
    return alice


async def test_the_score_commands_are_in_the_menu_and_in_help(
    service: BritizenService, standin: BotApiStandIn, citizen: Callable[..., Citizen]
) -> None:
    names = [command["command"] for command in standin.commands()]
    assert names.index("score") < names.index("why") < names.index("history")
    assert names.index("history") < names.index("benefits")
    bea = citizen(202, "Bea")
    await bea.send("/help")
    await bea.expect("/why —", "/history —", "/benefits —")


async def test_why_explains_the_starting_score_before_any_pass(
    service: BritizenService, citizen: Callable[..., Citizen]
) -> None:
    alice = citizen(201, "Alice")
    await register(alice, "AB 12 34 56 C")
    await alice.send("/why")
    why = await alice.expect(
        "Why your score is 600 (Good)",
        "starting score",
        "Everyone starts from 580",
        "Payment history: 0 of up to +210",
        "No payment history yet",
        "Account standing: +20 of up to +60",
        "Identity verified (+20)",
        "Connections: 0 of up to +30",
        "at most 30 points up or down",
        "What you can do",
        "1. ",
    )
    for name in DIMENSION_NAMES:
        assert f"{name}: " in why.text
    assert "New activity" not in why.text

    # Activity before the first pass is explained at once; the score waits for the pass.
    await add_payments(service, 201, [(START.date() - timedelta(days=10), "on_time")])
    await alice.send("/why")
    await alice.expect(
        "Why your score is 600 (Good)",
        "New activity has arrived",
        "1 bill paid on time",
        "counts towards your score at the next nightly calculation",
    )


async def test_score_why_history_and_benefits_follow_the_nightly_passes(
    service: BritizenService, citizen: Callable[..., Citizen], clock: ManualClock
) -> None:
    alice = citizen(201, "Alice")
    await register(alice, "AB 12 34 56 C")
    await alice.send("/history")
    await alice.expect(
        "Your history starts today: 600 (Good).",
        "The chart appears after the next nightly calculation.",
    )

    today = START.date()
    await add_payments(
        service, 201, [(today - timedelta(days=days), outcome) for days, outcome in PAYMENTS]
    )
    await nightly_pass(service, clock)
    await alice.send("/score")
    await alice.expect("Your Britizen score: 628 — Good", "▲ 28 since the last calculation")

    await alice.send("/why")
    why = await alice.expect(
        "Why your score is 628 (Good)",
        "Payment history: +28 of up to +210",
        "3 bills paid on time in the last year (+46)",
        "1 bill paid late in the last year (-10)",
        "1 bill missed in the last 6 years, none in the last year (-8)",
        "Helping you most",
        "Holding you back",
        "What you can do",
        "1. ",
    )
    for name in DIMENSION_NAMES:
        assert f"{name}: " in why.text and " of up to " in why.text
    assert "New activity" not in why.text
    assert "starting score" not in why.text

    # One more bill paid on time, then another night: a second change and a third point.
    await add_payments(service, 201, [(today + timedelta(days=1), "on_time")])
    await nightly_pass(service, clock)
    await alice.send("/score")
    await alice.expect("Your Britizen score: 639 — Good", "▲ 11 since the last calculation")

    await alice.send("/history")
    chart = await alice.expect_photo("over 3 calculations", "Latest: 639 (Good)")
    assert chart.photo is not None and chart.photo.startswith(PNG_SIGNATURE)

    await alice.send("/benefits")
    benefits = await alice.expect(
        "Your tier: Silver (Good, score 639)",
        "Britizen loans up to £150.",
        "No deposit for broadband and mobile phone",
        "11 points to Very good (Gold, from 650). It adds:",
        "Britizen loans up to £300.",
        "Priority on partner housing-association waiting lists.",
    )
    assert "Britizen loans up to £150." not in benefits.text.split("It adds:")[1]


async def test_buttons_under_score_do_what_the_commands_do(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    clock: ManualClock,
    standin: BotApiStandIn,
) -> None:
    alice = await registered_with_payments(service, citizen, clock)
    await alice.send("/score")
    score = await alice.expect("Your Britizen score: 628")
    assert alice.buttons(score) == ["Why?", "History", "Benefits"]

    answered = len(standin.calls_of("answerCallbackQuery"))
    await alice.press("Why?", message=score)
    await alice.expect("Why your score is 628 (Good)", "Payment history: +28 of up to +210")
    await alice.press("History", message=score)
    chart = await alice.expect_photo("over 2 calculations", "Latest: 628 (Good)")
    assert chart.photo is not None and chart.photo.startswith(PNG_SIGNATURE)
    await alice.press("Benefits", message=score)
    benefits = await alice.expect("Your tier: Silver", "22 points to Very good")
    # Every press was answered, so no button is left spinning.
    assert len(standin.calls_of("answerCallbackQuery")) == answered + 3

    # /benefits offers the explanation of how to climb.
    await alice.press("How to improve", message=benefits)
    await alice.expect("Why your score is 628", "What you can do")


async def test_the_top_tier_says_so(
    service: BritizenService, citizen: Callable[..., Citizen]
) -> None:
    alice = citizen(201, "Alice")
    await register(alice, "AB 12 34 56 C")
    async with service.db.transaction() as session:
        await session.execute(update(Score).values(score=731, band="Excellent"))
    await alice.send("/benefits")
    top = await alice.expect(
        "Your tier: Platinum (Excellent, score 731)",
        "Britizen loans up to £500.",
        "Platinum is the top tier",
    )
    assert "points to" not in top.text
    assert alice.buttons(top) == []


async def test_the_lowest_tier_shows_what_unlocks_first(
    service: BritizenService, citizen: Callable[..., Citizen]
) -> None:
    alice = citizen(201, "Alice")
    await register(alice, "AB 12 34 56 C")
    async with service.db.transaction() as session:
        await session.execute(update(Score).values(score=549, band="Poor"))
    await alice.send("/benefits")
    await alice.expect(
        "Your tier: Starter (Poor, score 549)",
        "Britizen loans unlock at Fair (550).",
        "1 point to Fair (Bronze, from 550). It adds:",
        "Britizen loans up to £50.",
    )


async def test_unregistered_people_are_sent_to_start(
    service: BritizenService, citizen: Callable[..., Citizen]
) -> None:
    zed = citizen(299, "Zed")
    for command in ("/why", "/history", "/benefits"):
        await zed.send(command)
        await zed.expect("not registered", "/start")
