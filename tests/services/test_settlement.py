"""Early repayment arithmetic (issue 16): hand-worked examples, and properties. Totals add up to
the penny, the rebate is never negative, settling earlier never costs more, paying in part and
settling agree, and the figure is never more than the Consumer Credit (Early Settlement)
Regulations 2004 would allow the lender to ask."""

from __future__ import annotations

import math
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.loan_terms import TERM_CHOICES, LoanQuote, quote
from services.settlement import (
    Due,
    early_price,
    early_rebate,
    loan_apr,
    settle_after,
    settlement,
)

START = date(2026, 11, 21)


def _remaining(q: LoanQuote, paid: int = 0) -> list[Due]:
    return [Due(i.amount_pence, i.due_on) for i in q.instalments[paid:]]


def test_the_worked_example_in_the_module_docstring() -> None:
    q = quote(10_000, 6, START)
    assert [i.amount_pence for i in q.instalments] == [1765] * 5 + [1763]
    first = q.instalments[0].due_on
    prices = [early_price(i.amount_pence, i.due_on, first, q.apr) for i in q.instalments[1:]]
    assert prices == [1735, 1706, 1681, 1653, 1624]
    # By hand: 17.65 / 1.218192...**(31/365) = 17.3566 -> £17.35 (rounded down).
    assert math.floor(1765 / (1 + float(q.apr)) ** (31 / 365)) == 1735
    example = settle_after(q, 1)
    assert (example.on, example.total_pence, example.saving_pence) == (first, 10_164, 424)
    assert example.total_pence + example.saving_pence == q.total_repayable_pence == 10_588


def test_hand_worked_three_months() -> None:
    # £50 over 3 months: £17.22, £17.22, £17.23 (£51.67). Settled with the first instalment on
    # 21 Dec: 17.22 / 1.218192**(31/365) = 16.9338 -> £16.93; 17.23 / 1.218192**(62/365) =
    # 16.6619 -> £16.66. £17.22 + £16.93 + £16.66 = £50.81, saving £0.86.
    q = quote(5_000, 3, START)
    assert [i.amount_pence for i in q.instalments] == [1722, 1722, 1723]
    example = settle_after(q, 1)
    assert (example.total_pence, example.saving_pence) == (5_081, 86)
    # On or after the due date nothing is discounted; a day early, a little.
    due = q.instalments[0].due_on
    assert early_price(1722, due, due, q.apr) == 1722
    assert early_price(1722, due, due + timedelta(days=9), q.apr) == 1722
    assert early_rebate(1722, due, due - timedelta(days=1), q.apr) == 1  # 0.9 rounded in favour


def test_the_stored_rate_gives_the_quote_apr() -> None:
    assert loan_apr(1990) == quote(10_000, 3, START).apr


loans = st.builds(
    quote,
    principal_pence=st.integers(2_000, 500_000),
    term_months=st.sampled_from(TERM_CHOICES),
    start=st.dates(date(2024, 1, 1), date(2030, 12, 31)),
)


def _regulations(remaining: list[Due], settlement_date: date, apr: float) -> float:
    """Reg. 4 of the 2004 Regulations, by an independent route: each repayment due after the
    settlement date discounted at the APR, time in years; repayments already due in full."""
    total = 0.0
    for d in remaining:
        years = (d.due_on - settlement_date).days / 365
        total += d.amount_pence / (1 + apr) ** years if years > 0 else d.amount_pence
    return total


@settings(max_examples=200, deadline=None)
@given(loans, st.integers(0, 400), st.integers(0, 12))
def test_totals_add_up_the_rebate_is_never_negative_and_never_worse_than_the_regulations(
    q: LoanQuote, offset: int, paid: int
) -> None:
    paid = min(paid, q.term_months - 1)
    today = q.instalments[0].due_on - timedelta(days=31) + timedelta(days=offset)
    remaining = _remaining(q, paid)
    s = settlement(remaining, today, q.apr)
    assert s.settle_pence + s.rebate_pence == s.scheduled_pence  # to the penny
    assert s.scheduled_pence == sum(i.amount_pence for i in q.instalments[paid:])
    assert 0 <= s.rebate_pence <= s.scheduled_pence
    for d in remaining:
        assert 0 <= early_rebate(d.amount_pence, d.due_on, today, q.apr) <= d.amount_pence
    exact = _regulations(remaining, today, float(q.apr))
    # The same day, no deferral: at most the Regulations' figure, less than a penny an
    # instalment below it (each rounded down).
    assert s.settle_pence <= exact + 1e-6
    assert exact - s.settle_pence < len(remaining)
    # The Regulations let the lender put the settlement date 28 days later: never more than that.
    assert s.settle_pence <= _regulations(remaining, today + timedelta(days=28), float(q.apr))


@settings(max_examples=200, deadline=None)
@given(loans, st.integers(0, 400), st.integers(0, 400), st.integers(0, 12))
def test_settling_earlier_never_costs_more(q: LoanQuote, a: int, b: int, split: int) -> None:
    first = q.instalments[0].due_on - timedelta(days=31)
    earlier, later = sorted((first + timedelta(days=a), first + timedelta(days=b)))
    remaining = _remaining(q)
    assert (
        settlement(remaining, earlier, q.apr).settle_pence
        <= settlement(remaining, later, q.apr).settle_pence
    )
    # Paying some instalments early and settling the rest the same day costs what settling
    # all of them does: in part or in full, the same rule.
    split = min(split, len(remaining))
    part = sum(early_price(d.amount_pence, d.due_on, earlier, q.apr) for d in remaining[:split])
    rest = settlement(remaining[split:], earlier, q.apr).settle_pence
    assert part + rest == settlement(remaining, earlier, q.apr).settle_pence


@settings(max_examples=100, deadline=None)
@given(loans)
def test_settling_after_more_months_never_costs_less(q: LoanQuote) -> None:
    """Paying on the due dates and settling at month m: the total grows with m, and never
    exceeds the total repayable (settling at the end is just paying as scheduled)."""
    totals = [settle_after(q, m).total_pence for m in range(1, q.term_months + 1)]
    assert totals == sorted(totals)
    assert totals[-1] == q.total_repayable_pence
    assert all(settle_after(q, m).saving_pence >= 0 for m in range(1, q.term_months + 1))
