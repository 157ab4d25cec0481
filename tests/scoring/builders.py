"""Builders shared by the scoring tests."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from hypothesis import strategies as st

from scoring.model import (
    CitizenInputs,
    GraphFeatures,
    Outcome,
    PaymentEvent,
    PaymentKind,
)

AS_OF = date(2025, 6, 1)


def random_citizen(rng: np.random.Generator, as_of: date = AS_OF) -> CitizenInputs:
    """A person with a random history, including edge cases (future and very old payments,
    no limit, no friends, friends without scores)."""
    n_pay = int(rng.choice([0, 1, 3, 12, 40]))
    outcomes = list(Outcome)
    kinds = list(PaymentKind)
    payments = tuple(
        PaymentEvent(
            due_on=as_of - timedelta(days=int(rng.integers(-30, 2500))),
            outcome=outcomes[int(rng.choice(3, p=[0.8, 0.12, 0.08]))],
            kind=kinds[int(rng.integers(0, 2))],
        )
        for _ in range(n_pay)
    )
    limit = int(rng.choice([0, 5_000, 15_000, 50_000]))
    outstanding = int(rng.integers(0, 60_000)) if rng.random() < 0.5 else 0
    friends = int(rng.choice([0, 1, 5, 40, 3000]))
    mean: float | None = None
    if friends and rng.random() < 0.9:
        mean = float(rng.uniform(350, 950))
    return CitizenInputs(
        verified=bool(rng.random() < 0.8),
        registered_on=as_of - timedelta(days=int(rng.integers(-5, 2000))),
        payments=payments,
        outstanding_pence=outstanding,
        limit_pence=limit,
        defaults=int(rng.choice([0, 0, 0, 1, 2, 5])),
        upheld_disputes=int(rng.choice([0, 0, 0, 1, 3])),
        vouchers_redeemed=int(rng.integers(0, 9)),
        verified_referrals=int(rng.integers(0, 7)),
        graph=GraphFeatures(
            friend_count=friends,
            friends_mean_score=mean,
            pagerank=float(rng.lognormal(0, 1)) if friends else 0.15,
            effective_size=float(rng.uniform(0, friends)) if friends else 0.0,
        ),
        repaid_loans=int(rng.choice([0, 0, 1, 4])),
    )


payment_events = st.builds(
    PaymentEvent,
    due_on=st.dates(min_value=date(2015, 1, 1), max_value=date(2026, 1, 1)),
    outcome=st.sampled_from(Outcome),
    kind=st.sampled_from(PaymentKind),
)

graph_features = st.builds(
    GraphFeatures,
    friend_count=st.integers(0, 10**7),
    friends_mean_score=st.none() | st.floats(-1e6, 1e6, allow_nan=False),
    pagerank=st.floats(0, 1e12, allow_nan=False),
    effective_size=st.floats(0, 1e9, allow_nan=False),
)

citizens = st.builds(
    CitizenInputs,
    verified=st.booleans(),
    registered_on=st.dates(min_value=date(2015, 1, 1), max_value=date(2026, 1, 1)),
    payments=st.lists(payment_events, max_size=30).map(tuple),
    outstanding_pence=st.integers(0, 10**9),
    limit_pence=st.integers(0, 10**9),
    defaults=st.integers(0, 20),
    repaid_loans=st.integers(0, 20),
    upheld_disputes=st.integers(0, 20),
    vouchers_redeemed=st.integers(0, 100),
    verified_referrals=st.integers(0, 100),
    graph=graph_features,
)
