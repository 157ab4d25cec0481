"""What the offers buttons and /offers say in the chat (handlers.offers), beyond texts.offers:
button labels, toasts, refusals to redeem, the paging line and the voucher message."""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

from scoring.rules import VOUCHER_CAP, VOUCHER_POINTS
from texts.format import local_time
from texts.i18n import _

YES_BUTTON = "✅ Yes, send me offers"
NO_THANKS_BUTTON = "No thanks"
GET_OFFERS_BUTTON = "🔔 Get offers"
MORE_OFFERS_BUTTON = "More offers ▶"
SHOW_MY_CODE_BUTTON = "🎟 Show my code"

OFFERS_ON_TOAST = "Offers on."
NO_OFFERS_TOAST = "No offers."
OFFERS_STOPPED_TOAST = "Offers stopped."
CODE_AGAIN_TOAST = "Here's your code."
REDEEMED_TOAST = "Redeemed!"

# Why an offer can't be redeemed (the handler maps each refusal to one of these).
WITHDRAWN = "The sponsor has withdrawn this offer, so it can't be redeemed any more."
NOT_FOR_YOU = (
    "This offer isn't available to you, so there's no code to show. /offers lists "
    "the offers you can redeem."
)
NO_VOUCHER = "This offer has no voucher code to redeem."
VOUCHERS_GONE = "Sorry — every voucher for this offer has already been claimed."


def offer_ended(expires_at: datetime, tz: ZoneInfo) -> str:
    return _("This offer ended on {expires_at}, so it can't be redeemed any more.").format(
        expires_at=local_time(expires_at, tz)
    )


def queued_cancelled(cancelled: int) -> str:
    """Fills texts.offers.STOPPED's {cancelled}: what happened to offers still queued."""
    if cancelled > 1:
        return _(", and the {cancelled} still queued for you won't be sent").format(
            cancelled=cancelled
        )
    if cancelled == 1:
        return _(", and the one still queued for you won't be sent")
    return ""


def showing(first: int, last: int, total: int) -> str:
    return _("Showing {first}–{last} of {total} offers.").format(
        first=first, last=last, total=total
    )


def voucher_text(
    *, code: str, title: str, sponsor_name: str, expires_at: datetime, again: bool, tz: ZoneInfo
) -> str:
    """HTML, so the code is one tap to copy; everything from the sponsor is escaped."""
    opening = _("Here's your code again") if again else _("🎟 Your voucher code")
    lines = [
        _("{opening} for “{escape}” from {escape2} (sponsored):").format(
            opening=opening, escape=html.escape(title), escape2=html.escape(sponsor_name)
        ),
        "",
        _("<code>{escape}</code>").format(escape=html.escape(code)),
        "",
        _("Offer ends {expires_at}.").format(expires_at=local_time(expires_at, tz)),
    ]
    if not again:
        lines += [
            "",
            _(
                "Redeeming adds {voucher_points} community points to your score at the "
                "next nightly update (vouchers count up to +{voucher_cap})."
            ).format(voucher_points=VOUCHER_POINTS, voucher_cap=VOUCHER_CAP),
        ]
    return "\n".join(map(str, lines))
