"""The Britizen score model: five bounded dimensions added to a base and clamped to 350-950.

What goes in is listed exhaustively by :class:`CitizenInputs` (one person) and
:class:`PopulationInputs` (everyone, as arrays): payments, borrowing, account facts, community
actions and friendship-graph features. No demographic, protected or content-based input exists
anywhere in the model: no age, sex, ethnicity, religion, disability, nationality, address or
postcode, income, and nothing a person wrote or said. Friends count only through their scores
and the shape of the friendship graph, and only within FRIEND_INFLUENCE_CAP.

The model is pure and deterministic: it never reads the clock (the caller passes ``as_of``),
never iterates an unordered collection, and every dimension's points come from one vectorised
kernel shared by :func:`score` (one person, with the plain-English explanation) and
:func:`score_population` (the nightly pass), so both give the same integers. Payment history,
commitments, account standing and community use integer arithmetic only; connections use
IEEE-754 float64 elementwise operations, which numpy evaluates identically for one element or a
million.

Score = BASE_SCORE + sum of dimension points, clamped to SCORE_MIN..SCORE_MAX.

=================  =====  =====  ================================================================
dimension          min    max    made of
=================  =====  =====  ================================================================
payment_history    -150   +210   on-time payments (up to +210, saturating), late (-15 each) and
                                 missed (-45 each) payments, penalties capped at -150; every
                                 payment weighted by recency (half-life 365 days, 6-year window)
commitments        -120    +40   what is owed against the limit, only while something is owed
                                 (+40 at 0%, 0 at 40%, -40 at 80% or more, or owing with no
                                 limit), and -40 per loan in default, at most -80
account_standing    -60    +60   identity verified (+20, or -20 if not), membership (+40 over
                                 3 years), upheld disputes (-20 each, at most -40)
community             0    +30   sponsor vouchers redeemed (+2 each, up to +10), verified
                                 referrals (+5 each, up to +20)
connections         -30    +30   friends' mean score (-15..+15), influence by PageRank (0..+8),
                                 brokerage by effective size (0..+7); 0 with no friends
=================  =====  =====  ================================================================

A verified person with no history scores BASE_SCORE + 20 = STARTING_SCORE = 600 ("Good").
"""

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

from scoring.bands import BANDS, SCORE_MAX, SCORE_MIN, Band, band_for, band_indices

__all__ = [
    "BANDS",
    "BASE_SCORE",
    "DIMENSIONS",
    "FRIEND_INFLUENCE_CAP",
    "HALF_LIFE_DAYS",
    "HISTORY_DAYS",
    "MODEL_VERSION",
    "NO_FRIENDS",
    "OUTCOME_CODES",
    "SCORE_MAX",
    "SCORE_MIN",
    "STARTING_SCORE",
    "WEIGHT_UNIT",
    "Band",
    "CitizenInputs",
    "Dimension",
    "DimensionResult",
    "GraphFeatures",
    "Outcome",
    "PaymentEvent",
    "PaymentKind",
    "PaymentWeights",
    "PopulationInputs",
    "PopulationScores",
    "ScoreResult",
    "aggregate_payment_events",
    "band_for",
    "band_indices",
    "recency_weight_units",
    "score",
    "score_population",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MODEL_VERSION = 1
"""Stored with every explanation; bump when any constant or formula below changes."""

BASE_SCORE = 580
STARTING_SCORE = 600
"""A verified citizen with no history: BASE_SCORE + 20 for verification, every other part 0."""

FRIEND_INFLUENCE_CAP = 30
"""Friends (the connections dimension) never move a score by more than this many points up or
down from what the same person would score with no friends at all. Two different sets of friends
can therefore differ by at most twice this; in practice the floor is -15, because only
friends' scores can count against anyone (see connections)."""


# --------------------------------------------------------------------------------------------
# Dimensions and their constants


@dataclass(frozen=True)
class Dimension:
    key: str
    name: str
    min_points: int
    max_points: int
    about: str


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension(
        "payment_history",
        "Payment history",
        -150,
        210,
        "Loan instalments and bills paid on time, late or missed; recent ones count most.",
    ),
    Dimension(
        "commitments",
        "Commitments",
        -120,
        40,
        "How much you owe against your limit, and any loans in default.",
    ),
    Dimension(
        "account_standing",
        "Account standing",
        -60,
        60,
        "Identity verification, how long you have been a member, upheld disputes.",
    ),
    Dimension(
        "community",
        "Community",
        0,
        30,
        "Sponsor vouchers you have used and friends you invited who verified.",
    ),
    Dimension(
        "connections",
        "Connections",
        -FRIEND_INFLUENCE_CAP,
        FRIEND_INFLUENCE_CAP,
        "Your friends' scores and your place in the network; never more than "
        f"{FRIEND_INFLUENCE_CAP} points either way.",
    ),
)
_DIM_INDEX = {d.key: i for i, d in enumerate(DIMENSIONS)}

