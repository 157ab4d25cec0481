"""Loan reminders as the borrower reads them."""

from __future__ import annotations

from datetime import date

from services.loan_terms import LATE_FEE_PENCE
from services.reminder_rules import ReminderKind
from texts.debt_help import reminder_section
from texts.format import long_day, money, plural_s
from texts.i18n import _


def reminder_text(
    kind: ReminderKind, due_on: date, today: date, amount_pence: int, fee_pence: int
) -> str:
    when = long_day(due_on)
    total = money(amount_pence + fee_pence)
    if kind is ReminderKind.BEFORE_3_DAYS:
        days = (due_on - today).days
        return _(
            "⏰ Your loan instalment of {total} is due on {when} (in {days} "
            "day{value}). Tap Pay in /loans when you're ready."
        ).format(total=total, when=when, days=days, value=plural_s(days))
    if kind is ReminderKind.DUE_TODAY:
        return _("⏰ Your loan instalment of {total} is due today. Pay it from /loans.").format(
            total=total
        )
    fee_line = (
        _(" A one-off late fee of {late_fee_pence} has been added.").format(
            late_fee_pence=money(LATE_FEE_PENCE)
        )
        if fee_pence
        else ""
    )
    days_late = (today - due_on).days
    return (
        _(
            "⚠️ Your loan instalment due on {when} is {days_late} day{value} "
            "overdue: {total} to pay.{fee_line} Paying soon limits the effect on "
            "your score. (Overdue reminders can't be switched off.)\n\n"
        ).format(
            when=when,
            days_late=days_late,
            value=plural_s(days_late),
            total=total,
            fee_line=fee_line,
        )
        + reminder_section()
    )
