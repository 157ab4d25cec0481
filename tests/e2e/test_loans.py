"""Loans through the real bot: /loan by button and by typing (with refusals), the summary with APR
and every instalment, a double-tapped Confirm, /loans, paying through Telegram Payments (invoice,
pre-checkout, successful payment delivered twice), refusals with reasons, and the reminders
toggle in /settings.

Dates come from the ManualClock (21 Nov 2026), never from the wall clock.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from bot.service import BritizenService
from services.clock import ManualClock
from services.loan_terms import quote
from standin import BotApiStandIn
from storage.models import Citizen as CitizenRow
from storage.models import Loan, LoanPayment, Score
from tests.e2e.conftest import START, ServiceFactory, register
from tests.standin.driver import Citizen, SentMessage, callback_data

PROVIDER = "TEST:provider"
LONDON = ZoneInfo("Europe/London")


async def citizen_id(service: BritizenService, telegram_id: int) -> int:
    async with service.db.transaction() as session:
        found = await session.scalar(
            select(CitizenRow.id).where(CitizenRow.telegram_id == telegram_id)
        )
    assert found is not None
    return found


async def set_score(service: BritizenService, telegram_id: int, value: int, band: str) -> None:
    row_id = await citizen_id(service, telegram_id)
    async with service.db.transaction() as session:
        await session.execute(
            update(Score).where(Score.citizen_id == row_id).values(score=value, band=band)
        )


async def count(service: BritizenService, model: type[Loan] | type[LoanPayment]) -> int:
    async with service.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def answer_to(standin: BotApiStandIn, action: Callable[[], Awaitable[None]]) -> str:
    """What the bot answered (the toast or alert) to the button press ``action`` makes."""
    since = standin.mark()
    await action()
    answer = await standin.wait_for("answerCallbackQuery", since=since)
    return str(answer.params.get("text"))


async def forge(standin: BotApiStandIn, person: Citizen, data: str) -> str:
    """Press a button with ``data`` that ``person`` isn't (or is no longer) shown."""
    anchor = person.last
    assert anchor is not None

    async def press() -> None:
        standin.callback_query(person.user_id, anchor, data, strict=False)

    return await answer_to(standin, press)


def day(moment: date) -> str:
    return f"{moment:%a} {moment.day} {moment:%b %Y}"


async def loan_by_buttons(person: Citizen, amount: str, term: str) -> SentMessage:
    """/loan → amount button → term button; returns the summary."""
    await person.send("/loan")
    await person.expect("Borrow with Britizen")
    await person.press(amount)
    await person.expect(f"{amount} it is")
    await person.press(term)
    return await person.expect("please check it before you confirm")


async def type_ni_to_confirm(person: Citizen, ni_number: str, *contains: str) -> SentMessage:
    """After Confirm: the NI number is asked for, typed, and the loan confirmed."""
    await person.expect("type your National Insurance number")
    await person.send(ni_number)
    return await person.expect("Loan confirmed", *contains)


