"""What goes into the model: one person's inputs, everyone's as arrays, and payment weighting."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from enum import StrEnum
from functools import cache
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from scoring.rules import (
    HALF_LIFE_DAYS,
    HISTORY_DAYS,
    WEIGHT_UNIT,
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


# --------------------------------------------------------------------------------------------
# Inputs


class Outcome(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    MISSED = "missed"


OUTCOME_CODES: Mapping[Outcome, int] = {Outcome.ON_TIME: 0, Outcome.LATE: 1, Outcome.MISSED: 2}
"""The integer codes :func:`aggregate_payment_events` takes."""


class PaymentKind(StrEnum):
    """Every kind weighs the same; the kind only words the explanation."""

    LOAN_INSTALMENT = "loan_instalment"
    BILL = "bill"
    RENT = "rent"
    COUNCIL_TAX = "council_tax"


@dataclass(frozen=True)
class PaymentEvent:
    due_on: date
    outcome: Outcome
    kind: PaymentKind = PaymentKind.BILL


@dataclass(frozen=True)
class GraphFeatures:
    """One person's place in the friendship graph (see :mod:`scoring.graph`)."""

    friend_count: int = 0
    friends_mean_score: float | None = None
    """Mean of the friends' previous scores; None when no friend has a score."""
    pagerank: float = 1.0
    """PageRank normalised so the population mean is 1.0."""
    effective_size: float = 0.0
    """Burt's effective size; 0.0 with no friends."""

    def __post_init__(self) -> None:
        if self.friend_count < 0:
            raise ValueError("friend_count must not be negative")
        for name in ("pagerank", "effective_size"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0")
        if self.friends_mean_score is not None and not math.isfinite(self.friends_mean_score):
            raise ValueError("friends_mean_score must be finite or None")


NO_FRIENDS = GraphFeatures()


@dataclass(frozen=True)
class CitizenInputs:
    """Everything the model knows about one person. Nothing else is ever read."""

    verified: bool
    """Identity verification complete."""
    registered_on: date
    payments: tuple[PaymentEvent, ...] = ()
    """Loan instalments and partner-reported bills that fell due, with their outcome."""
    outstanding_pence: int = 0
    """What the person owes now on Britizen loans."""
    limit_pence: int = 0
    """Their credit limit (the loan limit they have been given); 0 if none."""
    defaults: int = 0
    """Loans currently in default."""
    repaid_loans: int = 0
    """Loans repaid in full: someone who has borrowed and owes nothing is scored on owing 0%."""
    upheld_disputes: int = 0
    """Disputes about the person's conduct that were upheld against them."""
    vouchers_redeemed: int = 0
    verified_referrals: int = 0
    """People they invited who completed verification."""
    graph: GraphFeatures = NO_FRIENDS

    def __post_init__(self) -> None:
        if not isinstance(self.payments, tuple):
            object.__setattr__(self, "payments", tuple(self.payments))
        for name in (
            "outstanding_pence",
            "limit_pence",
            "defaults",
            "repaid_loans",
            "upheld_disputes",
            "vouchers_redeemed",
            "verified_referrals",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative int")
        for name in ("outstanding_pence", "limit_pence"):
            if getattr(self, name) > _MAX_PENCE:
                raise ValueError(f"{name} is implausibly large")


_MAX_PENCE = 10**15  # keeps 125 * pence well inside int64


@cache
def _weight_table() -> IntArray:
    # Python's float pow rounds these 2,190 values exactly as decimal arithmetic does (a test
    # checks it), so the table does not depend on the platform's maths library.
    return np.array(
        [round(WEIGHT_UNIT * 0.5 ** (d / HALF_LIFE_DAYS)) for d in range(HISTORY_DAYS)],
        dtype=np.int64,
    )


def recency_weight_units(age_days: npt.ArrayLike) -> IntArray:
    """Weight of payments due ``age_days`` before ``as_of``, in WEIGHT_UNIT per payment:
    ``round(1000 * 0.5 ** (age / 365))`` for 0 <= age < HISTORY_DAYS, else 0 (future payments
    and payments older than six years do not count)."""
    age = np.asarray(age_days, dtype=np.int64)
    ok = (age >= 0) & (age < HISTORY_DAYS)
    return np.where(ok, _weight_table()[np.where(ok, age, 0)], 0).astype(np.int64)


@dataclass(frozen=True, eq=False)
class PaymentWeights:
    """Recency-weighted payment counts per person, in WEIGHT_UNIT per payment."""

    on_time: IntArray
    late: IntArray
    missed: IntArray


def aggregate_payment_events(
    n_people: int,
    person_index: npt.ArrayLike,
    age_days: npt.ArrayLike,
    outcome: npt.ArrayLike,
) -> PaymentWeights:
    """Sum recency weights per person and outcome from flat event arrays.

    ``person_index`` is the row in the population, ``age_days`` is ``(as_of - due_on).days``
    and ``outcome`` is OUTCOME_CODES (0 on time, 1 late, 2 missed). A database can do the same
    with ``SUM(weight)`` grouped by person and outcome if it applies :func:`recency_weight_units`
    to each event's age; the integers make the result independent of summation order.
    """
    person = np.asarray(person_index, dtype=np.int64)
    age = np.asarray(age_days, dtype=np.int64)
    code = np.asarray(outcome, dtype=np.int64)
    if not person.shape == age.shape == code.shape or person.ndim != 1:
        raise ValueError("person_index, age_days and outcome must be 1-D and of equal length")
    if person.size:
        if int(person.min()) < 0 or int(person.max()) >= n_people:
            raise ValueError("person_index out of range")
        if int(code.min()) < 0 or int(code.max()) > 2:
            raise ValueError("outcome codes must be 0, 1 or 2")
    weight = recency_weight_units(age)
    # float64 sums of integers are exact below 2**53, far above any real history.
    sums = np.bincount(person * 3 + code, weights=weight, minlength=3 * n_people)
    per = sums.astype(np.int64).reshape(n_people, 3)
    return PaymentWeights(
        on_time=np.ascontiguousarray(per[:, 0]),
        late=np.ascontiguousarray(per[:, 1]),
        missed=np.ascontiguousarray(per[:, 2]),
    )


class _GraphArrays(Protocol):
    @property
    def degree(self) -> npt.NDArray[Any]: ...
    @property
    def friends_mean_score(self) -> npt.NDArray[Any]: ...
    @property
    def pagerank(self) -> npt.NDArray[Any]: ...
    @property
    def effective_size(self) -> npt.NDArray[Any]: ...


_INT_FIELDS = (
    "on_time_weight",
    "late_weight",
    "missed_weight",
    "outstanding_pence",
    "limit_pence",
    "defaults",
    "upheld_disputes",
    "vouchers_redeemed",
    "verified_referrals",
    "account_age_days",
    "friend_count",
    "repaid_loans",
)
_FLOAT_FIELDS = ("friends_mean_score", "pagerank", "effective_size")


@dataclass(frozen=True, eq=False)
class PopulationInputs:
    """The model's inputs for n people as equal-length 1-D arrays, ready for bulk reads.

    Payments arrive pre-aggregated (see :func:`aggregate_payment_events`); ``account_age_days``
    is ``(as_of - registered_on).days``; ``friends_mean_score`` is NaN where the person has no
    scored friends. Arrays are converted to int64 / float64 / bool on construction.
    """

    on_time_weight: IntArray
    late_weight: IntArray
    missed_weight: IntArray
    outstanding_pence: IntArray
    limit_pence: IntArray
    defaults: IntArray
    upheld_disputes: IntArray
    vouchers_redeemed: IntArray
    verified_referrals: IntArray
    verified: BoolArray
    account_age_days: IntArray
    friend_count: IntArray
    friends_mean_score: FloatArray
    pagerank: FloatArray
    effective_size: FloatArray
    repaid_loans: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Loans repaid in full; left out (empty), nobody has repaid one."""

    def __post_init__(self) -> None:
        if len(self.repaid_loans) == 0 and len(self.verified) > 0:
            object.__setattr__(self, "repaid_loans", np.zeros(len(self.verified), dtype=np.int64))
        n: int | None = None
        for f in fields(self):
            if f.name in _INT_FIELDS:
                dtype: type[np.generic] = np.int64
            elif f.name in _FLOAT_FIELDS:
                dtype = np.float64
            else:
                dtype = np.bool_
            arr = np.ascontiguousarray(getattr(self, f.name), dtype=dtype)
            if arr.ndim != 1:
                raise ValueError(f"{f.name} must be one-dimensional")
            if n is None:
                n = arr.shape[0]
            elif arr.shape[0] != n:
                raise ValueError(f"{f.name} has {arr.shape[0]} entries, expected {n}")
            object.__setattr__(self, f.name, arr)
        for name in _INT_FIELDS:
            if name == "account_age_days":
                continue  # registration after as_of is treated as age 0
            arr = getattr(self, name)
            if arr.size and int(arr.min()) < 0:
                raise ValueError(f"{name} must not be negative")
        for name in ("outstanding_pence", "limit_pence"):
            arr = getattr(self, name)
            if arr.size and int(arr.max()) > _MAX_PENCE:
                raise ValueError(f"{name} is implausibly large")

    def __len__(self) -> int:
        return int(self.verified.shape[0])

    @classmethod
    def blank(cls, n: int) -> PopulationInputs:
        """n unverified people with no history and no friends, to fill in place."""
        z = np.zeros(n, dtype=np.int64)
        values: dict[str, Any] = {name: z.copy() for name in _INT_FIELDS}
        values["verified"] = np.zeros(n, dtype=bool)
        values["friends_mean_score"] = np.full(n, np.nan)
        values["pagerank"] = np.ones(n)
        values["effective_size"] = np.zeros(n)
        return cls(**values)

    @classmethod
    def from_citizens(cls, citizens: Sequence[CitizenInputs], as_of: date) -> PopulationInputs:
        """Arrays for a list of people (the per-person :func:`score` goes through this too)."""
        n = len(citizens)
        person: list[int] = []
        ages: list[int] = []
        codes: list[int] = []
        for i, c in enumerate(citizens):
            for p in c.payments:
                person.append(i)
                ages.append((as_of - p.due_on).days)
                codes.append(OUTCOME_CODES[Outcome(p.outcome)])
        w = aggregate_payment_events(n, person, ages, codes)

        def col(get: Callable[[CitizenInputs], float | int | bool]) -> npt.NDArray[Any]:
            return np.array([get(c) for c in citizens])

        return cls(
            on_time_weight=w.on_time,
            late_weight=w.late,
            missed_weight=w.missed,
            outstanding_pence=col(lambda c: c.outstanding_pence),
            limit_pence=col(lambda c: c.limit_pence),
            defaults=col(lambda c: c.defaults),
            repaid_loans=col(lambda c: c.repaid_loans),
            upheld_disputes=col(lambda c: c.upheld_disputes),
            vouchers_redeemed=col(lambda c: c.vouchers_redeemed),
            verified_referrals=col(lambda c: c.verified_referrals),
            verified=col(lambda c: c.verified),
            account_age_days=col(lambda c: (as_of - c.registered_on).days),
            friend_count=col(lambda c: c.graph.friend_count),
            friends_mean_score=col(
                lambda c: (
                    math.nan if c.graph.friends_mean_score is None else c.graph.friends_mean_score
                )
            ),
            pagerank=col(lambda c: c.graph.pagerank),
            effective_size=col(lambda c: c.graph.effective_size),
        )

    def with_graph(self, graph: _GraphArrays) -> PopulationInputs:
        """A copy with friend_count, friends_mean_score, pagerank and effective_size taken from
        :class:`scoring.graph.GraphFeatureArrays` (or anything with those arrays)."""
        from dataclasses import replace

        return replace(
            self,
            friend_count=graph.degree,
            friends_mean_score=graph.friends_mean_score,
            pagerank=graph.pagerank,
            effective_size=graph.effective_size,
        )
