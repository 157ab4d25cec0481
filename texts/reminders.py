"""Loan reminders as the borrower reads them."""

from __future__ import annotations

from datetime import date

from services.loan_terms import LATE_FEE_PENCE
from services.reminder_rules import ReminderKind
from texts.debt_help import reminder_section
from texts.format import money


def reminder_text(
    kind: ReminderKind, due_on: date, today: date, amount_pence: int, fee_pence: int
) -> str:
    when = f"{due_on:%A} {due_on.day} {due_on:%B}"
    total = money(amount_pence + fee_pence)
    if kind is ReminderKind.BEFORE_3_DAYS:
        days = (due_on - today).days
        return (
            f"⏰ Your loan instalment of {total} is due on {when} "
            f"(in {days} day{'s' if days != 1 else ''}). Tap Pay in /loans when you're ready."
        )
    if kind is ReminderKind.DUE_TODAY:
        return f"⏰ Your loan instalment of {total} is due today. Pay it from /loans."
    fee_line = (
        f" A one-off late fee of {money(LATE_FEE_PENCE)} has been added." if fee_pence else ""
    )
    days_late = (today - due_on).days
    return (
        f"⚠️ Your loan instalment due on {when} is {days_late} day{'s' if days_late != 1 else ''} "
        f"overdue: {total} to pay.{fee_line} Paying soon limits the effect on your score. "
        "(Overdue reminders can't be switched off.)\n\n" + reminder_section()
    )
