"""One payment per instalment through the real bot (issue 16): the two payment races, a payer
who is not the borrower and a wrong amount, with Telegram Payments played by the stand-in."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

import texts.payments as texts
from bot.cli import main
from services.loans import LoanService
from standin import BotApiStandIn
from tests.e2e.conftest import TEST_SECRET, ServiceFactory, register
from tests.e2e.test_loans import PROVIDER, loan_by_buttons, type_ni_to_confirm
from tests.standin.driver import Citizen, SentMessage


async def _checkout(
    standin: BotApiStandIn, payer: int, invoice: SentMessage, amount: int | None = None
) -> dict[str, object]:
    details = standin.invoice(invoice)
    assert details is not None
    mark = standin.mark()
    update = standin.pre_checkout_query(
        payer, details["payload"], amount or details["total_amount"], details["currency"]
    )
    query_id = update["pre_checkout_query"]["id"]
    await standin.wait_for(lambda _: query_id in standin.pre_checkout_answers, 5, since=mark)
    return dict(standin.pre_checkout_answers[query_id])


async def _borrow_and_get_invoice(person: Citizen, ni_number: str) -> SentMessage:
    await loan_by_buttons(person, "£100.00", "6 months")
    await person.press("Confirm")
    await type_ni_to_confirm(person, ni_number)
    await person.send("/loans")
    await person.expect("Your loans")
    await person.press("Pay £17.36 (instalment 1)")
    invoice = await person.expect("Instalment 1 of your Britizen loan")
    assert invoice.kind == "invoice"
    return invoice


async def test_two_invoices_two_checkouts_and_two_payments_count_once(
    start_service: ServiceFactory, citizen: Callable[..., Citizen], standin: BotApiStandIn
) -> None:
    service = await start_service(payment_provider_token=PROVIDER)
    ada = citizen(901, "Ada")
    await register(ada, "AB 90 10 01 A")
    first = await _borrow_and_get_invoice(ada, "AB 90 10 01 A")
    await ada.send("/loans")
    await ada.expect("Your loans")
    await ada.press("Pay £17.36 (instalment 1)")
    second = await ada.expect("Instalment 1 of your Britizen loan")
    first_details, second_details = standin.invoice(first), standin.invoice(second)
    assert first_details is not None and second_details is not None
    assert first_details["payload"] == second_details["payload"]  # one live invoice, re-offered

    # Race 1: both invoices' Pay pressed at once. One checkout goes through.
    answers = await asyncio.gather(_checkout(standin, 901, first), _checkout(standin, 901, second))
    assert sorted(bool(a["ok"]) for a in answers) == [False, True]
    refused = next(a for a in answers if not a["ok"])
    assert refused["error_message"] == texts.IN_PROGRESS

    # Race 2: Telegram still delivers two successful payments (two charges).
    standin.successful_payment(901, first_details["payload"], 1736, "charge-one")
    await ada.expect("Thank you — £17.36 received for instalment 1")
    standin.successful_payment(901, first_details["payload"], 1736, "charge-two")
    await ada.expect(
        "We received £17.36 more than was due: that instalment was already paid",
        "gone towards your next instalments",
        "Nothing was counted twice",
    )
    # The same charge delivered again: nothing at all.
    standin.successful_payment(901, first_details["payload"], 1736, "charge-two")
    await ada.expect_nothing()

    await ada.send("/loans")
    listing = await ada.expect("Your loans")
    assert "(2 of 6 instalments paid)" in listing.text
    (loan,) = await service.services.loans.loans(901)
    assert loan.paid_pence == 2 * 1736  # a month early: less interest (issue 16)
    # And a now-paid instalment's invoice is refused before anyone is charged.
    answer = await _checkout(standin, 901, first)
    assert (answer["ok"], answer["error_message"]) == (False, texts.ALREADY_PAID)


async def test_another_payer_and_a_wrong_amount_are_refused_and_never_counted(
    start_service: ServiceFactory, citizen: Callable[..., Citizen], standin: BotApiStandIn
) -> None:
    service = await start_service(payment_provider_token=PROVIDER)
    ada, bob = citizen(911, "Ada"), citizen(912, "Bob")
    await register(ada, "AB 91 10 01 A")
    await register(bob, "AB 91 20 02 B")
    invoice = await _borrow_and_get_invoice(ada, "AB 91 10 01 A")
    details = standin.invoice(invoice)
    assert details is not None

    wrong = await _checkout(standin, 911, invoice, amount=1000)
    assert (wrong["ok"], wrong["error_message"]) == (False, texts.amount_changed(1736))
    stranger = await _checkout(standin, 912, invoice)
    assert (stranger["ok"], stranger["error_message"]) == (False, texts.NOT_YOUR_LOAN)

    # Telegram delivers Bob's payment for Ada's invoice anyway, for a different amount.
    standin.successful_payment(912, details["payload"], 999, "bobs-charge")
    await bob.expect("We received £9.99, but it was for a loan that isn't yours")
    await ada.expect_nothing()
    (loan,) = await service.services.loans.loans(911)
    assert loan.paid_pence == 0
    (refund,) = await service.services.loans.refunds_due()
    assert (refund.payer_telegram_id, refund.refund_pence) == (912, 999)

    assert await ada.pay(invoice) is True
    await ada.expect("Thank you — £17.36 received for instalment 1")


def test_the_operator_lists_and_settles_refunds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime

    from services.clock import ManualClock
    from storage.db import Database
    from storage.migrate import upgrade
    from tests.services.test_loans import LONDON, citizen_with_score

    url = f"sqlite+aiosqlite:///{tmp_path / 'refunds.db'}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BRITIZEN_DATABASE_URL", url)
    monkeypatch.setenv("BRITIZEN_SECRET_KEY", TEST_SECRET)
    upgrade(url)

    async def overpay() -> None:
        db = Database(url)
        loans = LoanService(db, ManualClock(datetime(2026, 11, 21, 12, tzinfo=UTC)), LONDON)
        await citizen_with_score(db, 1, 620, "Good")
        loan = await loans.confirm(1, 6_000, 3, "k")
        offer = await loans.offer_invoice(1, loan.instalments[0].id)
        # £2.50 over what instalment 1 needs goes to instalment 2: nothing to give back...
        await loans.record_payment(1, offer.payload, offer.instalment.payable_pence + 250, "c1")
        # ...but someone else's £2.50 for this loan is refunded in full.
        await loans.record_payment(99, offer.payload, 250, "c2")
        await db.close()

    asyncio.run(overpay())
    assert main(["payments", "overpaid"]) == 0
    out = capsys.readouterr().out
    assert "1 refund(s) due, £2.50 in all" in out and "refund £2.50 of £2.50" in out
    assert "(not_the_borrower)" in out and "telegram user 99" in out
    assert main(["payments", "refunded", "2"]) == 0  # #1 was the borrower's: used, not due
    assert main(["payments", "refunded", "2"]) == 1
    assert main(["payments", "overpaid"]) == 0
    assert "no refunds due" in capsys.readouterr().out