# Payment history. Weights are integers in thousandths of a payment so sums are exact and
# independent of order (a database SUM, np.bincount and a Python loop all agree).
HALF_LIFE_DAYS = 365
"""A payment's weight halves every year: a missed payment a year ago costs half as much."""
HISTORY_DAYS = 6 * 365
"""Payments due this many days ago or earlier are ignored, like a UK credit file's six years."""
WEIGHT_UNIT = 1000
"""The weight of one payment due on ``as_of``."""
ON_TIME_MAX = 210
ON_TIME_HALF_UNITS = 10 * WEIGHT_UNIT
"""Recency-weighted on-time payments that earn half of ON_TIME_MAX (saturating: 210 * w/(w+10))."""
LATE_COST = 15
MISSED_COST = 45
PAYMENT_PENALTY_CAP = 150

# Commitments.
UTILISATION_TOP = 40
"""Points while owing a negligible share of the limit; each 1% owed costs 1 point."""
UTILISATION_FLOOR = -40
DEFAULT_COST = 40
DEFAULT_CAP = 80

# Account standing.
VERIFIED_POINTS = 20
MEMBERSHIP_MAX = 40
MEMBERSHIP_FULL_DAYS = 3 * 365
DISPUTE_COST = 20
DISPUTE_CAP = 40

# Community.
VOUCHER_POINTS = 2
VOUCHER_CAP = 10
REFERRAL_POINTS = 5
REFERRAL_CAP = 20

# Connections.
FRIENDS_SCORE_MAX = 15
FRIENDS_SCORE_SPAN = 250.0
"""Friends averaging STARTING_SCORE +/- this many points earn +/-FRIENDS_SCORE_MAX."""
INFLUENCE_MAX = 8
"""Earned as INFLUENCE_MAX * (p - 1)/(p + 1) for PageRank p above the mean 1.0, never negative."""
BROKERAGE_MAX = 7
BROKERAGE_HALF = 5.0
"""Effective size earning half of BROKERAGE_MAX: 7 * e/(e + 5)."""

# Every dimension's maximum adds up to the top of the range and every component below stays
# within its dimension's bounds by construction, so reasons always add up to the points shown.
assert BASE_SCORE + sum(d.max_points for d in DIMENSIONS) == SCORE_MAX
assert DIMENSIONS[0].max_points == ON_TIME_MAX
assert FRIENDS_SCORE_MAX + INFLUENCE_MAX + BROKERAGE_MAX == FRIEND_INFLUENCE_CAP
assert BASE_SCORE + VERIFIED_POINTS == STARTING_SCORE


# --------------------------------------------------------------------------------------------
# Inputs


