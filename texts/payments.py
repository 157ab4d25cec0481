"""What a borrower reads about paying: checkout refusals, receipts of money that wasn't needed,
and refunds. (texts.loans words the loans themselves.)"""

from __future__ import annotations

from texts.format import money
from texts.i18n import _

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
    return _(
        "The amount due has changed since this invoice was made (it's now "
        "{due_pence}): tap Pay in /loans for an up-to-date invoice."
    ).format(due_pence=money(due_pence))


def not_counted_refund(amount_pence: int) -> str:
    return _(
        "We received {amount_pence}, but it was for a loan that isn't yours, "
        "so it wasn't counted against anyone's loan. We'll refund it to you in "
        "full."
    ).format(amount_pence=money(amount_pence))


def overpaid(amount_pence: int, applied_pence: int, refund_pence: int, why: str) -> str:
    lines = [
        _("We received {amount_pence} more than was due: {why}.").format(
            amount_pence=money(amount_pence), why=why
        )
    ]
    if applied_pence:
        lines.append(
            _("{applied_pence} of it has gone towards your next instalments.").format(
                applied_pence=money(applied_pence)
            )
        )
    if refund_pence:
        lines.append(
            _("{refund_pence} will be refunded to you; /loans lists it until it's done.").format(
                refund_pence=money(refund_pence)
            )
        )
    lines.append(_("Nothing was counted twice."))
    return "\n".join(map(str, lines))


OVERPAID_WHY = {
    "already_paid": "that instalment was already paid",
    "more_than_due": "the payment was more than that instalment needed",
    "loan_closed": "that loan is already closed",
    "unknown_invoice": "we couldn't match the payment to an instalment",
}


def credit_line(credit_pence: int) -> str:
    return _("Credit towards your next instalment: {credit_pence}").format(
        credit_pence=money(credit_pence)
    )


def refund_line(refund_pence: int) -> str:
    return _("Refund on its way to you: {refund_pence}").format(refund_pence=money(refund_pence))


def part_paid(amount_pence: int, number: int, still_due_pence: int) -> str:
    return _(
        "Thank you — {amount_pence} received towards instalment {number}. "
        "{still_due_pence} of it is still to pay: /loans has a Pay button for "
        "it."
    ).format(
        amount_pence=money(amount_pence), number=number, still_due_pence=money(still_due_pence)
    )
