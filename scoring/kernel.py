"""The vectorised kernel: every dimension's points for a whole population at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from scoring.bands import BANDS, SCORE_MAX, SCORE_MIN, band_indices
from scoring.inputs import (
    PopulationInputs,
)
from scoring.rules import (
    _DIM_INDEX,
    BASE_SCORE,
    BROKERAGE_HALF,
    BROKERAGE_MAX,
    DEFAULT_CAP,
    DEFAULT_COST,
    DIMENSIONS,
    DISPUTE_CAP,
    DISPUTE_COST,
    FRIENDS_SCORE_MAX,
    FRIENDS_SCORE_SPAN,
    INFLUENCE_MAX,
    LATE_COST,
    MEMBERSHIP_FULL_DAYS,
    MEMBERSHIP_MAX,
    MISSED_COST,
    ON_TIME_HALF_UNITS,
    ON_TIME_MAX,
    PAYMENT_PENALTY_CAP,
    REFERRAL_CAP,
    REFERRAL_POINTS,
    STARTING_SCORE,
    UTILISATION_FLOOR,
    UTILISATION_TOP,
    VERIFIED_POINTS,
    VOUCHER_CAP,
    VOUCHER_POINTS,
    WEIGHT_UNIT,
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


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

    # Commitments: 40 - 100 * owed/limit for anyone who has borrowed (owing something, or a
    # loan repaid in full); owing with no limit is the floor, owing nothing the top, so paying
    # off never scores less than owing a little. Never borrowed: 0, nothing to measure.
    owed = p.outstanding_pence
    limit = p.limit_pence
    safe_limit = np.maximum(limit, 1)
    util = _round_div(UTILISATION_TOP * safe_limit - 100 * owed, safe_limit)
    util = np.clip(util, UTILISATION_FLOOR, UTILISATION_TOP)
    util = np.where(limit > 0, util, UTILISATION_FLOOR)
    util = np.where(owed > 0, util, UTILISATION_TOP)
    borrowed = (owed > 0) | (p.repaid_loans > 0)
    out["utilisation"] = np.where(borrowed, util, 0).astype(np.int64)
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
