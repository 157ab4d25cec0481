"""What the bot says about payment plans ("I can't pay this"): to the borrower who asks, and to
the reviewers in /review."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from texts.debt_help import help_section
from texts.format import day, local_time, money

if TYPE_CHECKING:
    from services.payment_plans import PlanAsked, PlanQueueItem

PLAN_BUTTON = "🙋 I can't pay this"


def plan_button(principal_pence: int, *, several: bool) -> str:
    # With two loans open, which one it is about.
    return PLAN_BUTTON + (f" ({money(principal_pence)} loan)" if several else "")


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
    return (
        f"🙋 Thanks for telling us. We've asked for a payment plan for your "
        f"{money(asked.principal_pence)} loan (request #{asked.id}, about instalment "
        f"{asked.instalment_number}, due {day(asked.due_on)}).\n\n"
        "What happens next:\n"
        "• Reminders for this loan are paused, and no late fee is added while the request "
        "is open.\n"
        "• A person at Britizen will look at it and reply here with a plan, or with why not.\n"
        "• You can still pay anything you can from /loans at any time.\n\n"
        "Free, confidential debt advice can help too: /debthelp."
    )


def loan_line(status: str) -> str:
    """Under a held loan in /loans."""
    if status == "agreed":
        return "Payment plan agreed: reminders and late fees are paused for this loan."
    return "Payment plan asked for: reminders paused, no late fee while we look at it."


def outcome_text(request_id: int, principal_pence: int, agreed: bool, note: str) -> str:
    said = f'\n\nFrom Britizen: "{note}"' if note else ""
    if agreed:
        return (
            f"✅ Your payment plan request #{request_id} for your {money(principal_pence)} loan "
            f"was agreed.{said}\n\nReminders and late fees stay paused for this loan. Pay what "
            "you agreed from /loans."
        )
    return (
        f"Your payment plan request #{request_id} for your {money(principal_pence)} loan "
        f"wasn't agreed.{said}\n\nReminders for this loan start again, and an overdue "
        "instalment can have its late fee added. Please talk to an adviser: it's free.\n\n"
        + help_section()
    )


# -- the reviewers ---------------------------------------------------------------------------

AGREE_BUTTON = "Agree plan"
DECLINE_BUTTON = "Decline plan"
NOT_REVIEWABLE = "That payment plan request has already been decided or no longer exists."
LAST_ONE = "That was the last one: no payment plan requests are waiting."


def new_request_text(request_id: int) -> str:
    return f'New payment plan request #{request_id} ("I can\'t pay this"): /review to see it.'


def queue_text(item: PlanQueueItem, tz: ZoneInfo) -> str:
    lines = [
        f"🙋 Payment plan request #{item.id} ({item.waiting} waiting) from {item.citizen_name}",
        f"Loan: {money(item.principal_pence)} over {item.term_months} months, "
        f"{money(item.left_to_pay_pence)} left to pay",
    ]
    if item.instalment_number is not None and item.due_on is not None:
        lines.append(
            f"Can't pay: instalment {item.instalment_number}, due {day(item.due_on)}"
            + (f", {money(item.payable_pence)} to pay" if item.payable_pence else " (now paid)")
        )
    lines += [
        f"Asked: {local_time(item.created_at, tz)}",
        "",
        "While it's open, this loan's reminders are paused and no late fee is added. Agree "
        "(they keep the pause) or decline (reminders resume); you'll write a note for them.",
    ]
    return "\n".join(lines)


def ask_note(request_id: int, *, agreed: bool) -> str:
    what = "the plan: how much, and when" if agreed else "why, and what they could do instead"
    return (
        f"{'Agreeing' if agreed else 'Declining'} payment plan request #{request_id}. Type a "
        f"note for the borrower ({what}); they will see it. /cancel to decide later."
    )


def decided(request_id: int, *, agreed: bool) -> str:
    return (
        f"Payment plan request #{request_id} {'agreed' if agreed else 'declined'}; the "
        "borrower has been told, with your note."
    )
