"""What sponsors and partners read from the HTTP API: error details and open-data prose.

Error details are short lower-case phrases (clients branch on the stable ``error`` code, people
read ``detail``); field messages complete the sentence "<field> ..." in a 422's ``fields``.
The OpenAPI document's summaries stay beside the route table in api.openapi: they document
the routes rather than answer a request.
"""

from __future__ import annotations

# -- the guard every /api request passes (api.app) ----------------------------------------------

MISSING_KEY = "send your API key as 'Authorization: Bearer <key>'"
UNEXPECTED = "an unexpected error occurred; it was logged"


def wrong_key(kind: str) -> str:
    """``kind`` is "sponsor", "partner" or "operator": the route's kind, which the key is not."""
    return f"the API key is not a valid {kind} key"


_OTHER_KINDS_KEY = (
    "this is {sent} key ({prefix}...), and this route takes only {needed} key; "
    "each kind of key opens only its own routes"
)
_ARTICLE = {"sponsor": "a sponsor", "partner": "a partner", "operator": "an operator"}


def other_kinds_key(sent: str, prefix: str, needed: str) -> str:
    """A well-formed key of another kind: say which, so the caller picks the right one."""
    return _OTHER_KINDS_KEY.format(
        sent=_ARTICLE.get(sent, sent), prefix=prefix, needed=_ARTICLE.get(needed, needed)
    )


def body_too_large(limit: int) -> str:
    return f"the request body must be at most {limit} bytes"


def rate_limited(retry_after: int) -> str:
    return f"too many requests; retry in {retry_after} s"


def no_such_route(method: str, path: str) -> str:
    return f"no such route: {method} {path}"


def method_not_allowed(method: str, path: str) -> str:
    return f"{path} does not take {method}; the Allow header lists what it takes"


# -- request bodies (api.errors) ----------------------------------------------------------------

INVALID_FIELDS = "the request has invalid fields"
NOT_JSON = "the request body must be a valid JSON document (UTF-8, nested at most 64 deep)"

# -- promotions ---------------------------------------------------------------------------------


def no_promotion(promotion_id: int | str) -> str:
    return f"no promotion {promotion_id}"


# -- partners -----------------------------------------------------------------------------------

# Fixed, unlike the registration message, which can quote part of what was typed: an API error
# must never echo an NI number back into a partner's logs.
NI_NUMBER = "must be a UK National Insurance number: two letters, six digits, then A, B, C or D"
IN_THE_FUTURE = "must not be in the future"


def too_long_ago(years: int, earliest: str) -> str:
    return (
        f"must be within the last {years} years (on or after {earliest}): older payment "
        "records are not kept on a credit record"
    )


def event_held(monthly_limit: int) -> str:
    """Why a partner's event was stored but held (services.event_rules)."""
    return (
        "held for review: this request takes one person's events of one kind in one month "
        f"from you beyond {monthly_limit}, more than real accounts produce; none of this "
        "request's events about this person count until Britizen has reviewed them"
    )


NO_ACCESS_REQUEST = "no such access request"
# Held, applied and refused events read alike except for this: a refusal says only that the
# person is no longer accepted, never why (that would say they had an account).
EVENT_REFUSED = "Britizen no longer accepts events about this person."

# -- reading a score with a citizen's one-time code (api.scores) --------------------------------

CODE_NOT_FOUND = "no score is shared under this code; check it was typed correctly"
CODE_EXPIRED = "this code has expired: codes are valid for 10 minutes; ask the person for a new one"
CODE_USED = "this code has already been used: each code works once; ask for a new one"

# -- open data ----------------------------------------------------------------------------------

FORMAT_CHOICES = "must be json or csv"
DATASET_NAME = "Britizen citizens by score band and postcode area"
DATASET_DESCRIPTION = (
    "How many registered citizens are in each score band, nationally and by postcode "
    "area (the letters of the postcode district; 'unknown' for people who gave none)."
)


def suppression_note(min_cell: int) -> str:
    return (
        f"Any cell covering fewer than {min_cell} people, but at least one, is suppressed: its "
        "count is null and suppressed is true. A count of 0 is published, since it describes "
        "nobody."
    )


def complementary_note(min_cell: int) -> str:
    return (
        "Because the totals are published too, a small count could otherwise be worked out by "
        "adding and subtracting other figures, so some further cells are suppressed as well: "
        "the smallest that close every such gap. From the published figures alone, every "
        f"suppressed count of 1 to {min_cell - 1} could as well be 0, or {min_cell} or more. "
        "Suppressed cells are not marked as small or as protecting a small one, because saying "
        "which would itself give the small counts away."
    )


def licence_notice(licence: str) -> str:
    return f"Contains Britizen data, published under the {licence}."


def csv_heading(licence: str, licence_url: str) -> str:
    """The first comment line of the CSV (a CSV has no other place for the licence)."""
    return f"{DATASET_NAME}. Licence: {licence} ({licence_url})"


def csv_computed_at(timestamp: str) -> str:
    return f"Computed at: {timestamp}"


# Access requests' manners (issue 17): every refusal names the field and says when to ask again.
def too_many_open_requests(cap: int) -> str:
    return (
        f"ni_number: you have {cap} access requests open from the last 24 hours, the most "
        "allowed; wait for answers or for them to expire before asking more"
    )


def cooling_down(until: str) -> str:
    return (
        "ni_number: this person declined your last request; you can ask about them again "
        f"from {until}"
    )


PARTNER_BLOCKED = "ni_number: this person has asked not to receive requests from you"


# -- operators (api.operator) -------------------------------------------------------------------

_WEEKS_RANGE = "must be a whole number of weeks from 1 to {most}"


def weeks_range(most: int) -> str:
    return _WEEKS_RANGE.format(most=most)
