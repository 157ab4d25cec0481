"""The plain-English reasons and tips behind one person's score.

They are worded from the same components the kernel computed, so an explanation never
disagrees with the score; they change with MODEL_VERSION."""

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
from texts.format import money, plural

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


def _pts(points: int) -> str:
    return f"({points:+d})" if points else "(0)"


def _payment_noun(kinds: frozenset[PaymentKind], n: int) -> str:
    if kinds == {PaymentKind.BILL}:
        return plural(n, "bill")
    if kinds == {PaymentKind.LOAN_INSTALMENT}:
        return plural(n, "loan instalment")
    return plural(n, "payment")


def _when(facts: _Facts, o: Outcome) -> str:
    total, recent = facts.counts[o], facts.recent[o]
    if total == recent:
        return "in the last year"
    if recent == 0:
        return "in the last 6 years, none in the last year"
    return f"in the last 6 years, {recent} in the last year"


def _duration(days: int) -> str:
    if days < 31:
        return plural(days, "day")
    if days < 365:
        return plural(days // 30 if days // 30 < 12 else 11, "month")
    years, months = days // 365, (days % 365) // 30
    text = plural(years, "year")
    return f"{text} and {plural(months, 'month')}" if months else text


def _reasons(facts: _Facts, c: Mapping[str, int]) -> list[_Reason]:
    i = facts.inputs
    out: list[_Reason] = []

    def add(dim: str, points: int, text: str) -> None:
        out.append(_Reason(dim, len(out), points, f"{text} {_pts(points)}"))

    # Payment history.
    ph = "payment_history"
    if sum(facts.counts.values()) == 0:
        add(ph, 0, "No payment history yet")
    labels = {Outcome.ON_TIME: "paid on time", Outcome.LATE: "paid late", Outcome.MISSED: "missed"}
    comp = {Outcome.ON_TIME: "on_time", Outcome.LATE: "late", Outcome.MISSED: "missed"}
    for o in Outcome:
        n = facts.counts[o]
        if n:
            noun = _payment_noun(facts.kinds[o], n)
            add(ph, c[comp[o]], f"{noun} {labels[o]} {_when(facts, o)}")

    # Commitments.
    cm = "commitments"
    owed, limit = i.outstanding_pence, i.limit_pence
    if owed == 0:
        add(cm, c["utilisation"], "Nothing owed")
    elif limit > 0:
        pct = owed * 100 // limit
        add(cm, c["utilisation"], f"Owing {money(owed)} of your {money(limit)} limit ({pct}%)")
    else:
        add(cm, c["utilisation"], f"Owing {money(owed)} with no credit limit")
    if i.defaults:
        add(cm, c["defaults"], f"{plural(i.defaults, 'loan')} in default")
    else:
        add(cm, 0, "No loans in default")

    # Account standing.
    st = "account_standing"
    add(st, c["verification"], "Identity verified" if i.verified else "Identity not verified yet")
    age = facts.account_age_days
    add(st, c["membership"], f"Member for {_duration(age)}" if age else "New member")
    if i.upheld_disputes:
        add(st, c["disputes"], plural(i.upheld_disputes, "upheld dispute"))
    else:
        add(st, 0, "No upheld disputes")

    # Community.
    cy = "community"
    v = i.vouchers_redeemed
    cap_note = ", the most that counts" if c["vouchers"] == VOUCHER_CAP else ""
    add(
        cy,
        c["vouchers"],
        f"{plural(v, 'sponsor voucher')} redeemed{cap_note}"
        if v
        else "No sponsor vouchers redeemed yet",
    )
    r = i.verified_referrals
    cap_note = ", the most that counts" if c["referrals"] == REFERRAL_CAP else ""
    add(
        cy,
        c["referrals"],
        f"{plural(r, 'verified referral')}{cap_note}" if r else "No verified referrals yet",
    )

    # Connections.
    cn = "connections"
    g = i.graph
    if g.friend_count == 0:
        add(cn, 0, "No friends on Britizen yet, so connections neither add nor take away")
    else:
        friends = plural(g.friend_count, "friend")
        if g.friends_mean_score is None:
            add(cn, c["friends_scores"], f"Your {friends} have no scores yet")
        else:
            avg = int(np.rint(g.friends_mean_score))
            verb = "has" if g.friend_count == 1 else "average"
            add(cn, c["friends_scores"], f"Your {friends} {verb} {avg}")
        add(cn, c["influence"], f"Your reach in the network is {g.pagerank:.1f}× the average")
        add(
            cn,
            c["brokerage"],
            f"You link people who don't otherwise know each other "
            f"(effective size {g.effective_size:.1f})",
        )
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
        tips.append("Keep paying every bill and instalment on time to hold your score.")
    return tuple(tips)


def _year_of_monthly_on_time() -> int:
    units = int(recency_weight_units(np.arange(0, 360, 30)).sum())
    return int(_round_div(np.array([ON_TIME_MAX * units]), units + ON_TIME_HALF_UNITS)[0])


def _tips_payment(facts: _Facts, c: Mapping[str, int]) -> list[str]:
    out: list[str] = []
    if facts.recent[Outcome.MISSED] or facts.recent[Outcome.LATE]:
        out.append(
            "Pay every bill and instalment on time from now on: a late or missed payment counts "
            "half as much after a year and stops counting after 6 years."
        )
    if facts.counts[Outcome.ON_TIME] == 0:
        out.append(
            "Ask your energy, water or phone company to report your bills to Britizen: a year "
            f"of monthly bills paid on time would add about +{_year_of_monthly_on_time()}."
        )
    else:
        out.append(
            "Keep paying on time: recent on-time payments count most, up to "
            f"+{ON_TIME_MAX} in all (you have {c['on_time']:+d})."
        )
    return out


def _tips_commitments(facts: _Facts, c: Mapping[str, int]) -> list[str]:
    i = facts.inputs
    out: list[str] = []
    if i.defaults:
        loans = "defaulted loan" if i.defaults == 1 else f"{i.defaults} defaulted loans"
        out.append(f"Settle your {loans}: each default costs {DEFAULT_COST} points.")
    if i.outstanding_pence and i.limit_pence:
        target = i.limit_pence * 3 // 10
        if i.outstanding_pence > target:
            gain = UTILISATION_TOP - 30 - c["utilisation"]
            out.append(
                f"Pay what you owe down to {money(target)}, 30% of your limit: worth about "
                f"+{gain} points."
            )
    elif i.outstanding_pence:
        out.append(
            f"Pay off the {money(i.outstanding_pence)} you owe: owing with no credit limit "
            f"costs {-UTILISATION_FLOOR} points."
        )
    if not out:
        out.append(
            "If you borrow, keep what you owe low against your limit: under 10% adds +30 or more."
        )
    return out


def _tips_standing(facts: _Facts, c: Mapping[str, int]) -> list[str]:
    i = facts.inputs
    out: list[str] = []
    if not i.verified:
        out.append(
            f"Complete identity verification: it turns {-VERIFIED_POINTS} into "
            f"+{VERIFIED_POINTS} (+{2 * VERIFIED_POINTS} points)."
        )
    if facts.account_age_days < MEMBERSHIP_FULL_DAYS:
        out.append(
            f"Stay a member: membership adds about 1 point a month, up to +{MEMBERSHIP_MAX} "
            "after 3 years."
        )
    if i.upheld_disputes:
        out.append(f"Avoid further upheld disputes: each costs {DISPUTE_COST} points.")
    return out


def _tips_community(facts: _Facts, c: Mapping[str, int]) -> list[str]:
    out: list[str] = []
    if c["vouchers"] < VOUCHER_CAP:
        out.append(
            f"Redeem a sponsor voucher from /offers: +{VOUCHER_POINTS} points each, up to "
            f"+{VOUCHER_CAP}."
        )
    if c["referrals"] < REFERRAL_CAP:
        out.append(
            f"Invite friends with /invite: +{REFERRAL_POINTS} points for each one who completes "
            f"verification, up to +{REFERRAL_CAP}."
        )
    return out


def _tips_connections(facts: _Facts, c: Mapping[str, int]) -> list[str]:
    # Deliberately never suggests dropping friends: a low-scoring friend is still a friend.
    if facts.inputs.graph.friend_count == 0:
        return [
            f"Add people you know with /friends: connections can add up to "
            f"+{FRIEND_INFLUENCE_CAP} points."
        ]
    return [
        "Add friends from different parts of your life with /friends: linking groups that "
        f"don't otherwise meet adds up to +{BROKERAGE_MAX}."
    ]


_TIP_BUILDERS: Mapping[str, Callable[[_Facts, Mapping[str, int]], list[str]]] = {
    "payment_history": _tips_payment,
    "commitments": _tips_commitments,
    "account_standing": _tips_standing,
    "community": _tips_community,
    "connections": _tips_connections,
}
