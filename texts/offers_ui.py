"""What the offers buttons and /offers say in the chat (handlers.offers), beyond texts.offers:
button labels, toasts, refusals to redeem, the paging line and the voucher message."""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

from scoring.rules import VOUCHER_CAP, VOUCHER_POINTS
from texts.format import local_time

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
    return f"This offer ended on {local_time(expires_at, tz)}, so it can't be redeemed any more."


def queued_cancelled(cancelled: int) -> str:
    """Fills texts.offers.STOPPED's {cancelled}: what happened to offers still queued."""
    if cancelled > 1:
        return f", and the {cancelled} still queued for you won't be sent"
    if cancelled == 1:
        return ", and the one still queued for you won't be sent"
    return ""


def showing(first: int, last: int, total: int) -> str:
    return f"Showing {first}–{last} of {total} offers."


def voucher_text(
    *, code: str, title: str, sponsor_name: str, expires_at: datetime, again: bool, tz: ZoneInfo
) -> str:
    """HTML, so the code is one tap to copy; everything from the sponsor is escaped."""
    opening = "Here's your code again" if again else "🎟 Your voucher code"
    lines = [
        f"{opening} for “{html.escape(title)}” from {html.escape(sponsor_name)} (sponsored):",
        "",
        f"<code>{html.escape(code)}</code>",
        "",
        f"Offer ends {local_time(expires_at, tz)}.",
    ]
    if not again:
        lines += [
            "",
            f"Redeeming adds {VOUCHER_POINTS} community points to your score at the next "
            f"nightly update (vouchers count up to +{VOUCHER_CAP}).",
        ]
    return "\n".join(lines)
