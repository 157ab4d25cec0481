"""What if…: the score after a hypothetical change, worked out by the model itself.

A :class:`Situation` is one person's model inputs as of a day, plus what they still owe as a list
of unpaid instalments. Each scenario below is a pure function from a situation to another one
(borrow, a year of on-time repayment, one missed payment, paying everything off, one more
verified friend); :func:`project` scores a situation with :func:`scoring.model.score`, the same
per-person scoring the nightly pass's kernel agrees with, so a preview can never disagree with
what the model would say. Nothing here reads a clock or a database, and nothing is ever written.

How each change is counted, as the rest of Britizen counts it:

* an instalment paid on or before its due date is an on-time loan payment dated the day paid
  (a year of on-time repayment pays each on its due date; paying off pays everything today);
* an instalment already overdue is paid late, dated the day paid (a miss already on file turns
  into a late payment, as the repayments service does), and no loan is in default after it;
* a missed instalment adds the late fee to what is owed and a missed payment to the history.
  The preview dates the miss today, so it shows its full weight against today's score;
* a new verified friend starts at the starting score and knows none of the person's other
  friends (their effective size grows accordingly); PageRank, which depends on everyone's
  friendships, is held as it is until the nightly pass works it out.

The credit limit is held as it is: the pass measures debt against the tier the person was in
before it ran, which is the tier they are in now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from scoring.explain import score
from scoring.inputs import CitizenInputs, GraphFeatures, Outcome, PaymentEvent, PaymentKind
from scoring.rules import STARTING_SCORE

NEW_LOAN = -1


@dataclass(frozen=True)
class Due:
    """One unpaid instalment."""

    due_on: date
    owed_pence: int
    """What paying it takes now, late fee included."""
    missed: bool = False
    """Already on file as missed (it went overdue and got its late fee)."""
    loan: int = NEW_LOAN
    """Which loan it belongs to (NEW_LOAN for one being previewed): paying a loan's last
    instalment repays it, which the commitments line counts (`repaid_loans`)."""

    def __post_init__(self) -> None:
        if isinstance(self.owed_pence, bool) or self.owed_pence < 0:
            raise ValueError("owed_pence must be a non-negative int")


@dataclass(frozen=True)
class Situation:
    """One person's model inputs as of a day, and the unpaid instalments behind what they owe."""

    inputs: CitizenInputs
    as_of: date
    dues: tuple[Due, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.dues, tuple):
            object.__setattr__(self, "dues", tuple(self.dues))

    @property
    def owes(self) -> bool:
        return self.inputs.outstanding_pence > 0 or bool(self.dues)


@dataclass(frozen=True)
class Projection:
    """What the model says of a situation."""

    score: int
    band: str
    as_of: date


class Change(StrEnum):
    """The What if… buttons under /why."""

    PAY_OFF = "pay"
    MISS = "miss"
    FRIEND = "friend"


@dataclass(frozen=True)
class WhatIf:
    change: Change
    now: Projection
    then: Projection

    @property
    def difference(self) -> int:
        return self.then.score - self.now.score


@dataclass(frozen=True)
class LoanPreview:
    """What a loan would do: the score now, right after borrowing, after a year of paying on
    time, and right after borrowing with one payment missed."""

    now: Projection
    borrowed: Projection
    year_on_time: Projection
    one_missed: Projection


def project(situation: Situation) -> Projection:
    """The model's score and band for a situation."""
    result = score(situation.inputs, as_of=situation.as_of)
    return Projection(result.score, result.band.name, situation.as_of)


# --------------------------------------------------------------------------------------------
# Changes


def borrow(situation: Situation, schedule: Sequence[tuple[date, int]]) -> Situation:
    """Take a loan repaid by ``schedule``, ``(due date, amount in pence)`` per instalment."""
    dues = tuple(Due(due_on, amount) for due_on, amount in schedule)
    owed = sum(d.owed_pence for d in dues)
    inputs = replace(situation.inputs, outstanding_pence=situation.inputs.outstanding_pence + owed)
    return replace(situation, inputs=inputs, dues=situation.dues + dues)


def year_on_time(situation: Situation) -> Situation:
    """A year passes and every instalment falling due in it is paid on its due date (any
    already overdue are paid today, late)."""
    later = a_year_after(situation.as_of)
    return _paid(situation, [d.due_on <= later for d in situation.dues], later)


def pay_off(situation: Situation) -> Situation:
    """Everything owed is paid today."""
    return _paid(situation, [True] * len(situation.dues), situation.as_of)


