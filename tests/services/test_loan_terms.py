"""Loan terms: amounts, schedules and APR, exact to the penny."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.loan_terms import (
    TERM_CHOICES,
    InvalidAmount,
    add_months,
    apr_for,
    parse_amount,
    quote,
)
from texts.format import money

LIMITS = {"minimum_pence": 2_000, "maximum_pence": 50_000}


@pytest.mark.parametrize(
    ("raw", "pence"),
    [
        ("150", 15_000),
        ("£150", 15_000),
        ("£ 150.5", 15_050),
        ("150.50", 15_050),
        ("20", 2_000),
        ("500.00", 50_000),
        (" 99.99 ", 9_999),
        ("1,00", None),
    ],
)
def test_amounts_people_type(raw: str, pence: int | None) -> None:
    if pence is None:
        with pytest.raises(InvalidAmount):
            parse_amount(raw, **LIMITS)
    else:
        assert parse_amount(raw, **LIMITS) == pence


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("", "type an amount"),
        ("-50", "negative"),
        ("£-50", "negative"),
        ("1e9", "e-notation"),
        ("1.5E2", "e-notation"),
        ("150.555", "2 decimal places"),
        ("0", "more than £0"),
        ("0.00", "more than £0"),
        ("19.99", "smallest loan is £20.00"),
        ("500.01", "limit is £500.00"),
        ("1,000", "limit is £500.00"),
        ("fifty", "doesn't look like an amount"),
        ("NaN", "doesn't look like an amount"),
        ("inf", "doesn't look like an amount"),
    ],
)
def test_refusals_say_what_to_change(raw: str, says: str) -> None:
    with pytest.raises(InvalidAmount, match=says):
        parse_amount(raw, **LIMITS)


def test_money() -> None:
    assert money(0) == "£0.00"
    assert money(123_456) == "£1,234.56"
    assert money(-5) == "-£0.05"


@pytest.mark.parametrize(
    ("start", "months", "due"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 11, 21), 2, date(2027, 1, 21)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 12, 15), 12, date(2027, 12, 15)),
    ],
)
def test_monthly_due_dates_clamp_to_month_end(start: date, months: int, due: date) -> None:
    assert add_months(start, months) == due


def test_a_known_schedule() -> None:
    loan = quote(15_000, 6, date(2026, 11, 21))
    assert [i.due_on for i in loan.instalments][:2] == [date(2026, 12, 21), date(2027, 1, 21)]
    # Level payment P·r / (1 − (1 + r)^−n) with r = 19.9% / 12 is £26.4709…; the last instalment
    # takes the pennies of rounding.
    assert [i.amount_pence for i in loan.instalments] == [2_647] * 5 + [2_648]
    assert loan.total_repayable_pence == 15_883
    assert loan.apr_percent == "21.8%"


def test_apr_matches_the_effective_annual_rate() -> None:
    assert apr_for(Decimal("0.12")) == pytest.approx(Decimal("0.126825030"), abs=Decimal("1e-9"))
    assert apr_for(Decimal(0)) == 0


@given(
    principal=st.integers(min_value=2_000, max_value=50_000),
    term=st.sampled_from(TERM_CHOICES),
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31)),
)
def test_every_schedule_adds_up_to_the_penny(principal: int, term: int, start: date) -> None:
    loan = quote(principal, term, start)
    assert len(loan.instalments) == term
    assert sum(i.principal_pence for i in loan.instalments) == principal
    assert loan.total_repayable_pence == principal + sum(i.interest_pence for i in loan.instalments)
    amounts = [i.amount_pence for i in loan.instalments]
    assert max(amounts) - min(amounts) <= term  # level instalments, last one absorbs rounding
    dues = [i.due_on for i in loan.instalments]
    assert dues == sorted(dues) and dues[0] > start
    assert all(isinstance(a, int) and a > 0 for a in amounts)
