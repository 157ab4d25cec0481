"""What /help, the command menu and /cancel say."""

from __future__ import annotations

from texts.debt_help import help_section
from texts.i18n import _

# Order is the order people see in Telegram's menu and in /help.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Join Britizen, or see the welcome again"),
    ("score", "Your score, band and when it was computed"),
    ("why", "What makes up your score and how to raise it"),
    ("history", "A chart of your score over time"),
    ("benefits", "What your tier unlocks and what's next"),
    ("boost", "Add rent and council tax: invite your landlord or council"),
    ("loan", "Borrow a small amount, within your band's limit"),
    ("loans", "Your loans: what's due, and pay an instalment"),
    ("debthelp", "Free debt advice, and asking us for a payment plan"),
    ("invite", "Your invite link and QR code"),
    ("friends", "Your friends; add or remove friends"),
    ("compare", "Compare your score with a friend's"),
    ("leaderboard", "Where you rank among your friends"),
    ("contest", "The referral contest: join, and see the leaderboard"),
    ("offers", "Sponsor offers for you, and your voucher codes"),
    ("settings", "Who sees your score, leaderboards, requests, loan reminders, offers"),
    ("share", "A one-time code for a yes/no check (or your score); who has asked"),
    ("mydata", "A file with everything we hold about you"),
    ("dispute", "Contest part of your score, an event or a decision"),
    ("reportni", "Someone registered with your NI number? Report it"),
    ("nireply", "Answer a report that your account's NI number is someone else's"),
    ("delete", "Erase your account"),
    ("language", "Cymraeg / English: the language I speak to you in"),
    ("help", "What I can do"),
    ("cancel", "Stop what you're doing"),
)


def help_text(*, registered: bool = True) -> str:
    lines = [_("Here's what I can do:"), ""]
    lines += [f"/{name} — {description}" for name, description in COMMANDS]
    lines += ["", _("Buttons under my messages do the same as typing."), "", help_section()]
    text = "\n".join(map(str, lines))
    if not registered:
        text += _("\n\nYou're not registered yet: send /start to join.")
    return text


# /cancel
NOTHING_TO_CANCEL = "There's nothing to cancel. /help lists what I can do."
REGISTRATION_CANCELLED = (
    "Registration cancelled and nothing from it was kept. Send /start whenever you want to join."
)
LOAN_CANCELLED = "Loan application cancelled: no loan was made. /loan starts again."
CANCELLED = "Cancelled."
