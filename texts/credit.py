"""What a 15-17-year-old reads about credit: when it unlocks, and that nothing else changes."""

from __future__ import annotations

from datetime import date, datetime

from texts.format import day, money


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


# Amounts typed at /loan (services.loan_terms.parse_amount) and refusals of the loan itself.
AMOUNT_NOT_POUNDS = "Please type an amount in pounds, for example 150 or £150.50."
AMOUNT_NEGATIVE = "The amount can't be negative."
AMOUNT_E_NOTATION = "Please write the amount out in full, like 150, not in e-notation."
AMOUNT_TOO_PRECISE = "Amounts have at most 2 decimal places (pence), like 150.50."
AMOUNT_UNREADABLE = "That doesn't look like an amount."
AMOUNT_ZERO = "The amount must be more than £0."
NOT_REGISTERED_TO_BORROW = "You need to be registered to borrow. Send /start to join."


def amount_under_minimum(minimum_pence: int) -> str:
    return f"The smallest loan is {money(minimum_pence)}."


def amount_over_limit(maximum_pence: int) -> str:
    return f"Your limit is {money(maximum_pence)}: please choose less."


def over_available(available_pence: int) -> str:
    return (
        f"That would take you over your limit: you can borrow up to {money(available_pence)} now."
    )
