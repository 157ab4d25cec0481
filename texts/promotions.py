"""What a sponsor's promotion says in a citizen's chat, around the sponsor's own words.

Plain text (no parse mode), so nothing a sponsor writes can break or fake formatting. The
keyboard itself and the length limits are services.promotion_messages'.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from texts.format import local_time
from texts.i18n import _

SPONSORED_LABEL = "📣 Sponsored by"
FOOTER = "You get offers because you opted in. Tap “Stop offers” to stop them at any time."
REDEEM_BUTTON = "🎟 Redeem"
STOP_OFFERS_BUTTON = "🔕 Stop offers"


def promotion_text(
    sponsor_name: str,
    title: str,
    text: str,
    expires_at: datetime,
    timezone: ZoneInfo,
    *,
    has_voucher: bool,
    link_host: str | None = None,
) -> str:
    """The label, the sponsor's title and text, where the sponsor's link goes, when the offer
    ends, and the opt-out footer."""
    expiry = local_time(expires_at, timezone)
    lines = [f"{SPONSORED_LABEL} {sponsor_name}", "", title, "", text, ""]
    if link_host:
        # Sponsors have no verified domain: the citizen sees where the button really goes.
        lines.append(_("🔗 The link button opens {link_host}").format(link_host=link_host))
    if has_voucher:
        lines.append(
            _("Tap “Redeem” for your voucher code. Offer ends {expiry}.").format(expiry=expiry)
        )
    else:
        lines.append(_("Offer ends {expiry}.").format(expiry=expiry))
    lines += ["", FOOTER]
    return "\n".join(map(str, lines))
