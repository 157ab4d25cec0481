from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal, getcontext
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import model
from scoring.model import (
    BANDS,
    BASE_SCORE,
    DIMENSIONS,
    FRIEND_INFLUENCE_CAP,
    HALF_LIFE_DAYS,
    HISTORY_DAYS,
    NO_FRIENDS,
    SCORE_MAX,
    SCORE_MIN,
    STARTING_SCORE,
    WEIGHT_UNIT,
    CitizenInputs,
    GraphFeatures,
    Outcome,
    PaymentEvent,
    PaymentKind,
    PopulationInputs,
    ScoreResult,
    aggregate_payment_events,
    band_for,
    recency_weight_units,
    score,
    score_population,
)
from tests.scoring.builders import AS_OF, citizens, graph_features, random_citizen

NEW = CitizenInputs(verified=True, registered_on=AS_OF)
POINTS = re.compile(r"\((?:([+-]\d+)|0)\)$")


def points_of(reason: str) -> int:
    m = POINTS.search(reason)
    assert m, f"reason without points: {reason!r}"
    return int(m.group(1) or 0)


def monthly(outcome: Outcome, count: int, start: int = 0) -> tuple[PaymentEvent, ...]:
    return tuple(
        PaymentEvent(AS_OF - timedelta(days=start + 30 * k), outcome, PaymentKind.BILL)
        for k in range(count)
    )


BEST = CitizenInputs(
    verified=True,
    registered_on=AS_OF - timedelta(days=5 * 365),
    payments=monthly(Outcome.ON_TIME, 60) * 20,
    outstanding_pence=0,
    limit_pence=50_000,
    vouchers_redeemed=50,
    verified_referrals=50,
    graph=GraphFeatures(
        friend_count=500, friends_mean_score=950.0, pagerank=1e9, effective_size=1e9
    ),
)
WORST = CitizenInputs(
    verified=False,
    registered_on=AS_OF,
    payments=monthly(Outcome.MISSED, 24),
    outstanding_pence=90_000,
    limit_pence=10_000,
    defaults=9,
    upheld_disputes=9,
    graph=GraphFeatures(friend_count=3, friends_mean_score=350.0, pagerank=0.1),
)


# ---------------------------------------------------------------------------- starting point


def test_new_verified_citizen_starts_at_starting_score() -> None:
    r = score(NEW, as_of=AS_OF)
    assert r.score == STARTING_SCORE == 600
    assert r.band.name in ("Fair", "Good")
    assert [d.points for d in r.dimensions] == [0, 0, 20, 0, 0]
    assert r.reasons_down == ()


def test_unverified_new_citizen_is_lower() -> None:
    r = score(replace(NEW, verified=False), as_of=AS_OF)
    assert r.score == STARTING_SCORE - 40
    assert r.dimension("account_standing").reasons[0] == "Identity not verified yet (-20)"


# ---------------------------------------------------------------------------- bounds


def test_dimension_table_matches_constants() -> None:
    assert [d.key for d in DIMENSIONS] == [
        "payment_history",
        "commitments",
        "account_standing",
        "community",
        "connections",
    ]
    assert BASE_SCORE + sum(d.max_points for d in DIMENSIONS) == SCORE_MAX
    connections = DIMENSIONS[-1]
    assert (connections.min_points, connections.max_points) == (
        -FRIEND_INFLUENCE_CAP,
        FRIEND_INFLUENCE_CAP,
    )


def test_best_case_reaches_every_maximum_but_connections_rounding() -> None:
    r = score(BEST, as_of=AS_OF)
    got = {d.key: d.points for d in r.dimensions}
    assert got["commitments"] == 0  # nothing owed is neutral, not a bonus
    assert got["account_standing"] == 60
    assert got["community"] == 30
    assert got["connections"] == FRIEND_INFLUENCE_CAP
    assert 200 <= got["payment_history"] <= 210
    assert r.score >= 900


def test_worst_case_hits_the_floors() -> None:
    r = score(WORST, as_of=AS_OF)
    got = {d.key: d.points for d in r.dimensions}
    assert got == {
        "payment_history": -150,
        "commitments": -120,
        "account_standing": -60,
        "community": 0,
        # Friends averaging 350 give -15; influence and brokerage never go below 0.
        "connections": -15,
    }
    assert r.score == SCORE_MIN


