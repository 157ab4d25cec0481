"""What if…: the simulation is deterministic, scores with the model itself, and moves the score
the way each change must (a miss never raises it, paying on time never lowers it)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.model import (
    FRIEND_INFLUENCE_CAP,
    SCORE_MAX,
    SCORE_MIN,
    CitizenInputs,
    GraphFeatures,
    Outcome,
    PaymentEvent,
    PaymentKind,
    PopulationInputs,
    score,
    score_population,
)
from scoring.whatif import (
    Change,
    Due,
    Situation,
    a_year_after,
    add_friend,
    borrow,
    loan_preview,
    miss_payment,
    pay_off,
    project,
    what_if,
    year_on_time,
)
from services.loan_terms import LATE_FEE_PENCE, TERM_CHOICES, quote

AS_OF = date(2026, 11, 21)
LIMITS = (0, 5_000, 15_000, 30_000, 50_000)  # the tiers' loan limits


def schedule(amount: int, term: int, start: date = AS_OF) -> list[tuple[date, int]]:
    return [(i.due_on, i.amount_pence) for i in quote(amount, term, start).instalments]


def new_citizen(**changes: Any) -> Situation:
    """Registered 20 days ago, verified, nothing else: the starting 600, a Good tier's limit."""
    inputs = CitizenInputs(verified=True, registered_on=AS_OF - timedelta(days=20))
    inputs = replace(inputs, limit_pence=15_000, **changes)
    return Situation(inputs, AS_OF)


# --------------------------------------------------------------------------------------------
# Strategies: a person as the database would describe them


@st.composite
def situations(draw: st.DrawFn) -> Situation:
    as_of = draw(st.dates(date(2024, 1, 1), date(2030, 12, 31)))
    dues: list[Due] = []
    for _ in range(draw(st.integers(0, 8))):
        due_on = as_of + timedelta(days=draw(st.integers(-120, 400)))
        # Overdue is marked missed (with its fee) by the reminders job, as in the database.
        missed = due_on < as_of
        amount = draw(st.integers(500, 20_000))
        dues.append(Due(due_on, amount + (LATE_FEE_PENCE if missed else 0), missed))
    events = [
        PaymentEvent(
            as_of - timedelta(days=draw(st.integers(0, 3000))),
            draw(st.sampled_from(Outcome)),
            draw(st.sampled_from(PaymentKind)),
        )
        for _ in range(draw(st.integers(0, 25)))
    ]
    # A recorded miss has its missed event on its due date, as the repayments service files it.
    events += [
        PaymentEvent(d.due_on, Outcome.MISSED, PaymentKind.LOAN_INSTALMENT)
        for d in dues
        if d.missed
    ]
    friends = draw(st.integers(0, 40))
    graph = GraphFeatures(
        friend_count=friends,
        friends_mean_score=draw(st.none() | st.floats(350, 950)) if friends else None,
        pagerank=draw(st.floats(0.1, 20)) if friends else 1.0,
        effective_size=draw(st.floats(0, friends)) if friends else 0.0,
    )
    overdue_loans = len({d.due_on for d in dues if d.due_on < as_of - timedelta(days=30)})
    inputs = CitizenInputs(
        verified=draw(st.booleans()),
        registered_on=as_of - timedelta(days=draw(st.integers(0, 2000))),
        payments=tuple(events),
        outstanding_pence=sum(d.owed_pence for d in dues),
        limit_pence=draw(st.sampled_from(LIMITS)),
        defaults=min(overdue_loans, 3),
        upheld_disputes=draw(st.integers(0, 3)),
        vouchers_redeemed=draw(st.integers(0, 10)),
        verified_referrals=draw(st.integers(0, 6)),
        graph=graph,
    )
    return Situation(inputs, as_of, tuple(dues))


loans = st.tuples(st.integers(2_000, 50_000), st.sampled_from(TERM_CHOICES))


# --------------------------------------------------------------------------------------------
# Hand-worked