class Outcome(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    MISSED = "missed"


OUTCOME_CODES: Mapping[Outcome, int] = {Outcome.ON_TIME: 0, Outcome.LATE: 1, Outcome.MISSED: 2}
"""The integer codes :func:`aggregate_payment_events` takes."""


class PaymentKind(StrEnum):
    """Both kinds weigh the same; the kind only words the explanation."""

    LOAN_INSTALMENT = "loan_instalment"
    BILL = "bill"


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

    def __post_init__(self) -> None:
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


# --------------------------------------------------------------------------------------------
# The kernel


def _round_div(num: IntArray, den: IntArray | int) -> IntArray:
    """num / den rounded half up, exactly, for den > 0 (floor division handles negatives)."""
    return (2 * num + den) // (2 * den)


# (dimension key, component key) in presentation order.
_COMPONENTS: tuple[tuple[str, str], ...] = (
    ("payment_history", "on_time"),
    ("payment_history", "late"),
    ("payment_history", "missed"),
    ("commitments", "utilisation"),
    ("commitments", "defaults"),
    ("account_standing", "verification"),
    ("account_standing", "membership"),
    ("account_standing", "disputes"),
    ("community", "vouchers"),
    ("community", "referrals"),
    ("connections", "friends_scores"),
    ("connections", "influence"),
    ("connections", "brokerage"),
)


def _components(p: PopulationInputs) -> dict[str, IntArray]:
    """Integer points of every component for every person; keys as in _COMPONENTS."""
    out: dict[str, IntArray] = {}

    # Payment history: saturating credit for on-time payments, linear penalties with one cap.
    on = p.on_time_weight
    out["on_time"] = _round_div(ON_TIME_MAX * on, on + ON_TIME_HALF_UNITS)
    missed_raw = np.minimum(MISSED_COST * p.missed_weight, PAYMENT_PENALTY_CAP * WEIGHT_UNIT)
    penalty_raw = np.minimum(
        LATE_COST * p.late_weight + MISSED_COST * p.missed_weight,
        PAYMENT_PENALTY_CAP * WEIGHT_UNIT,
    )
    missed = _round_div(missed_raw, WEIGHT_UNIT)
    out["missed"] = -missed
    out["late"] = -(_round_div(penalty_raw, WEIGHT_UNIT) - missed)

    # Commitments: 40 - 100 * owed/limit while anything is owed; owing with no limit is the floor.
    owed = p.outstanding_pence
    limit = p.limit_pence
    safe_limit = np.maximum(limit, 1)
    util = _round_div(UTILISATION_TOP * safe_limit - 100 * owed, safe_limit)
    util = np.clip(util, UTILISATION_FLOOR, UTILISATION_TOP)
    util = np.where(limit > 0, util, UTILISATION_FLOOR)
    out["utilisation"] = np.where(owed > 0, util, 0).astype(np.int64)
    out["defaults"] = -np.minimum(DEFAULT_COST * p.defaults, DEFAULT_CAP)

    # Account standing.
    out["verification"] = np.where(p.verified, VERIFIED_POINTS, -VERIFIED_POINTS).astype(np.int64)
    age = np.clip(p.account_age_days, 0, MEMBERSHIP_FULL_DAYS)
    out["membership"] = MEMBERSHIP_MAX * age // MEMBERSHIP_FULL_DAYS
    out["disputes"] = -np.minimum(DISPUTE_COST * p.upheld_disputes, DISPUTE_CAP)

    # Community.
    out["vouchers"] = np.minimum(VOUCHER_POINTS * p.vouchers_redeemed, VOUCHER_CAP)
    out["referrals"] = np.minimum(REFERRAL_POINTS * p.verified_referrals, REFERRAL_CAP)

    # Connections: float64 elementwise arithmetic only (no transcendental functions, whose
    # last bit can differ between numpy's vector and scalar code paths), then rounded.
    has_friends = p.friend_count > 0
    mean = p.friends_mean_score
    scored = has_friends & np.isfinite(mean)
    rel = np.where(scored, mean, STARTING_SCORE) - STARTING_SCORE
    friends = np.clip(
        rel * FRIENDS_SCORE_MAX / FRIENDS_SCORE_SPAN, -FRIENDS_SCORE_MAX, FRIENDS_SCORE_MAX
    )
    out["friends_scores"] = np.where(scored, np.rint(friends), 0).astype(np.int64)
    pr = np.where(np.isfinite(p.pagerank), np.maximum(p.pagerank, 1.0), 1.0)
    influence = INFLUENCE_MAX * (pr - 1.0) / (pr + 1.0)
    out["influence"] = np.where(has_friends, np.rint(influence), 0).astype(np.int64)
    eff = np.where(np.isfinite(p.effective_size), np.maximum(p.effective_size, 0.0), 0.0)
    brokerage = BROKERAGE_MAX * eff / (eff + BROKERAGE_HALF)
    out["brokerage"] = np.where(has_friends, np.rint(brokerage), 0).astype(np.int64)
    return out


def _dimension_points(components: Mapping[str, IntArray], n: int) -> IntArray:
    points = np.zeros((n, len(DIMENSIONS)), dtype=np.int64)
    for dim_key, comp_key in _COMPONENTS:
        points[:, _DIM_INDEX[dim_key]] += components[comp_key]
    # Components are bounded so each sum already lies within its dimension; the clip is the
    # written guarantee (notably the friend cap), not a correction.
    lo = np.array([d.min_points for d in DIMENSIONS], dtype=np.int64)
    hi = np.array([d.max_points for d in DIMENSIONS], dtype=np.int64)
    return np.clip(points, lo, hi)


@dataclass(frozen=True, eq=False)
class PopulationScores:
    score: IntArray
    band_index: npt.NDArray[np.int8]
    """Index into BANDS."""
    points: IntArray
    """Shape (n, 5): each dimension's points, columns in DIMENSIONS order."""

    def __len__(self) -> int:
        return int(self.score.shape[0])

    def band_name(self, i: int) -> str:
        return BANDS[int(self.band_index[i])].name

    def breakdown(self, i: int) -> dict[str, int]:
        """``{dimension key: points}`` for person i: the compact form to store nightly."""
        return {d.key: int(self.points[i, j]) for j, d in enumerate(DIMENSIONS)}


def score_population(inputs: PopulationInputs) -> PopulationScores:
    """Scores and per-dimension points for everyone at once (about 0.3 s per million)."""
    n = len(inputs)
    points = _dimension_points(_components(inputs), n)
    total = np.clip(BASE_SCORE + points.sum(axis=1), SCORE_MIN, SCORE_MAX)
    return PopulationScores(score=total, band_index=band_indices(total), points=points)


# --------------------------------------------------------------------------------------------
# One person, explained


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
class ScoreResult:
    score: int
    band: Band
    dimensions: tuple[DimensionResult, ...]
    reasons_up: tuple[str, ...]
    """Up to three reasons pushing the score up, biggest first."""
    reasons_down: tuple[str, ...]
    """Up to three reasons pulling it down, biggest first."""
    tips: tuple[str, ...]
    """One to three concrete next steps, aimed at the weakest dimension first."""
    as_of: date
    model_version: int = MODEL_VERSION

    def dimension(self, key: str) -> DimensionResult:
        for d in self.dimensions:
            if d.key == key:
                return d
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready and stable: same result, same dict, same key order."""
        return {
            "model_version": self.model_version,
            "as_of": self.as_of.isoformat(),
            "score": self.score,
            "band": self.band.name,
            "dimensions": [
                {
                    "key": d.key,
                    "name": d.name,
                    "points": d.points,
                    "min_points": d.min_points,
                    "max_points": d.max_points,
                    "reasons": list(d.reasons),
                }
                for d in self.dimensions
            ],
            "reasons_up": list(self.reasons_up),
            "reasons_down": list(self.reasons_down),
            "tips": list(self.tips),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScoreResult:
        """Inverse of :meth:`to_dict`; ValueError if the band does not match the score."""
        s = int(data["score"])
        band = band_for(s)
        if data["band"] != band.name:
            raise ValueError(f"band {data['band']!r} does not match score {s}")
        return cls(
            score=s,
            band=band,
            dimensions=tuple(
                DimensionResult(
                    key=str(d["key"]),
                    name=str(d["name"]),
                    points=int(d["points"]),
                    min_points=int(d["min_points"]),
                    max_points=int(d["max_points"]),
                    reasons=tuple(str(r) for r in d["reasons"]),
                )
                for d in data["dimensions"]
            ),
            reasons_up=tuple(str(r) for r in data["reasons_up"]),
            reasons_down=tuple(str(r) for r in data["reasons_down"]),
            tips=tuple(str(t) for t in data["tips"]),
            as_of=date.fromisoformat(str(data["as_of"])),
            model_version=int(data["model_version"]),
        )


def score(inputs: CitizenInputs, *, as_of: date) -> ScoreResult:
    """One person's score with its explanation, as of the given date.

    The points come from the same kernel as :func:`score_population`, so the two always agree.
    """
    pop = PopulationInputs.from_citizens([inputs], as_of)
    comps = {k: int(v[0]) for k, v in _components(pop).items()}
    points = _dimension_points({k: np.array([v]) for k, v in comps.items()}, 1)[0]
    total = int(np.clip(BASE_SCORE + int(points.sum()), SCORE_MIN, SCORE_MAX))
    facts = _Facts.of(inputs, as_of)
    reasons = _reasons(facts, comps)

    dims: list[DimensionResult] = []
    for j, d in enumerate(DIMENSIONS):
        dims.append(
            DimensionResult(
                key=d.key,
                name=d.name,
                points=int(points[j]),
                min_points=d.min_points,
                max_points=d.max_points,
                reasons=tuple(r.text for r in reasons if r.dimension == d.key),
            )
        )
    ranked = [r for r in reasons if r.points != 0]
    up = sorted((r for r in ranked if r.points > 0), key=lambda r: (-r.points, r.order))
    down = sorted((r for r in ranked if r.points < 0), key=lambda r: (r.points, r.order))
    return ScoreResult(
        score=total,
        band=band_for(total),
        dimensions=tuple(dims),
        reasons_up=tuple(r.text for r in up[:3]),
        reasons_down=tuple(r.text for r in down[:3]),
        tips=_tips(tuple(dims), facts, comps),
        as_of=as_of,
    )


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


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _money(pence: int) -> str:
    return f"£{pence // 100:,}.{pence % 100:02d}"


def _payment_noun(kinds: frozenset[PaymentKind], n: int) -> str:
    if kinds == {PaymentKind.BILL}:
        return _plural(n, "bill")
    if kinds == {PaymentKind.LOAN_INSTALMENT}:
        return _plural(n, "loan instalment")
    return _plural(n, "payment")


def _when(facts: _Facts, o: Outcome) -> str:
    total, recent = facts.counts[o], facts.recent[o]
    if total == recent:
        return "in the last year"
    if recent == 0:
        return "in the last 6 years, none in the last year"
    return f"in the last 6 years, {recent} in the last year"


def _duration(days: int) -> str:
    if days < 31:
        return _plural(days, "day")
    if days < 365:
        return _plural(days // 30 if days // 30 < 12 else 11, "month")
    years, months = days // 365, (days % 365) // 30
    text = _plural(years, "year")
    return f"{text} and {_plural(months, 'month')}" if months else text


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
        add(cm, c["utilisation"], f"Owing {_money(owed)} of your {_money(limit)} limit ({pct}%)")
    else:
        add(cm, c["utilisation"], f"Owing {_money(owed)} with no credit limit")
    if i.defaults:
        add(cm, c["defaults"], f"{_plural(i.defaults, 'loan')} in default")
    else:
        add(cm, 0, "No loans in default")

    # Account standing.
    st = "account_standing"
    add(st, c["verification"], "Identity verified" if i.verified else "Identity not verified yet")
    age = facts.account_age_days
    add(st, c["membership"], f"Member for {_duration(age)}" if age else "New member")
    if i.upheld_disputes:
        add(st, c["disputes"], _plural(i.upheld_disputes, "upheld dispute"))
    else:
        add(st, 0, "No upheld disputes")

    # Community.
    cy = "community"
    v = i.vouchers_redeemed
    cap_note = ", the most that counts" if c["vouchers"] == VOUCHER_CAP else ""
    add(
        cy,
        c["vouchers"],
        f"{_plural(v, 'sponsor voucher')} redeemed{cap_note}"
        if v
        else "No sponsor vouchers redeemed yet",
    )
    r = i.verified_referrals
    cap_note = ", the most that counts" if c["referrals"] == REFERRAL_CAP else ""
    add(
        cy,
        c["referrals"],
        f"{_plural(r, 'verified referral')}{cap_note}" if r else "No verified referrals yet",
    )

    # Connections.
    cn = "connections"
    g = i.graph
    if g.friend_count == 0:
        add(cn, 0, "No friends on Britizen yet, so connections neither add nor take away")
    else:
        friends = _plural(g.friend_count, "friend")
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
                f"Pay what you owe down to {_money(target)}, 30% of your limit: worth about "
                f"+{gain} points."
            )
    elif i.outstanding_pence:
        out.append(
            f"Pay off the {_money(i.outstanding_pence)} you owe: owing with no credit limit "
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
