"""The yes/no checks in words: each question as the citizen reads it (on the Allow prompt, in the
message after an answer and in /share's log), and what partners read from POST /api/v1/checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.checks import Check

# -- the questions, as the citizen reads them ----------------------------------------------------

BAND_AT_LEAST_QUESTION = "Is your Britizen score band {band} or better?"
NO_MISSED_PAYMENTS_QUESTION = "Have you missed no payments in the last {months} months?"
NO_MISSED_PAYMENTS_ONE_MONTH_QUESTION = "Have you missed no payments in the last month?"
VERIFIED_IDENTITY_QUESTION = "Is your identity verified with Britizen?"
AGE_AT_LEAST_QUESTION = "Are you {age} or over?"
YES = "Yes"
NO = "No"


def question(check: Check) -> str:
    """``check`` as the plain question the citizen is shown."""
    name, value = check.name.value, check.value
    if name == "band_at_least":
        return BAND_AT_LEAST_QUESTION.format(band=value)
    if name == "no_missed_payments_months":
        if value == 1:
            return NO_MISSED_PAYMENTS_ONE_MONTH_QUESTION
        return NO_MISSED_PAYMENTS_QUESTION.format(months=value)
    if name == "verified_identity":
        return VERIFIED_IDENTITY_QUESTION
    return AGE_AT_LEAST_QUESTION.format(age=value)


def answer(result: bool) -> str:
    return YES if result else NO


# -- what partners read (api.checks, api.scores); short lower-case phrases like texts.api ----------

UNKNOWN_CHECK = (
    "must name one of the checks: band_at_least, no_missed_payments_months, "
    "verified_identity, age_at_least (score_at_least is not offered: it would give the score "
    "away by bisection)"
)
NO_CONSENT = "give the citizen's one-time code (code) or an access request's id (access_request_id)"
BOTH_CONSENTS = "give code or access_request_id, not both"
SCORE_NOT_SHARED = (
    "the person chose to share yes/no answers only with this code, not their score: ask a "
    "check with POST /api/v1/checks, or ask them for a code that shares the score"
)
REQUEST_PENDING = "access_request_id: the person has not answered this request yet"
REQUEST_DENIED = "access_request_id: the person denied this request"
REQUEST_FOR_SCORE = (
    "access_request_id: this request asked to see the score, not a yes/no question; read it "
    "with GET /api/v1/access-requests/{id}"
)
OTHER_QUESTION = (
    "check: the person allowed the question this request named, not this one; ask a new "
    "request for another question"
)
REQUEST_EXPIRED = "access_request_id: this request has expired; ask again"
REQUEST_USED = "access_request_id: this request has already been answered; each answers once"


THRESHOLD_LOCKED = (
    "check.value: you were answered {name} {earlier} about this person; until {until} you may "
    "ask this check about them only with that value"
)


def threshold_locked(name: str, earlier: str | None, until: str) -> str:
    """409: a partner moving a threshold it already asked this person about (bisection)."""
    return THRESHOLD_LOCKED.format(name=name, earlier=earlier, until=until)
