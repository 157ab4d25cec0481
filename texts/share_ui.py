"""What /share's buttons say in the chat (handlers.share): making a new code, and the answer to
a partner's request. The /share screen itself is texts.share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from texts.checks import question

if TYPE_CHECKING:
    from services.checks import Check
from texts.i18n import _

NEW_CODE_BUTTON = "Make a new code"
NEW_CODE_MADE = "New code made; the old one no longer works."
# The explicit choice (issue 20): without it a code answers one yes/no question only.
SHARE_SCORE_BUTTON = "📊 Share my score instead"
SCORE_CODE_MADE = "New code made: it shares your score. The old one no longer works."
ALLOWED_SCORE = (
    "Allowed: {partner} can see your band, score and when it was computed, once. "
    "You'll be told when they look; /share lists every look."
)
ALLOWED_CHECK = (
    "Allowed: {partner} gets the answer to “{question}”, once, and nothing else. You'll be "
    "told the answer they get; /share lists every question asked."
)


def allowed_text(partner: str, check: Check | None = None) -> str:
    if check is None:
        return ALLOWED_SCORE.format(partner=partner)
    return ALLOWED_CHECK.format(partner=partner, question=question(check))


def denied_text(partner: str) -> str:
    return _("Denied: {partner} is told only that you said no. Nothing was shared.").format(
        partner=partner
    )


def blocked_text(partner: str) -> str:
    return _(
        "Denied, and {partner} can't ask you again. Nothing was shared. /share "
        "lists who you've blocked, with a button to undo it."
    ).format(partner=partner)


def block_button(partner: str) -> str:
    return _("🚫 Block {partner}").format(partner=partner)


def unblock_button(partner: str) -> str:
    return _("Unblock {partner}").format(partner=partner)


def blocked_toast(partner: str) -> str:
    return _("{partner} can no longer ask to see your score.").format(partner=partner)


def unblocked_toast(partner: str) -> str:
    return _("{partner} can ask again (you still choose each time).").format(partner=partner)


def blocked_line(partners: list[str]) -> str:
    if not partners:
        return ""
    return _("\n\nBlocked from asking: ") + ", ".join(map(str, partners)) + "."


def partners_text(blocked: list[str]) -> str:
    """/share after a Block or Unblock: the partners, with the code left as it was."""
    lines = [
        _("Partners who asked about or looked at your score can be blocked from asking again.")
    ]
    lines.append(
        _("Blocked from asking: ") + ", ".join(map(str, blocked)) + "."
        if blocked
        else _("Nobody is blocked.")
    )
    lines.append(_("Your one-time code is unchanged; /share shows it with who has looked."))
    return "\n\n".join(map(str, lines))