async def test_borrow_by_button_confirm_twice_pay_once(
    start_service: ServiceFactory, citizen: Callable[..., Citizen], standin: BotApiStandIn
) -> None:
    service = await start_service(payment_provider_token=PROVIDER)
    alice = citizen(601, "Alice")
    await register(alice, "AB 60 10 01 A")  # starts at 600, Good: a £150 limit

    await alice.send("/loan")
    await alice.expect("Good (Silver tier)", "limit is £150.00", "All of it is available")
    assert alice.buttons() == ["£50.00", "£100.00", "£150.00"]
    await alice.press("£100.00")
    await alice.expect("£100.00 it is", "3 months: £34.", "6 months: £17.65 a month")
    await alice.press("6 months")

    schedule = quote(10_000, 6, START.date())
    lines = [
        f"{i.number}. {day(i.due_on)} — £{i.amount_pence / 100:.2f}" for i in schedule.instalments
    ]
    assert lines[0] == "1. Mon 21 Dec 2026 — £17.65" and lines[-1] == "6. Fri 21 May 2027 — £17.63"
    summary = await alice.expect(
        "Amount: £100.00",
        "Term: 6 months",
        "Interest rate: 19.9% a year",
        "APR: 21.8% (representative)",
        *lines,
        "Total repayable: £105.88",
        "Total interest: £5.88",
        "£12.00 fee",
    )
    assert alice.buttons() == ["✅ Confirm", "Cancel"]

    # A double tap: two presses of the same Confirm before the bot has answered either.
    confirm = callback_data(alice, "Confirm")
    assert len(confirm.encode()) < 64
    standin.callback_query(alice.user_id, summary, confirm)
    standin.callback_query(alice.user_id, summary, confirm)
    await type_ni_to_confirm(
        alice, "AB 60 10 01 A", ": £100.00 over 6 months", "Mon 21 Dec 2026", "£105.88"
    )
    await alice.expect_nothing(quiet=0.3)
    assert await count(service, Loan) == 1
    # And once more later, on the same (now confirmed) message: the same loan, still only one.
    assert await forge(standin, alice, confirm) == "Loan confirmed."
    await alice.expect_nothing(quiet=0.3)
    assert await count(service, Loan) == 1

    await alice.send("/loans")
    await alice.expect(
        "£100.00 over 6 months, taken 21 Nov 2026",
        "Paid £0.00 · left to pay £105.88 (0 of 6 instalments paid)",
        "Next: £17.65 due Mon 21 Dec 2026",
    )
    # Paid today, a month early, the first instalment costs less (issue 16: early repayment).
    assert alice.buttons() == ["Pay £17.36 (instalment 1)", "Settle in full: £100.00"]
    pay_first = callback_data(alice, "Pay")
    await alice.press("Pay £17.36")
    invoice_message = await alice.expect("Britizen loan repayment", "Instalment 1")
    assert invoice_message.kind == "invoice"
    (call,) = standin.calls_of("sendInvoice")
    assert call.params["currency"] == "GBP"
    assert call.params["provider_token"] == PROVIDER
    assert [price["amount"] for price in call.params["prices"]] == [1736]
    invoice = standin.invoice(invoice_message)
    assert invoice is not None and invoice["total_amount"] == 1736

    # Telegram's pre-checkout: a wrong amount is refused, the right one accepted.
    since = standin.mark()
    wrong = standin.pre_checkout_query(alice.user_id, invoice["payload"], 1766, "GBP")
    await standin.wait_for("answerPreCheckoutQuery", since=since)
    refused = standin.pre_checkout_answers[wrong["pre_checkout_query"]["id"]]
    assert refused["ok"] is False and "amount" in str(refused["error_message"])
    assert await alice.pay() is True
    await alice.expect(
        "Thank you — £17.36 received for instalment 1",
        "£88.23 left to pay",
        "Next: £17.65 due Thu 21 Jan 2027",
        "Paying early saved you £0.29 of interest",
    )

    # The same charge delivered again: counted once, no second thank-you.
    (receipt,) = [
        m
        for m in standin.events(alice.chat_id)
        if m.message and m.message.kind == "successful_payment"
    ]
    assert receipt.message is not None and receipt.message.extra is not None
    charge_id = receipt.message.extra["successful_payment"]["telegram_payment_charge_id"]
    standin.successful_payment(
        alice.user_id, invoice["payload"], 1736, charge_id=charge_id, currency="GBP"
    )
    await alice.expect_nothing(quiet=0.5)
    assert await count(service, LoanPayment) == 1

    await alice.send("/loans")
    await alice.expect(
        "Paid £17.36 · left to pay £88.23 (1 of 6 instalments paid)",
        "Next: £17.65 due Thu 21 Jan 2027",
        "Saved so far by paying early: £0.29",
    )
    assert alice.buttons()[0] == "Pay £17.07 (instalment 2)"
    # The first Pay button, replayed: that instalment is paid, nothing is invoiced.
    assert "already paid" in await forge(standin, alice, pay_first)
    await alice.expect_nothing(quiet=0.3)  # an invoice may follow the answer: wait for it
    assert len(standin.calls_of("sendInvoice")) == 1


