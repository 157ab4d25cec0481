"""What the bot says for offers."""

from __future__ import annotations

from scoring.rules import VOUCHER_CAP, VOUCHER_POINTS
from services.offers import (
    PAGE_SIZE,
    OfferPage,
)
from texts.i18n import _

SCORE_NOTE = (
    f"Offers never affect your score, except that each voucher you redeem adds "
    f"{VOUCHER_POINTS} community points (up to +{VOUCHER_CAP})."
)


QUESTION = (
    "One more thing: would you like offers from Britizen's sponsors?\n\n"
    "If you say yes, businesses can send you occasional offers here — discounts and vouchers, "
    "some of them local if you gave your postcode district. Each one is labelled as sponsored "
    "with the sponsor's name and has a “Stop offers” button. Sponsors see only how many people "
    "got and redeemed an offer, never who you are.\n\n"
    f"{SCORE_NOTE}\n\n"
    "You can change your mind at any time in /settings."
)


OPTED_IN = (
    "✅ Offers are on. Sponsor offers will arrive here, each labelled as sponsored; /offers "
    "shows the current ones.\n\n"
    f"{SCORE_NOTE}\n\n"
    "To stop them, tap “Stop offers” under any offer or change it in /settings."
)


DECLINED = (
    "No problem — you won't get any sponsor offers. If you change your mind, switch them on in "
    "/settings."
)


STOPPED = (
    "🔕 Offers are off: you won't get any more sponsor offers{cancelled}.\n\n"
    "Vouchers you've already redeemed keep counting towards your score. To get offers again, "
    "tap the button below or change it in /settings."
)


ALREADY_STOPPED = (
    "🔕 Offers were already off — nothing more will be sent to you.\n\n"
    "To get offers again, tap the button below or change it in /settings."
)


NONE_OPTED_IN = (
    "There are no offers for you right now. New ones arrive in this chat as sponsors send them."
)


NONE_OPTED_OUT = (
    "You're not getting sponsor offers, so there are none to show.\n\n"
    "Offers are opt-in: tap the button below to get them (you can stop at any time). "
    f"{SCORE_NOTE}"
)


def _header(listing: OfferPage) -> str:
    count = _("1 offer") if listing.total == 1 else _("{total} offers").format(total=listing.total)
    lines = [_("🎁 {count} for you right now").format(count=count)]
    if listing.total > PAGE_SIZE:
        lines[0] += _(" (showing {first}–{last})").format(first=listing.first, last=listing.last)
    lines += ["", _("Each is sponsored: it says by whom. ") + SCORE_NOTE]
    if not listing.opted_in:
        lines += [
            "",
            _(
                "You've switched offers off, so these are ones you were sent before. "
                "Tap below to get new ones."
            ),
        ]
    return "\n".join(map(str, lines))
