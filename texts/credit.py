"""What a 15-17-year-old reads about credit: when it unlocks, and that nothing else changes."""

from __future__ import annotations

from datetime import date, datetime

from texts.format import day, money
from texts.i18n import _


def under_18_refusal(credit_from: date) -> str:
    return _(
        "Sorry — Britizen loans are for people aged 18 or over, so you can't "
        "borrow yet.\nYou can apply from {credit_from}, your 18th "
        "birthday.\nUntil then everything else works as usual: your score, "
        "friends, offers and vouchers."
    ).format(credit_from=day(credit_from))


def under_18_benefits(credit_from: date) -> str:
    return _(
        "\nCredit (Britizen loans and deposit-free contracts) is for adults: it "
        "unlocks on {credit_from}, your 18th birthday. Everything else here is "
        "yours now."
    ).format(credit_from=day(credit_from))


def locked_refusal(until: datetime) -> str:
    """`until` in the reader's time zone."""
    return _(
        "Borrowing is paused after three wrong National Insurance numbers when "
        "confirming a loan. You can borrow again from {until:%H:%M} on "
        "{day}.\nIf that wasn't you, someone may have your phone: /dispute lets "
        "you tell us."
    ).format(until=until, day=day(until.date()))


# Amounts typed at /loan (services.loan_terms.parse_amount) and refusals of the loan itself.
AMOUNT_NOT_POUNDS = "Please type an amount in pounds, for example 150 or £150.50."
AMOUNT_NEGATIVE = "The amount can't be negative."
AMOUNT_E_NOTATION = "Please write the amount out in full, like 150, not in e-notation."
AMOUNT_TOO_PRECISE = "Amounts have at most 2 decimal places (pence), like 150.50."
AMOUNT_UNREADABLE = "That doesn't look like an amount."
AMOUNT_ZERO = "The amount must be more than £0."
NOT_REGISTERED_TO_BORROW = "You need to be registered to borrow. Send /start to join."


def amount_under_minimum(minimum_pence: int) -> str:
    return _("The smallest loan is {minimum_pence}.").format(minimum_pence=money(minimum_pence))


def amount_over_limit(maximum_pence: int) -> str:
    return _("Your limit is {maximum_pence}: please choose less.").format(
        maximum_pence=money(maximum_pence)
    )


def over_available(available_pence: int) -> str:
    return _(
        "That would take you over your limit: you can borrow up to {available_pence} now."
    ).format(available_pence=money(available_pence))