def test_utilisation_points_follow_the_documented_line() -> None:
    def points(owed: int, limit: int) -> int:
        c = replace(NEW, outstanding_pence=owed, limit_pence=limit)
        return score(c, as_of=AS_OF).dimension("commitments").points

    assert points(0, 10_000) == 0
    assert points(1, 10_000) == 40
    assert points(4_000, 10_000) == 0
    assert points(8_000, 10_000) == -40
    assert points(30_000, 10_000) == -40
    assert points(500, 0) == -40  # owing with no limit


def _commitments(owed: int, limit: int, repaid_loans: int) -> int:
    c = replace(NEW, outstanding_pence=owed, limit_pence=limit, repaid_loans=repaid_loans)
    return score(c, as_of=AS_OF).dimension("commitments").points


def test_owing_nothing_after_repaying_scores_the_top_of_the_line() -> None:
    # Issue 16: paying off in full lost the points for owing 34% (613 -> 610).
    assert _commitments(3_400, 10_000, 0) == 6
    assert _commitments(0, 10_000, 1) == 40
    assert _commitments(0, 0, 1) == 40  # nothing owed, even with no limit
    assert _commitments(0, 10_000, 0) == 0  # never borrowed: nothing to measure
    result = score(replace(NEW, limit_pence=10_000, repaid_loans=2), as_of=AS_OF)
    assert any("repaid in full" in r for r in result.dimension("commitments").reasons)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 10**9),
    st.integers(0, 10**9),
    st.integers(0, 10**9),
    st.integers(0, 5),
)
def test_commitments_never_rise_with_what_is_owed(a: int, b: int, limit: int, repaid: int) -> None:
    """Owing less never scores worse, and owing nothing (once borrowed) scores at least as well
    as owing anything: the points are non-increasing in the amount owed."""
    low, high = sorted((a, b))
    borrowed = max(repaid, 1)  # owing anything means having borrowed
    assert _commitments(low, limit, borrowed) >= _commitments(high, limit, borrowed)
    assert _commitments(0, limit, borrowed) >= _commitments(high, limit, repaid)


@settings(max_examples=300, deadline=None)
@given(citizens)
def test_every_dimension_stays_in_bounds_and_reasons_add_up(c: CitizenInputs) -> None:
    r = score(c, as_of=AS_OF)
    assert SCORE_MIN <= r.score <= SCORE_MAX
    assert r.band == band_for(r.score)
    assert r.score == max(
        SCORE_MIN, min(SCORE_MAX, BASE_SCORE + sum(d.points for d in r.dimensions))
    )
    for d, spec in zip(r.dimensions, DIMENSIONS, strict=True):
        assert (d.key, d.name, d.min_points, d.max_points) == (
            spec.key,
            spec.name,
            spec.min_points,
            spec.max_points,
        )
        assert d.min_points <= d.points <= d.max_points
        assert d.reasons
        assert sum(points_of(x) for x in d.reasons) == d.points
    assert 1 <= len(r.tips) <= 3
    assert len(r.reasons_up) <= 3 and len(r.reasons_down) <= 3
    assert all(points_of(x) > 0 for x in r.reasons_up)
    assert all(points_of(x) < 0 for x in r.reasons_down)


# ---------------------------------------------------------------------------- friend cap


@settings(max_examples=300, deadline=None)
@given(citizens, graph_features, graph_features)
def test_friends_never_move_the_score_beyond_the_cap(
    c: CitizenInputs, g1: GraphFeatures, g2: GraphFeatures
) -> None:
    alone = score(replace(c, graph=NO_FRIENDS), as_of=AS_OF)
    s1 = score(replace(c, graph=g1), as_of=AS_OF)
    s2 = score(replace(c, graph=g2), as_of=AS_OF)
    assert abs(s1.score - alone.score) <= FRIEND_INFLUENCE_CAP
    assert abs(s2.score - alone.score) <= FRIEND_INFLUENCE_CAP
    assert abs(s1.score - s2.score) <= 2 * FRIEND_INFLUENCE_CAP
    for r in (s1, s2):
        assert abs(r.dimension("connections").points) <= FRIEND_INFLUENCE_CAP
    # Nothing but the connections dimension may change.
    for a, b in zip(alone.dimensions[:-1], s1.dimensions[:-1], strict=True):
        assert a.points == b.points