def test_a_new_citizens_first_loan_hand_worked() -> None:
    """£100 over 6 months (£105.88 to repay) against a £150 limit, for a new citizen at 600."""
    preview = loan_preview(new_citizen(), schedule(10_000, 6), LATE_FEE_PENCE)
    assert (preview.now.score, preview.now.band) == (600, "Good")
    # Owing 10588 of 15000 (70.6%): commitments 40 - 70.6 = -31.
    assert (preview.borrowed.score, preview.borrowed.band) == (569, "Fair")
    # One miss: -45, and owing 11788 with the £12 fee (78.6%): commitments -39.
    assert (preview.one_missed.score, preview.one_missed.band) == (516, "Poor")
    # A year on: all six paid on their due dates, nothing owed, 385 days a member, and the
    # loan repaid in full (owing nothing after a repaid loan tops the commitments line).
    year = preview.year_on_time
    assert year.as_of == date(2027, 11, 21)
    expected = score(
        CitizenInputs(
            verified=True,
            registered_on=AS_OF - timedelta(days=20),
            limit_pence=15_000,
            repaid_loans=1,
            payments=tuple(
                PaymentEvent(due_on, Outcome.ON_TIME, PaymentKind.LOAN_INSTALMENT)
                for due_on, _ in schedule(10_000, 6)
            ),
        ),
        as_of=date(2027, 11, 21),
    )
    assert year.score == expected.score > preview.now.score
    assert expected.dimension("account_standing").points == 20 + 40 * 385 // 1095


def test_the_changes_say_what_they_do() -> None:
    owing = borrow(new_citizen(), schedule(10_000, 3))
    assert owing.inputs.outstanding_pence == sum(d.owed_pence for d in owing.dues) > 10_000

    paid = pay_off(owing)
    assert paid.dues == () and paid.inputs.outstanding_pence == 0 and paid.as_of == AS_OF
    assert [p.outcome for p in paid.inputs.payments] == [Outcome.ON_TIME] * 3
    assert all(p.due_on == AS_OF for p in paid.inputs.payments)

    missed = miss_payment(owing, LATE_FEE_PENCE)
    assert missed.inputs.outstanding_pence == owing.inputs.outstanding_pence + LATE_FEE_PENCE
    assert missed.inputs.payments == (
        PaymentEvent(AS_OF, Outcome.MISSED, PaymentKind.LOAN_INSTALMENT),
    )
    assert [d.missed for d in missed.dues] == [True, False, False]
    # With nothing owed, the miss is a bill and no fee is owed.
    bill = miss_payment(new_citizen(), LATE_FEE_PENCE)
    assert bill.inputs.payments[0].kind is PaymentKind.BILL
    assert bill.inputs.outstanding_pence == 0

    friend = add_friend(new_citizen())
    assert friend.inputs.graph.friend_count == 1
    assert friend.inputs.graph.friends_mean_score == 600
    assert friend.inputs.graph.effective_size == 1.0


def test_an_overdue_instalment_paid_off_turns_its_miss_into_a_late_payment() -> None:
    due = AS_OF - timedelta(days=40)
    miss = PaymentEvent(due, Outcome.MISSED, PaymentKind.LOAN_INSTALMENT)
    owing = new_citizen(payments=(miss,), outstanding_pence=3_000, defaults=1)
    owing = replace(owing, dues=(Due(due, 3_000, missed=True),))
    paid = pay_off(owing)
    assert paid.inputs.payments == (PaymentEvent(AS_OF, Outcome.LATE, PaymentKind.LOAN_INSTALMENT),)
    assert paid.inputs.defaults == 0 and paid.inputs.outstanding_pence == 0
    assert project(paid).score > project(owing).score


def test_a_year_after_handles_the_leap_day() -> None:
    assert a_year_after(date(2028, 2, 29)) == date(2029, 2, 28)
    assert a_year_after(date(2026, 11, 21)) == date(2027, 11, 21)


def test_paying_off_nothing_is_refused() -> None:
    with pytest.raises(ValueError):
        what_if(new_citizen(), Change.PAY_OFF, LATE_FEE_PENCE)


# --------------------------------------------------------------------------------------------
# Properties


@given(situations())
def test_projection_is_the_nightly_pass_kernel(situation: Situation) -> None:
    kernel = score_population(PopulationInputs.from_citizens([situation.inputs], situation.as_of))
    assert project(situation).score == int(kernel.score[0])
    assert project(situation).band == kernel.band_name(0)


