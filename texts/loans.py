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
from texts.format import Dated, day, money
from texts.i18n import _
from texts.payment_plans import loan_line as plan_line
from texts.payments import credit_line, refund_line
from texts.whatif import loan_preview_lines

INVOICE_TITLE = "Britizen loan repayment"


def _percent(fraction: Decimal) -> str:
    return f"{(fraction * 100).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"


def _day(moment: date) -> str:
    """'Mon 21 Dec 2026': a schedule reads more easily with the weekday."""
    return f"{Dated(moment):%a} {moment.day} {Dated(moment):%b %Y}"


def _months(term: int) -> str:
    return _("{term} months").format(term=term)


RATE = _percent(ANNUAL_RATE)
APR = _percent(apr_for(ANNUAL_RATE))


def offer_text(e: Eligibility) -> str:
    lines = [
        _("💷 Borrow with Britizen"),
        _("Your band is {band} ({tier_title} tier), so your limit is {limit_pence}.").format(
            band=_(e.band), tier_title=_(e.tier_title), limit_pence=money(e.limit_pence)
        ),
    ]
    if e.outstanding_pence:
        lines.append(
            _(
                "You still owe {outstanding_pence} of it, so {available_pence} is available now."
            ).format(
                outstanding_pence=money(e.outstanding_pence),
                available_pence=money(e.available_pence),
            )
        )
    else:
        lines.append(_("All of it is available now."))
    lines += [
        "",
        _(
            "How much would you like to borrow? Tap an amount, or type one in "
            "pounds (from {min_loan_pence} to {available_pence})."
        ).format(min_loan_pence=money(MIN_LOAN_PENCE), available_pence=money(e.available_pence)),
        "",
        _(
            "It's a fixed {rate} a year ({apr} APR representative), repaid in "
            "equal monthly instalments over {join} or {term_choices} months. "
            "You'll see every instalment before you confirm. /cancel stops."
        ).format(
            rate=RATE,
            apr=APR,
            join=", ".join(map(str, TERM_CHOICES[:-1])),
            term_choices=TERM_CHOICES[-1],
        ),
    ]
    return "\n".join(map(str, lines))


def refusal_text(e: Eligibility) -> str:
    unlock = e.unlock
    if e.refusal is Refusal.UNDER_18 and e.credit_from is not None:
        return under_18_refusal(e.credit_from)
    if e.refusal is Refusal.LOCKED and e.locked_until is not None:
        return locked_refusal(e.locked_until)
    if e.refusal is Refusal.BAND_TOO_LOW:
        lines = [
            _("Sorry — you can't borrow at the moment."),
            _(
                "Your score is {score} ({band}), and the {tier_title} tier doesn't include loans."
            ).format(score=e.score, band=_(e.band), tier_title=_(e.tier_title)),
        ]
        if unlock is not None:
            lines.append(
                _(
                    "A score of {min_score} ({band}) unlocks loans of up to {limit_pence} "
                    "— you're {value} points away."
                ).format(
                    min_score=unlock.min_score,
                    band=_(unlock.band),
                    limit_pence=money(unlock.limit_pence),
                    value=unlock.min_score - e.score,
                )
            )
        lines.append(_("/why shows what's holding your score back and how to raise it."))
        return "\n".join(map(str, lines))
    lines = [
        _("Sorry — you can't borrow more at the moment."),
        _(
            "Your limit is {limit_pence} ({band}, {tier_title} tier) and you still "
            "owe {outstanding_pence} of it, which leaves {available_pence} — less "
            "than the smallest loan, {min_loan_pence}."
        ).format(
            limit_pence=money(e.limit_pence),
            band=_(e.band),
            tier_title=_(e.tier_title),
            outstanding_pence=money(e.outstanding_pence),
            available_pence=money(e.available_pence),
            min_loan_pence=money(MIN_LOAN_PENCE),
        ),
        _("Each instalment you repay frees up its share of your limit: /loans shows what's due."),
    ]
    if unlock is not None:
        lines.append(
            _(
                "A score of {min_score} ({band}) would raise your limit to "
                "{limit_pence}; /why shows how to get there."
            ).format(
                min_score=unlock.min_score,
                band=_(unlock.band),
                limit_pence=money(unlock.limit_pence),
            )
        )
    return "\n".join(map(str, lines))


def term_text(amount_pence: int, monthly: dict[int, int]) -> str:
    lines = [
        _("{amount_pence} it is. Over how long would you like to repay?").format(
            amount_pence=money(amount_pence)
        ),
        "",
    ]
    lines += [
        _("• {months}: {pence} a month").format(months=_months(term), pence=money(pence))
        for term, pence in monthly.items()
    ]
    lines += ["", _("You'll see the full schedule before you confirm. /cancel stops.")]
    return "\n".join(map(str, lines))