def miss_payment(situation: Situation, late_fee_pence: int) -> Situation:
    """The next instalment is missed: a missed payment dated today and the late fee owed.
    With no instalment to miss, a missed bill."""
    waiting = sorted((d for d in situation.dues if not d.missed), key=lambda d: d.due_on)
    kind = PaymentKind.LOAN_INSTALMENT if waiting else PaymentKind.BILL
    inputs = situation.inputs
    payments = (*inputs.payments, PaymentEvent(situation.as_of, Outcome.MISSED, kind))
    if not waiting:
        return replace(situation, inputs=replace(inputs, payments=payments))
    target = waiting[0]
    dues = list(situation.dues)
    dues[dues.index(target)] = Due(target.due_on, target.owed_pence + late_fee_pence, True)
    inputs = replace(
        inputs, payments=payments, outstanding_pence=inputs.outstanding_pence + late_fee_pence
    )
    return replace(situation, inputs=inputs, dues=tuple(dues))


def add_friend(situation: Situation, friend_score: int = STARTING_SCORE) -> Situation:
    """One more verified friend, scoring ``friend_score`` and knowing none of the others."""
    g = situation.inputs.graph
    n = g.friend_count
    mean = g.friends_mean_score
    # Friends without a score count in friend_count but not the mean; all of them is the
    # conservative reading (the new friend weighs least).
    new_mean = friend_score if mean is None else (mean * n + friend_score) / (n + 1)
    # Burt's effective size n - 2t/n (t ties among the friends) with t unchanged.
    ties = n * (n - g.effective_size) / 2 if n else 0.0
    effective = max(0.0, (n + 1) - 2 * ties / (n + 1))
    graph = GraphFeatures(
        friend_count=n + 1,
        friends_mean_score=float(new_mean),
        pagerank=g.pagerank,
        effective_size=effective,
    )
    return replace(situation, inputs=replace(situation.inputs, graph=graph))


# --------------------------------------------------------------------------------------------
# Together


def loan_preview(
    situation: Situation, schedule: Sequence[tuple[date, int]], late_fee_pence: int
) -> LoanPreview:
    after = borrow(situation, schedule)
    return LoanPreview(
        now=project(situation),
        borrowed=project(after),
        year_on_time=project(year_on_time(after)),
        one_missed=project(miss_payment(after, late_fee_pence)),
    )


def what_if(situation: Situation, change: Change, late_fee_pence: int) -> WhatIf:
    """ValueError for paying off when nothing is owed."""
    if change is Change.PAY_OFF:
        if not situation.owes:
            raise ValueError("nothing to pay off")
        changed = pay_off(situation)
    elif change is Change.MISS:
        changed = miss_payment(situation, late_fee_pence)
    else:
        changed = add_friend(situation)
    return WhatIf(change, project(situation), project(changed))


# --------------------------------------------------------------------------------------------
# Helpers


def a_year_after(day: date) -> date:
    """The same day next year (29 February becomes the 28th)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def _paid(situation: Situation, pays: list[bool], on: date) -> Situation:
    """The instalments marked in ``pays`` paid: on time on their due date (or ``on``, if
    earlier), late today if already overdue at ``situation.as_of``; the situation moves to
    ``on``."""
    payments = list(situation.inputs.payments)
    loan = PaymentKind.LOAN_INSTALMENT
    paid = [d for d, pay in zip(situation.dues, pays, strict=True) if pay]
    rest = [d for d, pay in zip(situation.dues, pays, strict=True) if not pay]
    for due in paid:
        if due.due_on < situation.as_of:
            if due.missed:
                miss = PaymentEvent(due.due_on, Outcome.MISSED, loan)
                if miss in payments:
                    payments.remove(miss)
            payments.append(PaymentEvent(situation.as_of, Outcome.LATE, loan))
        else:
            payments.append(PaymentEvent(min(due.due_on, on), Outcome.ON_TIME, loan))
    owed = max(0, situation.inputs.outstanding_pence - sum(d.owed_pence for d in paid))
    overdue_left = any(d.due_on < on for d in rest)
    still_owing = {d.loan for d in rest}
    repaid_now = len({d.loan for d in paid} - still_owing)
    inputs = replace(
        situation.inputs,
        payments=tuple(payments),
        outstanding_pence=owed,
        defaults=situation.inputs.defaults if overdue_left else 0,
        repaid_loans=situation.inputs.repaid_loans + repaid_now,
    )
    return Situation(inputs, on, tuple(rest))
