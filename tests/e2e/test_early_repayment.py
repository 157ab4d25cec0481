"""Early repayment through the real bot (issue 16): the quote says what settling early would
cost, /loans offers Settle in full with the saving, and the receipt shows it."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from bot.service import BritizenService
from services.clock import ManualClock
from standin import BotApiStandIn
from storage.models import Loan
from tests.e2e.conftest import ServiceFactory, register
from tests.e2e.test_loans import PROVIDER, loan_by_buttons, type_ni_to_confirm
from tests.standin.driver import Citizen


async def test_the_quote_loans_and_the_receipt_show_the_saving(
    start_service: ServiceFactory,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
    clock: ManualClock,
) -> None:
    service: BritizenService = await start_service(payment_provider_token=PROVIDER)
    eve = citizen(931, "Eve")
    await register(eve, "AB 93 10 01 A")
    # £100 over 6 months (see services/settlement.py): settled with the first instalment on
    # 21 Dec 2026 it costs £101.64 in all instead of £105.88.
    summary = await loan_by_buttons(eve, "£100.00", "6 months")
    for words in (
        "Total repayable: £105.88",
        "Pay early and you pay less interest",
        "Mon 21 Dec 2026 and you'd pay £101.64 in all, saving £4.24",
    ):
        assert words in summary.text
    await eve.press("Confirm")
    await type_ni_to_confirm(eve, "AB 93 10 01 A")

    clock.advance(days=14)  # 5 Dec: part of the first month's interest is owed
    await eve.send("/loans")
    await eve.expect(
        "Next: £17.65 due Mon 21 Dec 2026",
        "Settle in full today: £100.75 instead of £105.88, saving £5.13 of interest",
    )
    assert eve.buttons() == ["Pay £17.49 (instalment 1)", "Settle in full: £100.75"]
    await eve.press("Settle in full: £100.75")
    invoice = await eve.expect("all 6 remaining instalments", "£5.13 less interest")
    assert invoice.kind == "invoice"
    details = standin.invoice(invoice)
    assert details is not None and details["total_amount"] == 10_075
    assert await eve.pay(invoice) is True
    await eve.expect(
        "£100.75 received: your loan is settled in full",
        "Settling early saved you £5.13 of interest",
    )
    async with service.db.transaction() as session:
        assert await session.scalar(select(Loan.status)) == "repaid"
    await eve.send("/loans")
    await eve.expect("Repaid in full:", "£100.00 over 6 months")
    assert eve.buttons() == []
