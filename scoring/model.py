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
commitments        -120    +40   what is owed against the limit, once the person has borrowed
                                 (+40 at 0%, so also after repaying in full, 0 at 40%, -40 at
                                 80% or more, or owing with no limit; 0 if never borrowed),
                                 and -40 per loan in default, at most -80
account_standing    -60    +60   identity verified (+20, or -20 if not), membership (+40 over
                                 3 years), upheld disputes (-20 each, at most -40)
community             0    +30   sponsor vouchers redeemed (+2 each, up to +10), verified
                                 referrals (+5 each, up to +20)
connections         -30    +30   friends' mean score (-15..+15), influence by PageRank (0..+8),
                                 brokerage by effective size (0..+7); 0 with no friends
=================  =====  =====  ================================================================

A verified person with no history scores BASE_SCORE + 20 = STARTING_SCORE = 600 ("Good").

The model is built in modules: :mod:`scoring.rules` (constants and dimensions),
:mod:`scoring.inputs`, :mod:`scoring.kernel` (vectorised), :mod:`scoring.explain` and
:mod:`scoring.reasons` (one person, in plain English). This module is their public face.
"""

from scoring.bands import BANDS, SCORE_MAX, SCORE_MIN, Band, band_for, band_indices
from scoring.explain import (
    DimensionResult,
    ScoreResult,
    score,
)
from scoring.inputs import (
    NO_FRIENDS,
    OUTCOME_CODES,
    CitizenInputs,
    GraphFeatures,
    Outcome,
    PaymentEvent,
    PaymentKind,
    PaymentWeights,
    PopulationInputs,
    aggregate_payment_events,
    recency_weight_units,
)
from scoring.kernel import (
    PopulationScores,
    score_population,
)
from scoring.rules import (
    BASE_SCORE,
    DIMENSIONS,
    FRIEND_INFLUENCE_CAP,
    HALF_LIFE_DAYS,
    HISTORY_DAYS,
    MODEL_VERSION,
    STARTING_SCORE,
    WEIGHT_UNIT,
    Dimension,
)

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
