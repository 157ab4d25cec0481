"""What the bot says for loans."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from services.clock import as_aware_utc
from services.loan_terms import (
    ANNUAL_RATE,
    LATE_FEE_PENCE,
    MIN_LOAN_PENCE,
    TERM_CHOICES,
    apr_for,
)
from services.loans import (
    Application,
    Eligibility,
    InstalmentView,
    LoanView,
    Refusal,
)
from services.settlement import settle_after
from texts.common import CONFIRM_MINUTES
from texts.credit import locked_refusal, under_18_refusal
from texts.format import day, money
from texts.payment_plans import loan_line as plan_line
from texts.payments import credit_line, refund_line
from texts.whatif import loan_preview_lines

INVOICE_TITLE = "Britizen loan repayment"


def _percent(fraction: Decimal) -> str:
    return f"{(fraction * 100).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"


def _day(moment: date) -> str:
    """'Mon 21 Dec 2026': a schedule reads more easily with the weekday."""
    return f"{moment:%a} {moment.day} {moment:%b %Y}"


def _months(term: int) -> str:
    return f"{term} months"


RATE = _percent(ANNUAL_RATE)
APR = _percent(apr_for(ANNUAL_RATE))


def offer_text(e: Eligibility) -> str:
    lines = [
        "💷 Borrow with Britizen",
        f"Your band is {e.band} ({e.tier_title} tier), so your limit is {money(e.limit_pence)}.",
    ]
    if e.outstanding_pence:
        lines.append(
            f"You still owe {money(e.outstanding_pence)} of it, so "
            f"{money(e.available_pence)} is available now."
        )
    else:
        lines.append("All of it is available now.")
    lines += [
        "",
        "How much would you like to borrow? Tap an amount, or type one in pounds "
        f"(from {money(MIN_LOAN_PENCE)} to {money(e.available_pence)}).",
        "",
        f"It's a fixed {RATE} a year ({APR} APR representative), repaid in equal monthly "
        f"instalments over {', '.join(map(str, TERM_CHOICES[:-1]))} or {TERM_CHOICES[-1]} "
        "months. You'll see every instalment before you confirm. /cancel stops.",
    ]
    return "\n".join(lines)


def refusal_text(e: Eligibility) -> str:
    unlock = e.unlock
    if e.refusal is Refusal.UNDER_18 and e.credit_from is not None:
        return under_18_refusal(e.credit_from)
    if e.refusal is Refusal.LOCKED and e.locked_until is not None:
        return locked_refusal(e.locked_until)
    if e.refusal is Refusal.BAND_TOO_LOW:
        lines = [
            "Sorry — you can't borrow at the moment.",
            f"Your score is {e.score} ({e.band}), and the {e.tier_title} tier doesn't include "
            "loans.",
        ]
        if unlock is not None:
            lines.append(
                f"A score of {unlock.min_score} ({unlock.band}) unlocks loans of up to "
                f"{money(unlock.limit_pence)} — you're "
                f"{unlock.min_score - e.score} points away."
            )
        lines.append("/why shows what's holding your score back and how to raise it.")
        return "\n".join(lines)
    lines = [
        "Sorry — you can't borrow more at the moment.",
        f"Your limit is {money(e.limit_pence)} ({e.band}, {e.tier_title} tier) and you "
        f"still owe {money(e.outstanding_pence)} of it, which leaves "
        f"{money(e.available_pence)} — less than the smallest loan, "
        f"{money(MIN_LOAN_PENCE)}.",
        "Each instalment you repay frees up its share of your limit: /loans shows what's due.",
    ]
    if unlock is not None:
        lines.append(
            f"A score of {unlock.min_score} ({unlock.band}) would raise your limit to "
            f"{money(unlock.limit_pence)}; /why shows how to get there."
        )
    return "\n".join(lines)


def term_text(amount_pence: int, monthly: dict[int, int]) -> str:
    lines = [f"{money(amount_pence)} it is. Over how long would you like to repay?", ""]
    lines += [f"• {_months(term)}: {money(pence)} a month" for term, pence in monthly.items()]
    lines += ["", "You'll see the full schedule before you confirm. /cancel stops."]
    return "\n".join(lines)


def summary_text(application: Application) -> str:
    q = application.quote
    lines = [
        "📝 Your loan — please check it before you confirm",
        "",
        f"Amount: {money(q.principal_pence)}",
        f"Term: {_months(q.term_months)}",
        f"Interest rate: {_percent(q.annual_rate)} a year, fixed",
        f"APR: {q.apr_percent} (representative)",
        "",
        "Repayments:",
    ]
    lines += [f"{i.number}. {_day(i.due_on)} — {money(i.amount_pence)}" for i in q.instalments]
    lines += [
        "",
        f"Total repayable: {money(q.total_repayable_pence)}",
        f"Total interest: {money(q.total_interest_pence)}",
        *loan_preview_lines(application.preview),
        early_settlement_line(application),
        "",
        f"If an instalment is late, a one-off {money(LATE_FEE_PENCE)} fee is added and "
        "it counts as missed in your payment history, which lowers your score.",
        "Tap Confirm to take the loan, or Cancel.",
    ]
    return "\n".join(lines)


def confirmed_text(loan: LoanView) -> str:
    first = loan.instalments[0]
    return "\n".join(
        [
            f"✅ Loan confirmed: {money(loan.principal_pence)} over {_months(loan.term_months)}.",
            f"First instalment: {money(first.amount_pence)} on {_day(first.due_on)}; "
            f"{money(loan.total_repayable_pence)} to repay in all.",
            "",
            "I'll remind you 3 days before each instalment and on the day (you can turn those "
            "reminders off in /settings). /loans shows what's due and lets you pay.",
        ]
    )


def paid_text(amount_pence: int, paid: InstalmentView, loan: LoanView | None) -> str:
    lines = [f"Thank you — {money(amount_pence)} received for instalment {paid.number}."]
    due = loan.next_due if loan is not None else None
    if loan is None or due is None:
        lines.append("That was the last one: your loan is repaid in full. 🎉")
    else:
        lines.append(
            f"{money(loan.remaining_pence)} left to pay. Next: "
            f"{money(due.scheduled_pence)} due {_day(due.due_on)}."
        )
    return "\n".join(lines)


NO_PAYMENTS = (
    "Paying here isn't set up yet, so I can't take this payment. Please try again later — "
    "/loans shows what's due and when."
)


QUOTE_MOVED = "A new day has started, so the dates have moved. Please check them and confirm again."
QUOTE_TIMED_OUT = (
    f"That summary is more than {CONFIRM_MINUTES} minutes old, so it expired. "
    "Here it is again: please check it and confirm."
)


CONFIRM_BUTTON = "✅ Confirm"
CANCEL_BUTTON = "Cancel"
CONFIRMED_TOAST = "Loan confirmed."
CHOOSE_TERM_AGAIN = "Please choose how long to repay with the buttons (or /cancel).\n\n"
CONFIRM_AGAIN = "Please tap Confirm or Cancel under your loan summary (or /cancel).\n\n"
APPLICATION_ENDED = "That loan application has ended. /loan starts a new one."
APPLICATION_CANCELLED = "Cancelled — no loan was made. /loan starts again whenever you like."


def amount_refused(refusal: str) -> str:
    return f"{refusal}\n\nType another amount, tap one of the amounts above, or /cancel to stop."


def not_made(refusal: str) -> str:
    return f"{refusal}\n\nNo loan was made. /loan shows what you can borrow now."


def pay_label(due: InstalmentView, loan: LoanView, *, several: bool) -> str:
    label = f"Pay {money(due.payable_pence)} (instalment {due.number}"
    # With two loans open, "instalment 1" alone doesn't say which one.
    if several:
        label += f" of the {money(loan.principal_pence)} loan"
    return label + ")"


def invoice_label(due: InstalmentView) -> str:
    label = f"Instalment {due.number}"
    if due.late_fee_pence:
        label += f" with {money(due.late_fee_pence)} late fee"
    return label


def invoice_description(due: InstalmentView) -> str:
    description = f"Instalment {due.number} of your Britizen loan, due {_day(due.due_on)}."
    if due.late_fee_pence:
        description += f" Includes the {money(due.late_fee_pence)} late fee."
    if due.credit_pence:
        description += f" {money(due.credit_pence)} of it is already paid from your credit."
    if due.rebate_pence:
        description += f" Paid early, it costs {money(due.rebate_pence)} less interest."
    return description


def _taken(loan: LoanView, tz: ZoneInfo) -> str:
    return day(as_aware_utc(loan.created_at).astimezone(tz).date())


def loans_text(
    loans: list[LoanView],
    today: date,
    tz: ZoneInfo,
    *,
    credit_pence: int = 0,
    refund_pence: int = 0,
    held: Mapping[int, str] | None = None,
) -> str:
    if not loans:
        return "You don't have any loans. /loan shows what you can borrow."
    lines = ["💷 Your loans"]
    for loan in (loan for loan in loans if not loan.repaid):
        paid = sum(1 for i in loan.instalments if i.paid)
        lines += [
            "",
            f"{money(loan.principal_pence)} over {_months(loan.term_months)}, "
            f"taken {_taken(loan, tz)}",
            f"Paid {money(loan.paid_pence)} · left to pay "
            f"{money(loan.remaining_pence)} ({paid} of {loan.term_months} "
            "instalments paid)",
        ]
        due = loan.next_due
        if due is not None:
            line = f"Next: {money(due.scheduled_pence)} due {_day(due.due_on)}"
            if due.late_fee_pence:
                line += f" — overdue, including a {money(due.late_fee_pence)} late fee"
            elif due.due_on < today:
                line += " — overdue"
            lines.append(line)
            lines += early_lines(loan)
        if held and loan.id in held:
            lines.append(plan_line(held[loan.id]))
    repaid = [loan for loan in loans if loan.repaid]
    if repaid:
        lines += ["", "Repaid in full:"]
        lines += [
            f"• {money(loan.principal_pence)} over {_months(loan.term_months)}, "
            f"taken {_taken(loan, tz)}"
            for loan in repaid
        ]
    extra = ([credit_line(credit_pence)] if credit_pence else []) + (
        [refund_line(refund_pence)] if refund_pence else []
    )
    if extra:
        lines += ["", *extra]
    lines += ["", "/loan shows what you can borrow."]
    return "\n".join(lines)


ASK_NI_TO_CONFIRM = (
    "🔒 One last check, so nobody else can borrow with your phone: type your National "
    "Insurance number (like QQ 12 34 56 C) to confirm the loan. I'll delete your message "
    "straight away. (/cancel stops here: no loan is made.)"
)
TYPE_NI_TOAST = "Type your National Insurance number to confirm."


def wrong_ni(tries_left: int) -> str:
    tries = "1 more try" if tries_left == 1 else f"{tries_left} more tries"
    return (
        "That isn't the National Insurance number on your account, so no loan was made. "
        f"You have {tries} before borrowing is paused for a day. Type it again, or /cancel."
    )


# --------------------------------------------------------------------------------------------
# Paying early (services.settlement): the quote, /loans, the Settle invoice and the receipt.


def early_settlement_line(application: Application) -> str:
    q = application.quote
    example = settle_after(q, 1)
    return (
        f"Pay early and you pay less interest: settle in full with your first instalment on "
        f"{_day(example.on)} and you'd pay {money(example.total_pence)} in all, "
        f"saving {money(example.saving_pence)}."
    )


def early_lines(loan: LoanView) -> list[str]:
    """For /loans: what paying early saves on this loan, so far and today."""
    lines = []
    if loan.saved_pence:
        lines.append(f"Saved so far by paying early: {money(loan.saved_pence)}")
    if loan.unpaid_count > 1 and loan.settle_saving_pence:
        lines.append(
            f"Settle in full today: {money(loan.settle_pence)} instead of "
            f"{money(loan.remaining_pence)}, saving {money(loan.settle_saving_pence)} of interest"
        )
    return lines


def settle_label(loan: LoanView, *, several: bool) -> str:
    label = f"Settle in full: {money(loan.settle_pence)}"
    if several:
        label += f" (the {money(loan.principal_pence)} loan)"
    return label


SETTLE_INVOICE_LABEL = "Settling your loan in full"


def settle_invoice_description(instalments: int, saving_pence: int) -> str:
    return (
        f"Pays off all {instalments} remaining instalments of your Britizen loan today, "
        f"{money(saving_pence)} less interest than paying them on their dates."
    )


def early_saving_line(saved_pence: int) -> str:
    return f"Paying early saved you {money(saved_pence)} of interest."


def settled_text(amount_pence: int, saved_pence: int) -> str:
    lines = [f"Thank you — {money(amount_pence)} received: your loan is settled in full. 🎉"]
    if saved_pence:
        lines.append(f"Settling early saved you {money(saved_pence)} of interest.")
    return "\n".join(lines)