@pytest.mark.parametrize(
    "graph",
    [
        GraphFeatures(10**9, 950.0, 1e300, 1e300),
        GraphFeatures(10**9, 1e300, 1e300, 1e300),
        GraphFeatures(1, -1e300, 0.0, 0.0),
        GraphFeatures(10**9, 350.0, 0.0, 0.0),
    ],
)
def test_friend_cap_holds_for_extreme_inputs(graph: GraphFeatures) -> None:
    for base in (NEW, BEST, WORST):
        alone = score(replace(base, graph=NO_FRIENDS), as_of=AS_OF).score
        with_friends = score(replace(base, graph=graph), as_of=AS_OF).score
        assert abs(with_friends - alone) <= FRIEND_INFLUENCE_CAP


def test_no_friends_means_no_connection_points_whatever_the_graph_says() -> None:
    g = GraphFeatures(friend_count=0, friends_mean_score=None, pagerank=50.0, effective_size=9.0)
    assert score(replace(NEW, graph=g), as_of=AS_OF).score == STARTING_SCORE


def test_a_first_friend_at_the_starting_score_costs_nothing() -> None:
    g = GraphFeatures(friend_count=1, friends_mean_score=600.0, pagerank=0.5, effective_size=1.0)
    assert score(replace(NEW, graph=g), as_of=AS_OF).score >= STARTING_SCORE


# ---------------------------------------------------------------------------- payments