def summary_text(application: Application) -> str:
    q = application.quote
    lines = [
        _("📝 Your loan — please check it before you confirm"),
        "",
        _("Amount: {principal_pence}").format(principal_pence=money(q.principal_pence)),
        _("Term: {months}").format(months=_months(q.term_months)),
        _("Interest rate: {percent} a year, fixed").format(percent=_percent(q.annual_rate)),
        _("APR: {apr_percent} (representative)").format(apr_percent=q.apr_percent),
        "",
        _("Repayments:"),
    ]
    lines += [f"{i.number}. {_day(i.due_on)} — {money(i.amount_pence)}" for i in q.instalments]
    lines += [
        "",
        _("Total repayable: {total_repayable_pence}").format(
            total_repayable_pence=money(q.total_repayable_pence)
        ),
        _("Total interest: {total_interest_pence}").format(
            total_interest_pence=money(q.total_interest_pence)
        ),
        *loan_preview_lines(application.preview),
        early_settlement_line(application),
        "",
        _(
            "If an instalment is late, a one-off {late_fee_pence} fee is added and "
            "it counts as missed in your payment history, which lowers your score."
        ).format(late_fee_pence=money(LATE_FEE_PENCE)),
        _("Tap Confirm to take the loan, or Cancel."),
    ]
    return "\n".join(map(str, lines))


def confirmed_text(loan: LoanView) -> str:
    first = loan.instalments[0]
    return "\n".join(
        map(
            str,
            [
                _("✅ Loan confirmed: {principal_pence} over {months}.").format(
                    principal_pence=money(loan.principal_pence), months=_months(loan.term_months)
                ),
                _(
                    "First instalment: {amount_pence} on {day}; {total_repayable_pence} to "
                    "repay in all."
                ).format(
                    amount_pence=money(first.amount_pence),
                    day=_day(first.due_on),
                    total_repayable_pence=money(loan.total_repayable_pence),
                ),
                "",
                _(
                    "I'll remind you 3 days before each instalment and on the day (you can "
                    "turn those reminders off in /settings). /loans shows what's due and "
                    "lets you pay."
                ),
            ],
        )
    )


def paid_text(amount_pence: int, paid: InstalmentView, loan: LoanView | None) -> str:
    lines = [
        _("Thank you — {amount_pence} received for instalment {number}.").format(
            amount_pence=money(amount_pence), number=paid.number
        )
    ]
    due = loan.next_due if loan is not None else None
    if loan is None or due is None:
        lines.append(_("That was the last one: your loan is repaid in full. 🎉"))
    else:
        lines.append(
            _("{remaining_pence} left to pay. Next: {scheduled_pence} due {day}.").format(
                remaining_pence=money(loan.remaining_pence),
                scheduled_pence=money(due.scheduled_pence),
                day=_day(due.due_on),
            )
        )
    return "\n".join(map(str, lines))


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
    return _(
        "{refusal}\n\nType another amount, tap one of the amounts above, or /cancel to stop."
    ).format(refusal=refusal)


def not_made(refusal: str) -> str:
    return _("{refusal}\n\nNo loan was made. /loan shows what you can borrow now.").format(
        refusal=refusal
    )


def pay_label(due: InstalmentView, loan: LoanView, *, several: bool) -> str:
    label = _("Pay {payable_pence} (instalment {number}").format(
        payable_pence=money(due.payable_pence), number=due.number
    )
    # With two loans open, "instalment 1" alone doesn't say which one.
    if several:
        label += _(" of the {principal_pence} loan").format(
            principal_pence=money(loan.principal_pence)
        )
    return label + ")"


def invoice_label(due: InstalmentView) -> str:
    label = _("Instalment {number}").format(number=due.number)
    if due.late_fee_pence:
        label += _(" with {late_fee_pence} late fee").format(
            late_fee_pence=money(due.late_fee_pence)
        )
    return label


