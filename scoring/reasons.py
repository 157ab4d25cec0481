"""The plain-English reasons and tips behind one person's score.

They are chosen from the same components the kernel computed, so an explanation never
disagrees with the score; they change with MODEL_VERSION. The sentences are texts.scoring's:
this module decides which apply and with how many points."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt

from scoring.inputs import (
    CitizenInputs,
    Outcome,
    PaymentKind,
    recency_weight_units,
)
from scoring.kernel import (
    _round_div,
)
from scoring.rules import (
    _DIM_INDEX,
    BROKERAGE_MAX,
    DEFAULT_COST,
    DISPUTE_COST,
    FRIEND_INFLUENCE_CAP,
    HISTORY_DAYS,
    MEMBERSHIP_FULL_DAYS,
    MEMBERSHIP_MAX,
    ON_TIME_HALF_UNITS,
    ON_TIME_MAX,
    REFERRAL_CAP,
    REFERRAL_POINTS,
    UTILISATION_FLOOR,
    UTILISATION_TOP,
    VERIFIED_POINTS,
    VOUCHER_CAP,
    VOUCHER_POINTS,
)
from texts import scoring as say

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class DimensionResult:
    key: str
    name: str
    points: int
    min_points: int
    max_points: int
    reasons: tuple[str, ...]
    """Plain English, each ending with its points, e.g. "Identity verified (+20)"; they add up
    to ``points``."""


@dataclass(frozen=True)
class _Reason:
    dimension: str
    order: int
    points: int
    text: str


@dataclass(frozen=True)
class _Facts:
    """Plain counts behind the explanation (the points themselves come from the kernel)."""

    counts: Mapping[Outcome, int]
    recent: Mapping[Outcome, int]
    kinds: Mapping[Outcome, frozenset[PaymentKind]]
    account_age_days: int
    inputs: CitizenInputs = field(repr=False)

    @classmethod
    def of(cls, inputs: CitizenInputs, as_of: date) -> _Facts:
        counts = dict.fromkeys(Outcome, 0)
        recent = dict.fromkeys(Outcome, 0)
        kinds: dict[Outcome, set[PaymentKind]] = {o: set() for o in Outcome}
        for p in inputs.payments:
            age = (as_of - p.due_on).days
            if 0 <= age < HISTORY_DAYS:
                o = Outcome(p.outcome)
                counts[o] += 1
                kinds[o].add(PaymentKind(p.kind))
                if age < 365:
                    recent[o] += 1
        return cls(
            counts=counts,
            recent=recent,
            kinds={o: frozenset(k) for o, k in kinds.items()},
            account_age_days=max(0, (as_of - inputs.registered_on).days),
            inputs=inputs,
        )


def _reasons(facts: _Facts, c: Mapping[str, int]) -> list[_Reason]:
    i = facts.inputs
    out: list[_Reason] = []

    def add(dim: str, points: int, text: str) -> None:
        out.append(_Reason(dim, len(out), points, say.with_points(text, points)))

    # Payment history.
    ph = "payment_history"
    if sum(facts.counts.values()) == 0:
        add(ph, 0, say.NO_PAYMENT_HISTORY)
    comp = {Outcome.ON_TIME: "on_time", Outcome.LATE: "late", Outcome.MISSED: "missed"}
    for o in Outcome:
        n = facts.counts[o]
        if n:
            add(ph, c[comp[o]], say.payments(facts.kinds[o], o, n, facts.recent[o]))

    # Commitments.
    cm = "commitments"
    owed, limit = i.outstanding_pence, i.limit_pence
    if owed:
        add(cm, c["utilisation"], say.owing(owed, limit))
    else:
        add(cm, c["utilisation"], say.NOTHING_OWED_REPAID if i.repaid_loans else say.NOTHING_OWED)
    if i.defaults:
        add(cm, c["defaults"], say.defaults(i.defaults))
    else:
        add(cm, 0, say.NO_DEFAULTS)

    # Account standing.
    st = "account_standing"
    add(st, c["verification"], say.identity(i.verified))
    age = facts.account_age_days
    add(st, c["membership"], say.member_for(age) if age else say.NEW_MEMBER)
    if i.upheld_disputes:
        add(st, c["disputes"], say.upheld_disputes(i.upheld_disputes))
    else:
        add(st, 0, say.NO_UPHELD_DISPUTES)

    # Community.
    cy = "community"
    v = i.vouchers_redeemed
    at_cap = c["vouchers"] == VOUCHER_CAP
    add(cy, c["vouchers"], say.vouchers_redeemed(v, at_cap=at_cap) if v else say.NO_VOUCHERS)
    r = i.verified_referrals
    at_cap = c["referrals"] == REFERRAL_CAP
    add(cy, c["referrals"], say.referrals(r, at_cap=at_cap) if r else say.NO_REFERRALS)

    # Connections.
    cn = "connections"
    g = i.graph
    if g.friend_count == 0:
        add(cn, 0, say.NO_FRIENDS)
    else:
        mean = None if g.friends_mean_score is None else int(np.rint(g.friends_mean_score))
        add(cn, c["friends_scores"], say.friends_scores(g.friend_count, mean))
        add(cn, c["influence"], say.reach(g.pagerank))
        add(cn, c["brokerage"], say.brokerage(g.effective_size))
    return out


def _tips(
    dims: tuple[DimensionResult, ...], facts: _Facts, c: Mapping[str, int]
) -> tuple[str, ...]:
    # Weakest = lowest share of its own range achieved; ties go to the one with more points
    # left to gain, then to DIMENSIONS order.
    def share(d: DimensionResult) -> float:
        return (d.points - d.min_points) / (d.max_points - d.min_points)

    order = sorted(
        (d for d in dims if d.points < d.max_points),
        key=lambda d: (share(d), -(d.max_points - d.points), _DIM_INDEX[d.key]),
    )
    tips: list[str] = []
    for rank, d in enumerate(order[:2]):
        for tip in _TIP_BUILDERS[d.key](facts, c)[: 2 if rank == 0 else 1]:
            if len(tips) < 3:
                tips.append(tip)
    if not tips:
        tips.append(say.HOLD_SCORE_TIP)
    return tuple(tips)


def _year_of_monthly_on_time() -> int:
    units = int(recency_weight_units(np.arange(0, 360, 30)).sum())
    return int(_round_div(np.array([ON_TIME_MAX * units]), units + ON_TIME_HALF_UNITS)[0])


def _tips_payment(facts: _Facts, c: Mapping[str, int]) -> list[str]:
    out: list[str] = []
    if facts.recent[Outcome.MISSED] or facts.recent[Outcome.LATE]:
        out.append(say.PAY_ON_TIME_FROM_NOW_TIP)
    if facts.counts[Outcome.ON_TIME] == 0:
        out.append(say.report_bills_tip(_year_of_monthly_on_time()))
    else:
        out.append(say.keep_paying_tip(ON_TIME_MAX, c["on_time"]))
    return out


def _tips_commitments(facts: _Facts, c: Mapping[str, int]) -> list[str]:
    i = facts.inputs
    out: list[str] = []
    if i.defaults:
        out.append(say.settle_defaults_tip(i.defaults, DEFAULT_COST))
    if i.outstanding_pence and i.limit_pence:
        target = i.limit_pence * 3 // 10
        if i.outstanding_pence > target:
            out.append(say.pay_down_tip(target, UTILISATION_TOP - 30 - c["utilisation"]))
    elif i.outstanding_pence:
        out.append(say.pay_off_tip(i.outstanding_pence, -UTILISATION_FLOOR))
    if not out:
        out.append(say.KEEP_OWED_LOW_TIP)
    return out


def _tips_standing(facts: _Facts, c: Mapping[str, int]) -> list[str]:
    i = facts.inputs
    out: list[str] = []
    if not i.verified:
        out.append(say.verify_tip(VERIFIED_POINTS))
    if facts.account_age_days < MEMBERSHIP_FULL_DAYS:
        out.append(say.membership_tip(MEMBERSHIP_MAX))
    if i.upheld_disputes:
        out.append(say.disputes_tip(DISPUTE_COST))
    return out


def _tips_community(facts: _Facts, c: Mapping[str, int]) -> list[str]:
    out: list[str] = []
    if c["vouchers"] < VOUCHER_CAP:
        out.append(say.voucher_tip(VOUCHER_POINTS, VOUCHER_CAP))
    if c["referrals"] < REFERRAL_CAP:
        out.append(say.invite_tip(REFERRAL_POINTS, REFERRAL_CAP))
    return out


def _tips_connections(facts: _Facts, c: Mapping[str, int]) -> list[str]:
    # Deliberately never suggests dropping friends: a low-scoring friend is still a friend.
    if facts.inputs.graph.friend_count == 0:
        return [say.add_friends_tip(FRIEND_INFLUENCE_CAP)]
    return [say.diverse_friends_tip(BROKERAGE_MAX)]


_TIP_BUILDERS: Mapping[str, Callable[[_Facts, Mapping[str, int]], list[str]]] = {
    "payment_history": _tips_payment,
    "commitments": _tips_commitments,
    "account_standing": _tips_standing,
    "community": _tips_community,
    "connections": _tips_connections,
}
