"""Loan terms: typed amounts, the repayment schedule and the APR. Pure functions, integer pence.

Money is never a float here: amounts are parsed with Decimal and kept as integer pence, interest
is computed in Decimal and rounded to the penny, and the last instalment absorbs the rounding so
the schedule adds up exactly to the total repayable.

The product (documented for citizens in /loan): a fixed nominal rate of ANNUAL_RATE a year,
charged monthly on the outstanding balance, repaid in equal monthly instalments over one of
TERM_CHOICES months; the first instalment falls due one month after the loan starts, on the same
day of the month (or the month's last day when it is shorter). A missed instalment accrues
LATE_FEE_PENCE once.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import texts.credit as credit

MIN_LOAN_PENCE = 2_000  # £20: below this the admin of a loan outweighs its use
TERM_CHOICES = (3, 6, 12)
ANNUAL_RATE = Decimal("0.199")  # 19.9% a year, nominal
LATE_FEE_PENCE = 1_200  # £12, the level UK regulators treat as a fair late fee
AMOUNT_CHOICES_PENCE = (5_000, 10_000, 15_000, 30_000, 50_000)

_PENNY = Decimal("1")
_AMOUNT = re.compile(r"^£?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$")


class InvalidAmount(ValueError):
    """A typed amount we can't accept; the message says what to change."""

    @property
    def message(self) -> str:
        return str(self.args[0])


def parse_amount(raw: str, *, minimum_pence: int, maximum_pence: int) -> int:
    """'£150', '150', '1,000.50' -> pence, within [minimum, maximum]; InvalidAmount otherwise."""
    text = raw.strip().replace(" ", "")
    if not text:
        raise InvalidAmount(credit.AMOUNT_NOT_POUNDS)
    if text.startswith(("-", "£-", "−")):
        raise InvalidAmount(credit.AMOUNT_NEGATIVE)
    match = _AMOUNT.fullmatch(text)
    if match is None:
        if re.fullmatch(r"£?\d+(?:\.\d+)?[eE][+-]?\d+", text):
            raise InvalidAmount(credit.AMOUNT_E_NOTATION)
        if re.fullmatch(r"£?[\d,]*\.\d{3,}", text):
            raise InvalidAmount(credit.AMOUNT_TOO_PRECISE)
        raise InvalidAmount(
            "That doesn't look like an amount. Type it in pounds, like 150 or £150.50."
        )
    whole, pennies = match.group(1).replace(",", ""), (match.group(2) or "0").ljust(2, "0")
    try:
        pence = int(Decimal(whole) * 100 + Decimal(pennies))
    except InvalidOperation:  # pragma: no cover - the pattern only lets digits through
        raise InvalidAmount(credit.AMOUNT_UNREADABLE) from None
    if pence == 0:
        raise InvalidAmount(credit.AMOUNT_ZERO)
    if pence < minimum_pence:
        raise InvalidAmount(credit.amount_under_minimum(minimum_pence))
    if pence > maximum_pence:
        raise InvalidAmount(credit.amount_over_limit(maximum_pence))
    return pence


def add_months(start: date, months: int) -> date:
    """Same day `months` later, or that month's last day when it is shorter (31 Jan -> 28 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Instalment:
    number: int
    due_on: date
    amount_pence: int
    interest_pence: int
    principal_pence: int


@dataclass(frozen=True)
class LoanQuote:
    principal_pence: int
    term_months: int
    annual_rate: Decimal
    apr: Decimal
    """Annual percentage rate of charge as a fraction (0.218 = 21.8%)."""
    instalments: tuple[Instalment, ...]

    @property
    def total_repayable_pence(self) -> int:
        return sum(i.amount_pence for i in self.instalments)

    @property
    def total_interest_pence(self) -> int:
        return self.total_repayable_pence - self.principal_pence

    @property
    def apr_percent(self) -> str:
        return f"{(self.apr * 100).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"


def apr_for(annual_rate: Decimal) -> Decimal:
    """APR of a loan charged monthly at the nominal annual rate with no fees: (1 + r/12)^12 - 1.

    With equal monthly periods and no fees this is the solution of the UK consumer-credit APR
    equation (FCA CONC App 1.2) for any term."""
    monthly = annual_rate / 12
    return (1 + monthly) ** 12 - 1


def quote(
    principal_pence: int, term_months: int, start: date, annual_rate: Decimal = ANNUAL_RATE
) -> LoanQuote:
    """The full repayment schedule for a loan starting on `start`."""
    if principal_pence <= 0:
        raise ValueError("principal must be positive")
    if term_months not in TERM_CHOICES:
        raise ValueError(f"term must be one of {TERM_CHOICES}")
    monthly = annual_rate / 12
    principal = Decimal(principal_pence)
    if monthly == 0:
        level = principal / term_months
    else:
        level = principal * monthly / (1 - (1 + monthly) ** -term_months)
    payment = int(level.quantize(_PENNY, ROUND_HALF_UP))
    balance = principal_pence
    instalments: list[Instalment] = []
    for number in range(1, term_months + 1):
        interest = int((Decimal(balance) * monthly).quantize(_PENNY, ROUND_HALF_UP))
        amount = payment if number < term_months else balance + interest
        principal_part = amount - interest
        balance -= principal_part
        instalments.append(
            Instalment(number, add_months(start, number), amount, interest, principal_part)
        )
    return LoanQuote(
        principal_pence, term_months, annual_rate, apr_for(annual_rate), tuple(instalments)
    )