async def test_typed_amounts_are_checked_and_the_conversation_carries_on(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
    clock: ManualClock,
) -> None:
    bob = citizen(611, "Bob")
    await register(bob, "CE 61 10 01 A")
    await bob.send("/loan")
    await bob.expect("How much would you like to borrow?", "from £20.00 to £150.00")
    refusals = {
        "-5": "can't be negative",
        "1e9": "not in e-notation",
        "12.345": "at most 2 decimal places",
        "£200": "Your limit is £150.00",
        "10": "The smallest loan is £20.00",
        "a tenner": "doesn't look like an amount",
    }
    for typed, reason in refusals.items():
        await bob.send(typed)
        await bob.expect(reason, "Type another amount")
    assert await count(service, Loan) == 0

    await bob.send("£75.50")
    await bob.expect("£75.50 it is")
    await bob.send("12")  # text at the term step: pointed back to the buttons
    await bob.expect("Please choose how long to repay with the buttons", "£75.50 it is")
    await bob.press("3 months")
    await bob.expect("Amount: £75.50", "Term: 3 months", "1. Mon 21 Dec 2026 — ")

    # The amount buttons of the first /loan message are from a step that's over.
    assert await forge(standin, bob, "loan:amt:5000") == "This is no longer available."
    assert await forge(standin, bob, "loan:term:6") == "This is no longer available."
    assert await forge(standin, bob, "loan:ok:not-the-key") == "This is no longer available."

    # Confirmed the next day: the dates move, so a fresh summary is shown to confirm instead.
    clock.advance(days=1)
    assert "dates have moved" in await answer_to(standin, lambda: bob.press("Confirm"))
    await bob.expect("Amount: £75.50", "1. Tue 22 Dec 2026 — ")
    assert await count(service, Loan) == 0
    await bob.press("Cancel")
    await bob.expect("Cancelled — no loan was made")
    assert await count(service, Loan) == 0

    # /cancel leaves the flow: typed amounts are plain text again.
    await bob.send("/loan")
    await bob.expect("How much would you like to borrow?")
    await bob.send("/cancel")
    await bob.expect("Cancelled")
    await bob.send("50")
    await bob.expect("I didn't catch that")
    assert await forge(standin, bob, "loan:amt:5000") == "This is no longer available."
    assert await count(service, Loan) == 0


async def test_what_is_available_shrinks_with_what_is_owed(
    service: BritizenService, citizen: Callable[..., Citizen]
) -> None:
    carol = citizen(621, "Carol")
    await register(carol, "JG 62 10 01 B")
    await loan_by_buttons(carol, "£100.00", "3 months")
    await carol.press("Confirm")
    await type_ni_to_confirm(carol, "JG 62 10 01 B")

    await carol.send("/loan")
    await carol.expect("You still owe £100.00 of it, so £50.00 is available now")
    assert carol.buttons() == ["£50.00"]
    await carol.send("60")
    await carol.expect("over your limit: you can borrow up to £50.00 now", "Type another amount")
    await carol.send("35")
    await carol.expect("£35.00 it is")
    await carol.press("12 months")
    await carol.expect("Amount: £35.00", "12. ")
    await carol.press("Confirm")
    await type_ni_to_confirm(carol, "JG 62 10 01 B", ": £35.00 over 12 months")
    assert await count(service, Loan) == 2

    # £135 owed of £150 leaves £15, under the smallest loan: told why and what would help.
    await carol.send("/loan")
    message = await carol.expect(
        "can't borrow more",
        "still owe £135.00",
        "leaves £15.00",
        "smallest loan, £20.00",
        "/loans",
        "A score of 650 (Very good) would raise your limit to £300.00",
    )
    assert carol.buttons(message) == []

    await carol.send("/loans")
    await carol.expect("£100.00 over 3 months", "£35.00 over 12 months")
    assert carol.buttons() == [
        "Pay £33.88 (instalment 1 of the £100.00 loan)",
        "Pay £3.18 (instalment 1 of the £35.00 loan)",
        "Settle in full: £99.97 (the £100.00 loan)",
        "Settle in full: £34.95 (the £35.00 loan)",
    ]


async def test_a_poor_band_citizen_is_told_why_they_cannot_borrow(
    service: BritizenService, citizen: Callable[..., Citizen], standin: BotApiStandIn
) -> None:
    dan = citizen(631, "Dan")
    await register(dan, "AB 63 10 01 C")
    await set_score(service, 631, 420, "Poor")
    await dan.send("/loan")
    message = await dan.expect(
        "can't borrow at the moment",
        "Your score is 420 (Poor)",
        "A score of 550 (Fair) unlocks loans of up to £50.00",
        "130 points away",
        "/why",
    )
    assert dan.buttons(message) == []
    # No conversation started: an amount typed or forged changes nothing.
    await dan.send("50")
    await dan.expect("I didn't catch that")
    assert await forge(standin, dan, "loan:amt:5000") == "This is no longer available."
    await dan.send("/loans")
    await dan.expect("You don't have any loans")
    assert await count(service, Loan) == 0


