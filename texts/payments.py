"""What a borrower reads about paying: checkout refusals, receipts of money that wasn't needed,
and refunds. (texts.loans words the loans themselves.)"""

from __future__ import annotations

from texts.format import money

INVALID_INVOICE = "This payment link isn't valid any more. Tap Pay in /loans for a new one."
NOT_GBP = "Loan repayments can only be made in pounds (GBP)."
NOT_YOUR_LOAN = "This invoice is for someone else's loan, so you can't pay it. Nothing was charged."
LOAN_NOT_ACTIVE = "This loan is no longer active, so there's nothing to pay on it."
ALREADY_PAID = "This instalment is already paid — there's nothing to pay. /loans shows what's due."
REPLACED = (
    "This invoice has been replaced by a newer one, so it can't be paid. "
    "Tap Pay in /loans to pay the latest."
)
IN_PROGRESS = (
    "A payment for this instalment is already going through. "
    "If it doesn't complete, try again in a couple of minutes."
)
INVOICE_EXPIRED = (
    "This invoice has expired: for your safety an invoice can be paid for 15 minutes after you "
    "tap Pay. Tap Pay in /loans for a fresh one."
)
NOTHING_DUE = "That instalment is already paid or no longer available."


def amount_changed(due_pence: int) -> str:
    return (
        f"The amount due has changed since this invoice was made (it's now {money(due_pence)}): "
        "tap Pay in /loans for an up-to-date invoice."
    )


def not_counted_refund(amount_pence: int) -> str:
    return (
        f"We received {money(amount_pence)}, but it was for a loan that isn't yours, so it "
        "wasn't counted against anyone's loan. We'll refund it to you in full."
    )


def overpaid(amount_pence: int, applied_pence: int, refund_pence: int, why: str) -> str:
    lines = [f"We received {money(amount_pence)} more than was due: {why}."]
    if applied_pence:
        lines.append(f"{money(applied_pence)} of it has gone towards your next instalments.")
    if refund_pence:
        lines.append(
            f"{money(refund_pence)} will be refunded to you; /loans lists it until it's done."
        )
    lines.append("Nothing was counted twice.")
    return "\n".join(lines)


OVERPAID_WHY = {
    "already_paid": "that instalment was already paid",
    "more_than_due": "the payment was more than that instalment needed",
    "loan_closed": "that loan is already closed",
    "unknown_invoice": "we couldn't match the payment to an instalment",
}


def credit_line(credit_pence: int) -> str:
    return f"Credit towards your next instalment: {money(credit_pence)}"


def refund_line(refund_pence: int) -> str:
    return f"Refund on its way to you: {money(refund_pence)}"


def part_paid(amount_pence: int, number: int, still_due_pence: int) -> str:
    return (
        f"Thank you — {money(amount_pence)} received towards instalment {number}. "
        f"{money(still_due_pence)} of it is still to pay: /loans has a Pay button for it."
    )
