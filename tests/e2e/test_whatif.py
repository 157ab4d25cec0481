"""What if…, through the real bot: the loan summary says what the loan would do to the score,
and /why's What if… buttons preview a change without making it. Nothing is written either way
(the scores, their history, payment events, loans and instalments are compared before and after).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select, text, update

from bot.service import BritizenService
from services.clock import ManualClock
from standin import BotApiStandIn
from storage.models import Citizen as CitizenRow
from storage.models import Instalment, Loan
from tests.e2e.conftest import START, register
from tests.e2e.test_loans import loan_by_buttons
from tests.e2e.test_score_commands import nightly_pass
from tests.standin.driver import Citizen

PAY_OFF = "What if I paid it all off?"
MISS = "What if I missed a payment?"
FRIEND = "What if I added a verified friend?"
BOOST = "➕ Add rent or council tax"  # /boost (issue 20), under the What if… buttons
TABLES = ("scores", "score_history", "payment_events", "loans", "instalments", "friendships")


async def snapshot(service: BritizenService) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables a score preview might be tempted to touch."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    async with service.db.transaction() as session:
        for table in TABLES:
            result = await session.execute(text(f"SELECT * FROM {table} ORDER BY 1"))
            rows[table] = [tuple(row) for row in result.all()]
    return rows


async def take_loan(service: BritizenService, telegram_id: int, pence: int, term: int) -> None:
    """A confirmed loan, made by the lending service as Confirm makes it."""
    await service.services.loans.confirm(telegram_id, pence, term, f"whatif-{telegram_id}")


async def test_the_loan_summary_says_what_the_loan_does_to_the_score(
    service: BritizenService, citizen: Callable[..., Citizen]
) -> None:
    alice = citizen(701, "Alice")
    await register(alice, "AB 70 10 01 A")  # 600, Good: a £150 limit
    before = await snapshot(service)

    summary = await loan_by_buttons(alice, "£100.00", "6 months")
    # Owing £105.88 of £150 (70.6%): commitments -31. A year on: six on-time payments and a
    # year's membership, nothing owed. One miss: -45, and the £12 fee makes it 78.6% owed (-39).
    lines = summary.text.splitlines()
    block = lines[lines.index("What it does to your score:") :][:6]
    assert block == [
        "What it does to your score:",
        "• Now: 600 (Good)",
        "• Right after borrowing: 569 (Fair), down 31 points",
        # Repaid in full by then: owing nothing after a repaid loan tops commitments (+40).
        "• After a year of paying on time: 710 (Excellent), up 110 points",
        "• With one missed payment: 516 (Poor), down 84 points",
        "Worked out by the score model from what it knows today; a year on assumes nothing "
        "else changes.",
    ]
    # The schedule and totals come first, the late-fee warning and the buttons after.
    assert summary.text.index("Total interest") < summary.text.index("What it does")
    assert summary.text.index("What it does") < summary.text.index("If an instalment is late")
    assert alice.buttons(summary) == ["✅ Confirm", "Cancel"]
    assert await snapshot(service) == before

    # Typing at the summary shows it again, preview included.
    await alice.send("hello")
    again = await alice.expect("Please tap Confirm or Cancel", "• Right after borrowing: 569")
    assert "• With one missed payment: 516 (Poor)" in again.text


async def test_a_borrowers_summary_counts_what_they_already_owe(
    service: BritizenService, citizen: Callable[..., Citizen]
) -> None:
    bea = citizen(702, "Bea")
    await register(bea, "AB 70 20 02 B")
    await take_loan(service, 702, 5_000, 3)  # owes £51.67 of £150
    summary = await loan_by_buttons(bea, "£50.00", "3 months")
    # Now: 40 - 34.4% = +6; after: £103.34 owed, 68.9% -> -29.
    assert "• Now: 606 (Good)" in summary.text
    assert "• Right after borrowing: 571 (Fair), down 35 points" in summary.text


async def test_what_if_buttons_under_why_preview_without_changing_anything(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    clock: ManualClock,
) -> None:
    carl = citizen(703, "Carl")
    await register(carl, "AB 70 30 03 C")
    await take_loan(service, 703, 10_000, 6)
    await nightly_pass(service, clock)
    await carl.expect("Your band changed: Good → Fair")

    await carl.send("/why")
    why = await carl.expect("Why your score is 569 (Fair)")
    assert carl.buttons(why) == [PAY_OFF, MISS, FRIEND, BOOST]
    before = await snapshot(service)

    await carl.press(PAY_OFF, message=why)
    # Six instalments paid today count as six on-time payments (+79) and nothing is owed.
    paid = await carl.expect(
        "If you paid off everything you owe today, your score would be 719 (Excellent), "
        "up 150 points on 569.",
        "This is only a preview: nothing has changed.",
    )
    assert "on or before their due date" in paid.text

    await carl.press(MISS, message=why)
    await carl.expect(
        "If you missed your next payment, your score would be 516 (Poor), down 53 points on 569.",
        "£12.00 late fee",
        "nothing has changed",
    )

    await carl.press(FRIEND, message=why)
    await carl.expect(
        "If you added one more verified friend, your score would be 570 (Fair), up 1 point on 569.",
        "A new friend starts at 600",
        "at most 30 points up or down",
    )
    assert await snapshot(service) == before

    # The same presses again say the same: nothing moved.
    await carl.press(MISS, message=why)
    await carl.expect("your score would be 516 (Poor), down 53 points on 569.")
    await carl.send("/score")
    await carl.expect("Your Britizen score: 569 — Fair")
    assert await snapshot(service) == before


async def test_nothing_to_pay_off_means_no_pay_off_button_and_a_stale_one_changes_nothing(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
) -> None:
    dee = citizen(704, "Dee")
    await register(dee, "AB 70 40 04 D")
    await dee.send("/why")
    why = await dee.expect("Why your score is 600 (Good)")
    assert dee.buttons(why) == [MISS, FRIEND, BOOST]
    await dee.press(MISS, message=why)
    await dee.expect("If you missed your next payment, your score would be 555 (Fair)")

    # A /why shown while she owed something, pressed after it was all paid: no longer there.
    await take_loan(service, 704, 5_000, 3)
    await dee.send("/why")
    owing = await dee.expect("Why your score is 600 (Good)", "New activity")
    assert dee.buttons(owing) == [PAY_OFF, MISS, FRIEND, BOOST]
    async with service.db.transaction() as session:
        citizen_id = await session.scalar(
            select(CitizenRow.id).where(CitizenRow.telegram_id == 704)
        )
        loan_ids = select(Loan.id).where(Loan.citizen_id == citizen_id)
        await session.execute(
            update(Instalment).where(Instalment.loan_id.in_(loan_ids)).values(paid_at=START)
        )
    before = await snapshot(service)
    since = standin.mark()
    await dee.press(PAY_OFF, message=owing)
    answer = await standin.wait_for("answerCallbackQuery", since=since)
    assert "no longer available" in str(answer.params.get("text"))
    await dee.expect_nothing()
    assert await snapshot(service) == before


async def test_forged_what_if_data_is_no_longer_available(
    service: BritizenService, citizen: Callable[..., Citizen], standin: BotApiStandIn
) -> None:
    eve = citizen(705, "Eve")
    await register(eve, "AB 70 50 05 A")
    await eve.send("/why")
    why = await eve.expect("Why your score is 600")
    before = await snapshot(service)
    for data in ("wif:nope", "wif:pay:1", "wif:", "wif:friend "):
        since = standin.mark()
        standin.callback_query(705, why, data, strict=False)
        answer = await standin.wait_for("answerCallbackQuery", since=since)
        assert "no longer available" in str(answer.params.get("text"))
    await eve.expect_nothing()
    assert await snapshot(service) == before


async def test_a_stranger_pressing_what_if_gets_no_preview(
    service: BritizenService, citizen: Callable[..., Citizen], standin: BotApiStandIn
) -> None:
    """A forwarded /why pressed by someone without an account: nobody's score is previewed."""
    fay = citizen(706, "Fay")
    await register(fay, "AB 70 60 06 B")
    await fay.send("/why")
    why = await fay.expect("Why your score is 600")
    since = standin.mark()
    standin.callback_query(707, why, "wif:miss", strict=False)
    answer = await standin.wait_for("answerCallbackQuery", since=since)
    assert "Nothing changed" in str(answer.params.get("text"))
    await fay.expect_nothing()