async def test_pay_without_a_payment_provider_says_so(
    service: BritizenService, citizen: Callable[..., Citizen], standin: BotApiStandIn
) -> None:
    erin = citizen(641, "Erin")
    await register(erin, "CE 64 10 01 D")
    await service.services.loans.confirm(641, 5_000, 3, "e2e-no-provider")
    await erin.send("/loans")
    await erin.expect("£50.00 over 3 months")
    await erin.press("Pay")
    await erin.expect("Paying here isn't set up yet")
    await erin.expect_nothing(quiet=0.3)  # an invoice after the refusal would fail here
    assert standin.calls_of("sendInvoice") == []


async def test_friendly_reminders_toggle_and_the_loan_commands(
    service: BritizenService, citizen: Callable[..., Citizen], standin: BotApiStandIn
) -> None:
    names = [command["command"] for command in standin.commands()]
    assert {"loan", "loans"} <= set(names)
    fay = citizen(651, "Fay")
    await fay.send("/loan")
    await fay.expect("not registered", "/start")
    await register(fay, "JG 65 10 01 A")
    await fay.send("/help")
    await fay.expect("/loan —", "/loans —")

    await fay.send("/settings")
    await fay.expect("Friendly loan reminders (3 days before, on the day): On")
    alert = await answer_to(standin, lambda: fay.press("Reminders: Off"))
    assert "Overdue reminders can't be switched off" in alert
    await fay.expect(
        "Friendly loan reminders (3 days before, on the day): Off", "can't be switched off"
    )
    async with service.db.transaction() as session:
        row = await session.scalar(select(CitizenRow).where(CitizenRow.telegram_id == 651))
        assert row is not None and row.friendly_reminders is False
    assert await answer_to(standin, lambda: fay.press("Reminders: On")) == "Saved."
    await fay.expect("Friendly loan reminders (3 days before, on the day): On")


async def test_an_overdue_instalment_is_paid_with_its_fee_and_the_last_repays_the_loan(
    start_service: ServiceFactory,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
    clock: ManualClock,
) -> None:
    service = await start_service(payment_provider_token=PROVIDER)
    gus = citizen(661, "Gus")
    await register(gus, "CE 66 10 01 B")
    await service.services.loans.confirm(661, 5_000, 3, "e2e-overdue")

    # A day after the first due date the reminder scan adds the late fee.
    clock.now = datetime.combine(date(2026, 12, 22), time(10), LONDON).astimezone(UTC)
    await service.run_reminder_scan()
    await gus.expect("overdue")
    await gus.send("/loans")
    first = quote(5_000, 3, START.date()).instalments[0].amount_pence
    with_fee = f"£{(first + 1_200) / 100:.2f}"
    await gus.expect(f"Next: {with_fee} due Mon 21 Dec 2026 — overdue, including a £12.00 late fee")
    await gus.press("Pay £")  # not "I can't pay this", which an overdue instalment also offers
    await gus.expect("Britizen loan repayment", "late fee")
    (call,) = standin.calls_of("sendInvoice")
    assert [price["amount"] for price in call.params["prices"]] == [first + 1_200]
    assert await gus.pay() is True
    await gus.expect(f"Thank you — {with_fee} received for instalment 1", "Next:")

    for number in (2, 3):
        await gus.send("/loans")
        await gus.expect(f"({number - 1} of 3 instalments paid)")
        await gus.press("Pay")
        await gus.expect("Britizen loan repayment", f"Instalment {number}")
        assert await gus.pay() is True
        thanks = await gus.expect(f"received for instalment {number}")
    assert "your loan is repaid in full" in thanks.text
    await gus.send("/loans")
    await gus.expect("Repaid in full:", "£50.00 over 3 months, taken 21 Nov 2026")
    assert gus.buttons() == []
    assert await count(service, LoanPayment) == 3
