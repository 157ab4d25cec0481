"""What the bot says about payment plans ("I can't pay this"): to the borrower who asks, and to
the reviewers in /review."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from texts.debt_help import help_section
from texts.format import day, local_time, money
from texts.i18n import _

if TYPE_CHECKING:
    from services.payment_plans import PlanAsked, PlanQueueItem

PLAN_BUTTON = "🙋 I can't pay this"


def plan_button(principal_pence: int, *, several: bool) -> str:
    # With two loans open, which one it is about.
    return PLAN_BUTTON + (
        _(" ({principal_pence} loan)").format(principal_pence=money(principal_pence))
        if several
        else ""
    )


# -- the borrower ----------------------------------------------------------------------------

NOT_ASKABLE = (
    "There's nothing to ask about here: that instalment is paid, not due yet, or the loan "
    "is closed. /loans shows what's due."
)
ALREADY_ASKED = (
    "You've already asked for a payment plan for this loan. A person at Britizen is looking "
    "at it; reminders are paused and no late fee is added meanwhile. You'll hear back here."
)
ALREADY_AGREED = (
    "You already have an agreed payment plan for this loan: reminders and late fees are "
    "paused. Pay what you agreed from /loans; /debthelp lists free debt advice."
)


def asked_text(asked: PlanAsked) -> str:
    return _(
        "🙋 Thanks for telling us. We've asked for a payment plan for your "
        "{principal_pence} loan (request #{id}, about instalment "
        "{instalment_number}, due {due_on}).\n\nWhat happens next:\n• Reminders "
        "for this loan are paused, and no late fee is added while the request "
        "is open.\n• A person at Britizen will look at it and reply here with a "
        "plan, or with why not.\n• You can still pay anything you can from "
        "/loans at any time.\n\nFree, confidential debt advice can help too: "
        "/debthelp."
    ).format(
        principal_pence=money(asked.principal_pence),
        id=asked.id,
        instalment_number=asked.instalment_number,
        due_on=day(asked.due_on),
    )


def loan_line(status: str) -> str:
    """Under a held loan in /loans."""
    if status == "agreed":
        return _("Payment plan agreed: reminders and late fees are paused for this loan.")
    return _("Payment plan asked for: reminders paused, no late fee while we look at it.")


def outcome_text(request_id: int, principal_pence: int, agreed: bool, note: str) -> str:
    said = _('\n\nFrom Britizen: "{note}"').format(note=note) if note else ""
    if agreed:
        return _(
            "✅ Your payment plan request #{request_id} for your {principal_pence} "
            "loan was agreed.{said}\n\nReminders and late fees stay paused for this "
            "loan. Pay what you agreed from /loans."
        ).format(request_id=request_id, principal_pence=money(principal_pence), said=said)
    return (
        _(
            "Your payment plan request #{request_id} for your {principal_pence} "
            "loan wasn't agreed.{said}\n\nReminders for this loan start again, and "
            "an overdue instalment can have its late fee added. Please talk to an "
            "adviser: it's free.\n\n"
        ).format(request_id=request_id, principal_pence=money(principal_pence), said=said)
        + help_section()
    )


# -- the reviewers ---------------------------------------------------------------------------

AGREE_BUTTON = "Agree plan"
DECLINE_BUTTON = "Decline plan"
NOT_REVIEWABLE = "That payment plan request has already been decided or no longer exists."
LAST_ONE = "That was the last one: no payment plan requests are waiting."


def new_request_text(request_id: int) -> str:
    return _(
        'New payment plan request #{request_id} ("I can\'t pay this"): /review to see it.'
    ).format(request_id=request_id)


def queue_text(item: PlanQueueItem, tz: ZoneInfo) -> str:
    lines = [
        _("🙋 Payment plan request #{id} ({waiting} waiting) from {citizen_name}").format(
            id=item.id, waiting=item.waiting, citizen_name=item.citizen_name
        ),
        _(
            "Loan: {principal_pence} over {term_months} months, {left_to_pay_pence} left to pay"
        ).format(
            principal_pence=money(item.principal_pence),
            term_months=item.term_months,
            left_to_pay_pence=money(item.left_to_pay_pence),
        ),
    ]
    if item.instalment_number is not None and item.due_on is not None:
        lines.append(
            _("Can't pay: instalment {instalment_number}, due {due_on}").format(
                instalment_number=item.instalment_number, due_on=day(item.due_on)
            )
            + (
                _(", {payable_pence} to pay").format(payable_pence=money(item.payable_pence))
                if item.payable_pence
                else _(" (now paid)")
            )
        )
    lines += [
        _("Asked: {created_at}").format(created_at=local_time(item.created_at, tz)),
        "",
        _(
            "While it's open, this loan's reminders are paused and no late fee is "
            "added. Agree (they keep the pause) or decline (reminders resume); "
            "you'll write a note for them."
        ),
    ]
    return "\n".join(map(str, lines))


def ask_note(request_id: int, *, agreed: bool) -> str:
    what = _("the plan: how much, and when") if agreed else _("why, and what they could do instead")
    return _(
        "{value} payment plan request #{request_id}. Type a note for the "
        "borrower ({what}); they will see it. /cancel to decide later."
    ).format(value=_("Agreeing") if agreed else _("Declining"), request_id=request_id, what=what)


def decided(request_id: int, *, agreed: bool) -> str:
    return _(
        "Payment plan request #{request_id} {value}; the borrower has been told, with your note."
    ).format(request_id=request_id, value="agreed" if agreed else "declined")