def invoice_description(due: InstalmentView) -> str:
    description = _("Instalment {number} of your Britizen loan, due {day}.").format(
        number=due.number, day=_day(due.due_on)
    )
    if due.late_fee_pence:
        description += _(" Includes the {late_fee_pence} late fee.").format(
            late_fee_pence=money(due.late_fee_pence)
        )
    if due.credit_pence:
        description += _(" {credit_pence} of it is already paid from your credit.").format(
            credit_pence=money(due.credit_pence)
        )
    if due.rebate_pence:
        description += _(" Paid early, it costs {rebate_pence} less interest.").format(
            rebate_pence=money(due.rebate_pence)
        )
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
        return _("You don't have any loans. /loan shows what you can borrow.")
    lines = [_("💷 Your loans")]
    for loan in (loan for loan in loans if not loan.repaid):
        paid = sum(1 for i in loan.instalments if i.paid)
        lines += [
            "",
            _("{principal_pence} over {months}, taken {taken}").format(
                principal_pence=money(loan.principal_pence),
                months=_months(loan.term_months),
                taken=_taken(loan, tz),
            ),
            _(
                "Paid {paid_pence} · left to pay {remaining_pence} ({paid} of "
                "{term_months} instalments paid)"
            ).format(
                paid_pence=money(loan.paid_pence),
                remaining_pence=money(loan.remaining_pence),
                paid=paid,
                term_months=loan.term_months,
            ),
        ]
        due = loan.next_due
        if due is not None:
            line = _("Next: {scheduled_pence} due {day}").format(
                scheduled_pence=money(due.scheduled_pence), day=_day(due.due_on)
            )
            if due.late_fee_pence:
                line += _(" — overdue, including a {late_fee_pence} late fee").format(
                    late_fee_pence=money(due.late_fee_pence)
                )
            elif due.due_on < today:
                line += _(" — overdue")
            lines.append(line)
            lines += early_lines(loan)
        if held and loan.id in held:
            lines.append(plan_line(held[loan.id]))
    repaid = [loan for loan in loans if loan.repaid]
    if repaid:
        lines += ["", _("Repaid in full:")]
        lines += [
            _("• {principal_pence} over {months}, taken {taken}").format(
                principal_pence=money(loan.principal_pence),
                months=_months(loan.term_months),
                taken=_taken(loan, tz),
            )
            for loan in repaid
        ]
    extra = ([credit_line(credit_pence)] if credit_pence else []) + (
        [refund_line(refund_pence)] if refund_pence else []
    )
    if extra:
        lines += ["", *extra]
    lines += ["", _("/loan shows what you can borrow.")]
    return "\n".join(map(str, lines))


ASK_NI_TO_CONFIRM = (
    "🔒 One last check, so nobody else can borrow with your phone: type your National "
    "Insurance number (like QQ 12 34 56 C) to confirm the loan. I'll delete your message "
    "straight away. (/cancel stops here: no loan is made.)"
)
TYPE_NI_TOAST = "Type your National Insurance number to confirm."


def wrong_ni(tries_left: int) -> str:
    tries = (
        _("1 more try")
        if tries_left == 1
        else _("{tries_left} more tries").format(tries_left=tries_left)
    )
    return _(
        "That isn't the National Insurance number on your account, so no loan "
        "was made. You have {tries} before borrowing is paused for a day. Type "
        "it again, or /cancel."
    ).format(tries=tries)


# --------------------------------------------------------------------------------------------
# Paying early (services.settlement): the quote, /loans, the Settle invoice and the receipt.


def early_settlement_line(application: Application) -> str:
    q = application.quote
    example = settle_after(q, 1)
    return _(
        "Pay early and you pay less interest: settle in full with your first "
        "instalment on {day} and you'd pay {total_pence} in all, saving "
        "{saving_pence}."
    ).format(
        day=_day(example.on),
        total_pence=money(example.total_pence),
        saving_pence=money(example.saving_pence),
    )


def early_lines(loan: LoanView) -> list[str]:
    """For /loans: what paying early saves on this loan, so far and today."""
    lines = []
    if loan.saved_pence:
        lines.append(
            _("Saved so far by paying early: {saved_pence}").format(
                saved_pence=money(loan.saved_pence)
            )
        )
    if loan.unpaid_count > 1 and loan.settle_saving_pence:
        lines.append(
            _(
                "Settle in full today: {settle_pence} instead of {remaining_pence}, "
                "saving {settle_saving_pence} of interest"
            ).format(
                settle_pence=money(loan.settle_pence),
                remaining_pence=money(loan.remaining_pence),
                settle_saving_pence=money(loan.settle_saving_pence),
            )
        )
    return lines


def settle_label(loan: LoanView, *, several: bool) -> str:
    label = _("Settle in full: {settle_pence}").format(settle_pence=money(loan.settle_pence))
    if several:
        label += _(" (the {principal_pence} loan)").format(
            principal_pence=money(loan.principal_pence)
        )
    return label


SETTLE_INVOICE_LABEL = "Settling your loan in full"


def settle_invoice_description(instalments: int, saving_pence: int) -> str:
    return _(
        "Pays off all {instalments} remaining instalments of your Britizen "
        "loan today, {saving_pence} less interest than paying them on their "
        "dates."
    ).format(instalments=instalments, saving_pence=money(saving_pence))


def early_saving_line(saved_pence: int) -> str:
    return _("Paying early saved you {saved_pence} of interest.").format(
        saved_pence=money(saved_pence)
    )


def settled_text(amount_pence: int, saved_pence: int) -> str:
    lines = [
        _("Thank you — {amount_pence} received: your loan is settled in full. 🎉").format(
            amount_pence=money(amount_pence)
        )
    ]
    if saved_pence:
        lines.append(
            _("Settling early saved you {saved_pence} of interest.").format(
                saved_pence=money(saved_pence)
            )
        )
    return "\n".join(map(str, lines))
