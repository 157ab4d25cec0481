"""/share as the citizen reads it: the one-time code, who has looked, and partners' requests."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from texts.format import local_time
from texts.i18n import _

if TYPE_CHECKING:
    from services.sharing import AccessEntry, NewCode


def share_text(code: NewCode, log: list[AccessEntry], tz: ZoneInfo) -> str:
    until = code.expires_at.astimezone(tz).strftime("%H:%M")
    lines = [
        _("Your one-time code: {code}").format(code=code.code),
        "",
        _(
            "Give it only to someone you want to see your score. It works once, "
            "until {until} (10 minutes). They see your band, your score and when "
            "it was computed — nothing else. Making a new code cancels this one."
        ).format(until=until),
        "",
    ]
    if log:
        lines.append(_("Who has looked at your score:"))
        lines += [
            _("• {partner} — {at} ({value})").format(
                partner=e.partner,
                at=local_time(e.at, tz),
                value=_("with a code") if e.via == "code" else _("you allowed it"),
            )
            for e in log
        ]
    else:
        lines.append(_("Nobody has looked at your score yet."))
    return "\n".join(map(str, lines))


REQUEST_CLOSED = "This request is no longer open."
ALLOW_BUTTON = "Allow"
DENY_BUTTON = "Deny"


def request_text(partner: str) -> str:
    """A partner asks to see the score; sent with Allow / Deny buttons."""
    return _(
        "{partner} asks to see your Britizen score (your band, score and when "
        "it was computed — nothing else). Allow it once, or deny: they are "
        "only told your answer."
    ).format(partner=partner)


def seen_text(partner: str, band_name: str, score: int, *, with_code: bool) -> str:
    """Told to the citizen each time a partner reads their score."""
    return _(
        "{partner} has just seen your score ({band_name}, {score}) with your "
        "{value}. /share lists everyone who has."
    ).format(
        partner=partner,
        band_name=_(band_name),
        score=score,
        value="code" if with_code else "permission",
    )


BLOCK_BUTTON = "🚫 Deny and never ask again"
