"""What a promotion looks like in a citizen's chat: the one place its message and buttons are
assembled (the wording itself is texts.promotions').

Shared by the dispatcher (notifications/dispatcher.py, which renders a promotion row when it
sends it: the outbox keeps no copy of the text), /offers (handlers/offers.py) and the
sponsor-facing API's limits. Pure: no I/O, no telegram imports (keyboards are plain Bot API
dicts).

Callback data, handled in handlers/offers.py:
- ``off:r:<promotion id>``: Redeem (reveal the voucher code, record the redemption);
- ``off:stop``: Stop offers (opt out of all promotions at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from services.callbacks import OFFERS, BadCallback
from services.clock import as_aware_utc
from texts import promotions as texts
from texts.promotions import FOOTER

PROMOTION_KIND = "promotion"
# Paid broadcasts (the sponsor pays Telegram for speed) go just ahead of free ones, and are not
# held back by quiet hours; everything above them in the queue still goes first.
PAID_PROMOTION_PRIORITY = 99
# Lower goes first: loan reminders 0, friend messages 5, score alerts 10, promotions last.
PROMOTION_PRIORITY = 100

STOP_OFFERS_DATA = OFFERS.encode("stop")

# Telegram allows 4,096 characters in a message. The label, title, expiry line and footer
# take at most about 300 of them, so a sponsor's text may have the rest.
MAX_TITLE_LENGTH = 120
MAX_TEXT_LENGTH = 3_500
MAX_BUTTON_LABEL_LENGTH = 40
MAX_BUTTON_URL_LENGTH = 2_048
TELEGRAM_MESSAGE_LIMIT = 4_096

# The wording is texts.promotions'; FOOTER is re-exported for /offers, which drops it for
# someone who already opted out.
__all__ = [
    "FOOTER",
    "MAX_BUTTON_LABEL_LENGTH",
    "MAX_BUTTON_URL_LENGTH",
    "MAX_TEXT_LENGTH",
    "MAX_TITLE_LENGTH",
    "PAID_PROMOTION_PRIORITY",
    "PROMOTION_KIND",
    "PROMOTION_PRIORITY",
    "STOP_OFFERS_DATA",
    "TELEGRAM_MESSAGE_LIMIT",
    "PromotionContent",
    "RenderedPromotion",
    "parse_redeem_data",
    "promotion_markup",
    "promotion_text",
    "redeem_data",
    "render_promotion",
]


class PromotionContent(Protocol):
    """What rendering needs of a promotion (storage.models.Promotion has it)."""

    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def expires_at(self) -> datetime: ...
    @property
    def voucher_kind(self) -> str: ...
    @property
    def button_label(self) -> str | None: ...
    @property
    def button_url(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class RenderedPromotion:
    text: str
    reply_markup: dict[str, Any]


def render_promotion(
    promotion: PromotionContent,
    sponsor_name: str,
    timezone: ZoneInfo,
) -> RenderedPromotion:
    """The message and keyboard one recipient gets: the one place a promotion is rendered.

    The outbox stores no text for promotion rows; the dispatcher calls this when it sends.
    The Britizen frame (label, expiry line, footer, buttons) is worded in the current language:
    the dispatcher calls this inside `worded_in(reader's language, ...)`, once per promotion and
    language (notifications/rendering.py). The sponsor's title and text are sent as written.
    """
    has_voucher = promotion.voucher_kind != "none"
    return RenderedPromotion(
        promotion_text(
            sponsor_name,
            promotion.title,
            promotion.text,
            as_aware_utc(promotion.expires_at),
            timezone,
            has_voucher=has_voucher,
            button_url=promotion.button_url,
        ),
        promotion_markup(
            promotion.id,
            button_label=promotion.button_label,
            button_url=promotion.button_url,
            has_voucher=has_voucher,
        ),
    )


def redeem_data(promotion_id: int) -> str:
    return OFFERS.encode("r", promotion_id)


def parse_redeem_data(data: str) -> int | None:
    """The promotion id in a Redeem button's data, or None if it isn't one."""
    try:
        press = OFFERS.decode(data)
        return press.number if press.action == "r" else None
    except BadCallback:
        return None


def promotion_text(
    sponsor_name: str,
    title: str,
    text: str,
    expires_at: datetime,
    timezone: ZoneInfo,
    *,
    has_voucher: bool,
    button_url: str | None = None,
) -> str:
    """The message as texts.promotions words it, within Telegram's limit."""
    message = texts.promotion_text(
        sponsor_name,
        title,
        text,
        expires_at,
        timezone,
        has_voucher=has_voucher,
        link_host=link_host(button_url),
    )
    # The API's limits make this impossible; the assertion documents the invariant.
    assert len(message) <= TELEGRAM_MESSAGE_LIMIT, "promotion text over Telegram's limit"
    return message


def link_host(url: str | None) -> str | None:
    """The host a sponsor's https link opens (the API refuses userinfo, ports and IPs)."""
    if not url:
        return None
    return urlsplit(url).hostname


def promotion_markup(
    promotion_id: int,
    *,
    button_label: str | None,
    button_url: str | None,
    has_voucher: bool,
) -> dict[str, Any]:
    """The inline keyboard (Bot API form): the sponsor's link, Redeem, and always Stop offers."""
    rows: list[list[dict[str, str]]] = []
    if button_label and button_url:
        rows.append([{"text": button_label, "url": button_url}])
    if has_voucher:
        rows.append([{"text": texts.REDEEM_BUTTON, "callback_data": redeem_data(promotion_id)}])
    rows.append([{"text": texts.STOP_OFFERS_BUTTON, "callback_data": STOP_OFFERS_DATA}])
    return {"inline_keyboard": rows}
