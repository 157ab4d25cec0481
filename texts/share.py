"""/share as the citizen reads it: the one-time code, who has asked or looked, and partners'
requests. A code answers one yes/no question unless the citizen chose to share the score
(issue 20); each question is worded by texts.checks."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from texts.checks import answer, question
from texts.format import local_time

if TYPE_CHECKING:
    from services.checks import Check
    from services.sharing import AccessEntry, NewCode

CODE_LINE = "Your one-time code: {code}"
CHECKS_CODE_EXPLAINED = (
    "It answers one yes/no question from whoever you give it to, such as “Are you 18 or "
    "over?” or “Is your Britizen score band Good or better?”. They get Yes or No and nothing "
    "else — not your score. It works once, until {until} (10 minutes), and you're told the "
    "question and the answer. Making a new code cancels this one."
)
SCORE_CODE_EXPLAINED = (
    "This code shares your score: whoever has it sees your band, your score and when it was "
    "computed, once, until {until} (10 minutes). Give it only to someone you want to see your "
    "score. “Make a new code” gives a code for yes/no answers only and cancels this one."
)
LOG_HEADING = "Who has asked about you:"
NOBODY_YET = "Nobody has asked about you yet."
LOG_SCORE_LINE = "• {partner} — {at}, {how}: saw your score"
LOG_CHECK_LINE = "• {partner} — {at}, {how}: “{question}” {answer}"
LOG_BOOST_REVOKED_LINE = (
    "• {partner} — {at}: you removed them from Boost; they can no longer report to your record"
)
LOG_BOOST_ENDED_LINE = (
    "• {partner} — {at}: Britizen removed them from Boost; they can no longer report to your record"
)
VIA_CODE = "with a code"
VIA_REQUEST = "you allowed it"


def _log_line(entry: AccessEntry, tz: ZoneInfo) -> str:
    at = local_time(entry.at, tz)
    if entry.via == "boost_revoked":
        return LOG_BOOST_REVOKED_LINE.format(partner=entry.partner, at=at)
    if entry.via == "boost_ended":
        return LOG_BOOST_ENDED_LINE.format(partner=entry.partner, at=at)
    how = VIA_CODE if entry.via == "code" else VIA_REQUEST
    if entry.check is None:
        return LOG_SCORE_LINE.format(partner=entry.partner, at=at, how=how)
    return LOG_CHECK_LINE.format(
        partner=entry.partner,
        at=at,
        how=how,
        question=question(entry.check),
        answer=answer(bool(entry.answer)),
    )


def share_text(code: NewCode, log: list[AccessEntry], tz: ZoneInfo) -> str:
    until = code.expires_at.astimezone(tz).strftime("%H:%M")
    explained = SCORE_CODE_EXPLAINED if code.shares_score else CHECKS_CODE_EXPLAINED
    lines = [CODE_LINE.format(code=code.code), "", explained.format(until=until), ""]
    if log:
        lines.append(LOG_HEADING)
        lines += [_log_line(entry, tz) for entry in log]
    else:
        lines.append(NOBODY_YET)
    return "\n".join(map(str, lines))


REQUEST_CLOSED = "This request is no longer open."
ALLOW_BUTTON = "Allow"
DENY_BUTTON = "Deny"
SCORE_REQUEST = (
    "{partner} asks to see your Britizen score itself: the number, your band and when it was "
    "computed — nothing else. Allow it once, or deny: they are only told your answer."
)
CHECK_REQUEST = (
    "{partner} asks one yes/no question about you:\n\n“{question}”\n\nIf you allow it, they "
    "get the answer (Yes or No) once, and nothing else — not your score. If you deny, they "
    "are only told you said no."
)


def request_text(partner: str, check: Check | None = None) -> str:
    """A partner's request, sent with Allow / Deny buttons: the exact question, or plainly
    that it is the score itself."""
    if check is None:
        return SCORE_REQUEST.format(partner=partner)
    return CHECK_REQUEST.format(partner=partner, question=question(check))


SEEN_WITH_CODE = (
    "{partner} has just seen your score ({band}, {score}) with your code. /share lists "
    "everyone who has."
)
SEEN_WITH_PERMISSION = (
    "{partner} has just seen your score ({band}, {score}) with your permission. /share lists "
    "everyone who has."
)
ASKED_WITH_CODE = (
    "{partner} asked “{question}” with your code and was told: {answer}. Nothing else was "
    "shared. /share lists every question asked."
)
ASKED_WITH_PERMISSION = (
    "{partner} asked “{question}” with your permission and was told: {answer}. Nothing else "
    "was shared. /share lists every question asked."
)


def seen_text(partner: str, band_name: str, score: int, *, with_code: bool) -> str:
    """Told to the citizen each time a partner reads their score."""
    words = SEEN_WITH_CODE if with_code else SEEN_WITH_PERMISSION
    return words.format(partner=partner, band=band_name, score=score)


def asked_text(partner: str, check: Check, result: bool, *, with_code: bool) -> str:
    """Told to the citizen each time a partner gets a yes/no answer about them."""
    words = ASKED_WITH_CODE if with_code else ASKED_WITH_PERMISSION
    return words.format(partner=partner, question=question(check), answer=answer(result))


BLOCK_BUTTON = "🚫 Deny and never ask again"
