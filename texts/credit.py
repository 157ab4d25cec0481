"""What a 15-17-year-old reads about credit: when it unlocks, and that nothing else changes."""

from __future__ import annotations

from datetime import date, datetime

from texts.format import day


def under_18_refusal(credit_from: date) -> str:
    return (
        "Sorry — Britizen loans are for people aged 18 or over, so you can't borrow yet.\n"
        f"You can apply from {day(credit_from)}, your 18th birthday.\n"
        "Until then everything else works as usual: your score, friends, offers and vouchers."
    )


def under_18_benefits(credit_from: date) -> str:
    return (
        "\nCredit (Britizen loans and deposit-free contracts) is for adults: it unlocks on "
        f"{day(credit_from)}, your 18th birthday. Everything else here is yours now."
    )


def locked_refusal(until: datetime) -> str:
    """`until` in the reader's time zone."""
    return (
        "Borrowing is paused after three wrong National Insurance numbers when confirming a "
        f"loan. You can borrow again from {until:%H:%M} on {day(until.date())}.\n"
        "If that wasn't you, someone may have your phone: /dispute lets you tell us."
    )
