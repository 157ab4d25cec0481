"""What /share's buttons say in the chat (handlers.share): making a new code, and the answer to
a partner's request. The /share screen itself is texts.share."""

from __future__ import annotations

from texts.i18n import _

NEW_CODE_BUTTON = "Make a new code"
NEW_CODE_MADE = "New code made; the old one no longer works."


def allowed_text(partner: str) -> str:
    return _(
        "Allowed: {partner} can see your band, score and when it was computed, "
        "once. You'll be told when they look; /share lists every look."
    ).format(partner=partner)


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