@given(situations(), loans)
def test_previews_are_deterministic(situation: Situation, loan: tuple[int, int]) -> None:
    plan = schedule(*loan, start=situation.as_of)
    assert loan_preview(situation, plan, LATE_FEE_PENCE) == loan_preview(
        situation, plan, LATE_FEE_PENCE
    )
    for change in Change:
        if change is not Change.PAY_OFF or situation.owes:
            first = what_if(situation, change, LATE_FEE_PENCE)
            assert first == what_if(situation, change, LATE_FEE_PENCE)


@given(situations(), loans)
def test_a_missed_payment_never_raises_the_score(
    situation: Situation, loan: tuple[int, int]
) -> None:
    preview = loan_preview(situation, schedule(*loan, start=situation.as_of), LATE_FEE_PENCE)
    assert preview.one_missed.score <= preview.borrowed.score
    assert what_if(situation, Change.MISS, LATE_FEE_PENCE).difference <= 0


@given(situations(), loans)
def test_a_year_on_time_beats_the_same_year_with_the_loan_unpaid(
    situation: Situation, loan: tuple[int, int]
) -> None:
    """Paying on time always counts for more than not paying (the loan's instalments missed
    on their due dates, each with its fee)."""
    plan = schedule(*loan, start=situation.as_of)
    after = borrow(situation, plan)
    on_time = year_on_time(after)
    later = on_time.as_of
    unpaid = [(due_on, amount) for due_on, amount in plan if due_on <= later]
    misses = tuple(
        PaymentEvent(due_on, Outcome.MISSED, PaymentKind.LOAN_INSTALMENT) for due_on, _ in unpaid
    )
    not_paid = Situation(
        replace(
            after.inputs,
            payments=after.inputs.payments + misses,
            outstanding_pence=after.inputs.outstanding_pence + LATE_FEE_PENCE * len(unpaid),
        ),
        later,
        after.dues,
    )
    assert project(on_time).score >= project(not_paid).score


@given(situations(), loans)
def test_a_year_on_time_never_lowers_a_new_borrowers_score(
    situation: Situation, loan: tuple[int, int]
) -> None:
    """For someone borrowing for the first time with nothing paid on time to fade yet, a year
    of on-time repayment ends at least where borrowing left them (their older on-time payments
    fading is the only thing that can pull a year on below it, and they have none)."""
    fresh = Situation(
        replace(
            situation.inputs,
            payments=tuple(p for p in situation.inputs.payments if p.outcome != Outcome.ON_TIME),
            outstanding_pence=0,
            defaults=0,
        ),
        situation.as_of,
    )
    preview = loan_preview(fresh, schedule(*loan, start=fresh.as_of), LATE_FEE_PENCE)
    assert preview.year_on_time.score >= preview.borrowed.score


@given(situations())
def test_paying_off_clears_what_is_owed_and_only_the_utilisation_line_can_cost(
    situation: Situation,
) -> None:
    if not situation.owes:
        return
    paid = pay_off(situation)
    assert paid.inputs.outstanding_pence == 0 and paid.dues == ()
    assert paid.inputs.defaults == 0
    before = score(situation.inputs, as_of=situation.as_of)
    after = score(paid.inputs, as_of=paid.as_of)
    for key in ("payment_history", "account_standing", "community", "connections"):
        assert after.dimension(key).points >= before.dimension(key).points
    assert after.dimension("commitments").points >= min(0, before.dimension("commitments").points)


@given(situations())
def test_a_new_friend_moves_the_score_within_the_friend_cap(situation: Situation) -> None:
    result = what_if(situation, Change.FRIEND, LATE_FEE_PENCE)
    before = score(situation.inputs, as_of=situation.as_of).dimension("connections").points
    after = score(add_friend(situation).inputs, as_of=situation.as_of)
    assert abs(after.dimension("connections").points) <= FRIEND_INFLUENCE_CAP
    moved = after.dimension("connections").points - before
    # Only the connections part moves (the 350-950 clamp can swallow it at either end).
    assert result.difference == after.score - project(situation).score
    assert abs(result.difference) <= abs(moved)
    if SCORE_MIN < result.then.score < SCORE_MAX and SCORE_MIN < result.now.score < SCORE_MAX:
        assert result.difference == moved
