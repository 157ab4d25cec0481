"""The model's rules: its version, the base and starting scores, the five dimensions and every
constant their points are made of (the table in :mod:`scoring.model` explains them)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from scoring.bands import SCORE_MAX

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


MODEL_VERSION = 2
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
        "How much you owe against your limit (owing nothing after repaying scores best), and "
        "any loans in default.",
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
"""Points while owing nothing (after a loan repaid in full) or a negligible share of the limit;
each 1% owed costs 1 point. Someone who has never borrowed gets 0: nothing to measure."""
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