def test_recency_weight_halves_every_half_life() -> None:
    w = recency_weight_units([0, HALF_LIFE_DAYS, 2 * HALF_LIFE_DAYS, HISTORY_DAYS - 1])
    assert list(w[:3]) == [WEIGHT_UNIT, WEIGHT_UNIT // 2, WEIGHT_UNIT // 4]
    assert w[3] > 0
    assert list(recency_weight_units([-1, HISTORY_DAYS, 10**6])) == [0, 0, 0]


def test_recency_table_matches_decimal_arithmetic() -> None:
    # Guards determinism across platforms: the float table must round like exact arithmetic.
    getcontext().prec = 30
    expected = [
        int(
            (
                Decimal(WEIGHT_UNIT) * Decimal(2) ** (Decimal(-d) / HALF_LIFE_DAYS)
            ).to_integral_value()
        )
        for d in range(HISTORY_DAYS)
    ]
    assert recency_weight_units(np.arange(HISTORY_DAYS)).tolist() == expected


def test_recent_misses_cost_more_than_old_ones() -> None:
    def missed(days_ago: int) -> int:
        p = (PaymentEvent(AS_OF - timedelta(days=days_ago), Outcome.MISSED),)
        return score(replace(NEW, payments=p), as_of=AS_OF).dimension("payment_history").points

    assert missed(5) == -45
    assert missed(5) < missed(400) < missed(1500) < 0
    assert missed(HISTORY_DAYS + 1) == 0


def test_future_payments_are_ignored_and_the_clock_is_never_read() -> None:
    later = (PaymentEvent(AS_OF + timedelta(days=3), Outcome.MISSED),)
    assert score(replace(NEW, payments=later), as_of=AS_OF).score == STARTING_SCORE
    # The same payment counts once as_of passes its due date.
    assert score(replace(NEW, payments=later), as_of=AS_OF + timedelta(days=3)).score < 600


def test_on_time_reason_reads_naturally() -> None:
    r = score(replace(NEW, payments=monthly(Outcome.ON_TIME, 3)), as_of=AS_OF)
    assert r.reasons_up[0].startswith("3 bills paid on time in the last year (+")


def test_payment_penalties_are_capped() -> None:
    p = monthly(Outcome.LATE, 30) + monthly(Outcome.MISSED, 30)
    r = score(replace(NEW, payments=p), as_of=AS_OF)
    assert r.dimension("payment_history").points == -150


def test_aggregate_matches_per_person_weights() -> None:
    w = aggregate_payment_events(3, [0, 0, 2, 2, 2], [0, 365, 10, -1, 5000], [0, 0, 2, 1, 1])
    assert w.on_time.tolist() == [1500, 0, 0]
    assert w.late.tolist() == [0, 0, 0]
    assert w.missed.tolist() == [0, 0, int(recency_weight_units([10])[0])]
    with pytest.raises(ValueError):
        aggregate_payment_events(2, [2], [0], [0])
    with pytest.raises(ValueError):
        aggregate_payment_events(2, [0], [0], [3])
    with pytest.raises(ValueError):
        aggregate_payment_events(2, [0, 1], [0], [0])


# ---------------------------------------------------------------------------- tips

TIP_WORDS = {
    "payment_history": ("on time", "bills"),
    "commitments": ("owe", "default", "borrow"),
    "account_standing": ("verification", "member", "disputes"),
    "community": ("/offers", "/invite"),
    "connections": ("/friends",),
}


def weakest(r: ScoreResult) -> str:
    open_dims = [d for d in r.dimensions if d.points < d.max_points]
    return min(
        open_dims,
        key=lambda d: (
            (d.points - d.min_points) / (d.max_points - d.min_points),
            -(d.max_points - d.points),
            [x.key for x in DIMENSIONS].index(d.key),
        ),
    ).key


@pytest.mark.parametrize(
    ("citizen", "expected"),
    [
        (NEW, "community"),
        (replace(NEW, defaults=2, vouchers_redeemed=5, verified_referrals=4), "commitments"),
        (
            replace(
                NEW,
                verified=False,
                upheld_disputes=2,
                vouchers_redeemed=5,
                verified_referrals=4,
            ),
            "account_standing",
        ),
        (
            replace(
                NEW,
                payments=monthly(Outcome.MISSED, 4),
                vouchers_redeemed=5,
                verified_referrals=4,
            ),
            "payment_history",
        ),
    ],
)
def test_tips_aim_at_the_weakest_dimension(citizen: CitizenInputs, expected: str) -> None:
    r = score(citizen, as_of=AS_OF)
    assert weakest(r) == expected
    assert any(word in r.tips[0] for word in TIP_WORDS[expected]), r.tips


@settings(max_examples=200, deadline=None)
@given(citizens)
def test_first_tip_always_targets_the_weakest_dimension(c: CitizenInputs) -> None:
    r = score(c, as_of=AS_OF)
    if all(d.points == d.max_points for d in r.dimensions):
        return
    assert any(word in r.tips[0] for word in TIP_WORDS[weakest(r)]), (weakest(r), r.tips)


def test_tips_never_suggest_dropping_friends() -> None:
    g = GraphFeatures(friend_count=10, friends_mean_score=360.0, pagerank=0.2, effective_size=0.0)
    c = replace(BEST, graph=g)
    for tip in score(c, as_of=AS_OF).tips:
        assert "remove" not in tip.lower() and "unfriend" not in tip.lower()


# ---------------------------------------------------------------------------- storage


def test_to_dict_round_trips_through_json() -> None:
    rng = np.random.default_rng(7)
    for _ in range(50):
        r = score(random_citizen(rng), as_of=AS_OF)
        d = r.to_dict()
        text = json.dumps(d, ensure_ascii=False, sort_keys=False)
        back = ScoreResult.from_dict(json.loads(text))
        assert back == r
        assert json.dumps(back.to_dict(), ensure_ascii=False) == text


def test_from_dict_rejects_a_band_that_does_not_match() -> None:
    d = score(NEW, as_of=AS_OF).to_dict()
    d["band"] = "Excellent"
    with pytest.raises(ValueError):
        ScoreResult.from_dict(d)


def test_same_inputs_same_result() -> None:
    rng = np.random.default_rng(11)
    for _ in range(30):
        c = random_citizen(rng)
        first = score(c, as_of=AS_OF)
        shuffled = replace(c, payments=tuple(reversed(c.payments)))
        again = score(shuffled, as_of=AS_OF)
        assert again == first
        assert json.dumps(again.to_dict()) == json.dumps(first.to_dict())


# ---------------------------------------------------------------------------- population


def population_of(people: list[CitizenInputs]) -> PopulationInputs:
    """Arrays filled the way a database layer would: flat event arrays, then aggregation."""
    person, ages, codes = [], [], []
    for i, c in enumerate(people):
        for p in c.payments:
            person.append(i)
            ages.append((AS_OF - p.due_on).days)
            codes.append(model.OUTCOME_CODES[p.outcome])
    w = aggregate_payment_events(len(people), person, ages, codes)
    return PopulationInputs(
        on_time_weight=w.on_time,
        late_weight=w.late,
        missed_weight=w.missed,
        outstanding_pence=np.array([c.outstanding_pence for c in people]),
        limit_pence=np.array([c.limit_pence for c in people]),
        defaults=np.array([c.defaults for c in people]),
        repaid_loans=np.array([c.repaid_loans for c in people]),
        upheld_disputes=np.array([c.upheld_disputes for c in people]),
        vouchers_redeemed=np.array([c.vouchers_redeemed for c in people]),
        verified_referrals=np.array([c.verified_referrals for c in people]),
        verified=np.array([c.verified for c in people]),
        account_age_days=np.array([(AS_OF - c.registered_on).days for c in people]),
        friend_count=np.array([c.graph.friend_count for c in people]),
        friends_mean_score=np.array(
            [
                np.nan if c.graph.friends_mean_score is None else c.graph.friends_mean_score
                for c in people
            ]
        ),
        pagerank=np.array([c.graph.pagerank for c in people]),
        effective_size=np.array([c.graph.effective_size for c in people]),
    )


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_vectorised_scores_equal_per_person_scores(seed: int) -> None:
    rng = np.random.default_rng(seed)
    people = [random_citizen(rng) for _ in range(400)]
    # Mix in people whose connections land exactly on rounding edges.
    people += [
        replace(
            NEW,
            graph=GraphFeatures(5, 600.0 + 250.0 * k / 30.0, 1.0 + abs(k) / 7.0, abs(k) / 2.0),
        )
        for k in range(-60, 61)
    ]
    result = score_population(population_of(people))
    assert len(result) == len(people)
    for i, c in enumerate(people):
        r = score(c, as_of=AS_OF)
        assert result.score[i] == r.score
        assert result.band_name(i) == r.band.name
        assert result.breakdown(i) == {d.key: d.points for d in r.dimensions}
    assert BANDS[int(result.band_index[0])] == band_for(int(result.score[0]))


@settings(max_examples=100, deadline=None)
@given(st.lists(citizens, min_size=1, max_size=20))
def test_vectorised_equals_per_person_for_any_inputs(people: list[CitizenInputs]) -> None:
    result = score_population(population_of(people))
    assert [score(c, as_of=AS_OF).score for c in people] == result.score.tolist()


def test_from_citizens_matches_manual_population() -> None:
    rng = np.random.default_rng(5)
    people = [random_citizen(rng) for _ in range(50)]
    a = score_population(PopulationInputs.from_citizens(people, AS_OF))
    b = score_population(population_of(people))
    assert np.array_equal(a.points, b.points)


def test_blank_population_and_empty_population() -> None:
    blank = PopulationInputs.blank(3)
    blank.verified[:] = True
    assert score_population(blank).score.tolist() == [STARTING_SCORE] * 3
    assert len(score_population(PopulationInputs.blank(0))) == 0


def test_population_inputs_are_checked() -> None:
    blank = PopulationInputs.blank(2)
    with pytest.raises(ValueError):
        replace(blank, defaults=np.array([1, 2, 3]))
    with pytest.raises(ValueError):
        replace(blank, defaults=np.array([-1, 0]))
    with pytest.raises(ValueError):
        replace(blank, pagerank=np.ones((2, 1)))


@pytest.mark.parametrize(
    "bad",
    [
        {"defaults": -1},
        {"outstanding_pence": -5},
        {"limit_pence": 10**16},
        {"vouchers_redeemed": True},
    ],
)
def test_citizen_inputs_are_checked(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        replace(NEW, **bad)


@pytest.mark.parametrize(
    "bad",
    [
        {"friend_count": -1},
        {"pagerank": float("nan")},
        {"effective_size": -0.5},
        {"friends_mean_score": float("inf")},
    ],
)
def test_graph_features_are_checked(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        replace(GraphFeatures(), **bad)


def test_module_docstring_rules_out_protected_inputs() -> None:
    doc = model.__doc__ or ""
    assert "No demographic, protected or content-based input" in doc
    names = {f for f in CitizenInputs.__dataclass_fields__} | set(
        PopulationInputs.__dataclass_fields__
    )
    for forbidden in ("age", "sex", "gender", "ethnicity", "religion", "postcode", "income"):
        assert forbidden not in names
