"""Sponsor offers in the chat: the opt-in question, Stop offers, /offers and Redeem.

Callback data (services/promotion_messages.py defines the two on broadcasts):

    off:r:<promotion id>   Redeem: reveal (and record) my voucher code
    off:stop               Stop offers: opt out, cancel whatever is still queued
    off:opt:yes|no         the answer to the opt-in question, and "Get offers again"
    off:p:<page>           the next page of /offers

Every button acts only on the account of the person pressing it, and carries the value it sets
(never "flip"), so a double tap or a replayed press is harmless.
"""

from __future__ import annotations

import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

import texts.common as texts
from handlers.context import BotContext
from handlers.guards import registered_only
from handlers.ui import edit_in_place
from services.callbacks import OFFERS, BadCallback
from services.offers import (
    NotForYou,
    NoVoucher,
    Offer,
    OfferEnded,
    OfferError,
    OfferNotFound,
    OfferNotStarted,
    OfferWithdrawn,
    RedeemedVoucher,
    VouchersGone,
)
from services.promotion_messages import (
    FOOTER,
    STOP_OFFERS_DATA,
    parse_redeem_data,
    promotion_markup,
    promotion_text,
    redeem_data,
)
from texts import offers_ui as words
from texts.offers import (
    ALREADY_STOPPED,
    DECLINED,
    NONE_OPTED_IN,
    NONE_OPTED_OUT,
    OPTED_IN,
    QUESTION,
    STOPPED,
    _header,
)

logger = logging.getLogger(__name__)


OPT_IN_DATA = OFFERS.encode("opt", "yes")
OPT_OUT_DATA = OFFERS.encode("opt", "no")

QUESTION_MARKUP = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton(words.YES_BUTTON, callback_data=OPT_IN_DATA),
            InlineKeyboardButton(words.NO_THANKS_BUTTON, callback_data=OPT_OUT_DATA),
        ]
    ]
)
GET_OFFERS_MARKUP = InlineKeyboardMarkup(
    [[InlineKeyboardButton(words.GET_OFFERS_BUTTON, callback_data=OPT_IN_DATA)]]
)

REFUSALS: dict[type[OfferError], str] = {
    OfferNotFound: texts.STALE_BUTTON,
    OfferNotStarted: texts.STALE_BUTTON,
    OfferWithdrawn: words.WITHDRAWN,
    NotForYou: words.NOT_FOR_YOU,
    NoVoucher: words.NO_VOUCHER,
    VouchersGone: words.VOUCHERS_GONE,
}


async def ask_about_offers(bot: Bot, chat_id: int) -> None:
    """The opt-in question, asked once (the caller claims the ask first)."""
    await bot.send_message(chat_id, QUESTION, reply_markup=QUESTION_MARKUP)


async def ask_once(context: BotContext, telegram_id: int, chat_id: int) -> None:
    """The opt-in question, if they were never asked; recorded as asked only once delivered.

    The claim comes first, so two updates can't both ask; if Telegram doesn't take the
    message (a 429 the rate limiter gave up on, a network error), the claim is undone and the
    next /start asks again. Registration itself went through, so this is not worth an apology.
    """
    service = context.services.offers
    if not await service.claim_ask(telegram_id):
        return
    try:
        await ask_about_offers(context.bot, chat_id)
    except TelegramError as exc:
        await service.release_ask(telegram_id)
        logger.warning("offers question not delivered (%s): asking again later", exc)


# --------------------------------------------------------------------------------------------
# Opt in / out


async def on_opt_button(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    answer = OFFERS.decode(query.data).word
    if answer not in ("yes", "no"):
        raise BadCallback(answer)
    opt_in = answer == "yes"
    await context.services.offers.set_marketing(user.id, opt_in)
    await query.answer(words.OFFERS_ON_TOAST if opt_in else words.NO_OFFERS_TOAST)
    await edit_in_place(update, OPTED_IN if opt_in else DECLINED)


async def on_stop(update: Update, context: BotContext) -> None:
    """Stop offers: the button on every promotion. The promotion stays as it was (its Redeem
    button still works); the confirmation is a message of its own."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    change = await context.services.offers.set_marketing(user.id, False)
    await query.answer(words.OFFERS_STOPPED_TOAST)
    if change.changed:
        text = STOPPED.format(cancelled=words.queued_cancelled(change.cancelled))
    else:
        text = ALREADY_STOPPED
    await context.bot.send_message(user.id, text, reply_markup=GET_OFFERS_MARKUP)


# --------------------------------------------------------------------------------------------
# /offers


@registered_only
async def show_offers(update: Update, context: BotContext) -> None:
    assert update.effective_user is not None
    await _send_page(context, update.effective_user.id, 0)


async def on_page_button(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    await _send_page(context, user.id, OFFERS.decode(query.data).number)
    await query.answer()


async def _send_page(context: BotContext, telegram_id: int, page: int) -> None:
    listing = await context.services.offers.current_offers(telegram_id, page)
    bot = context.bot
    if not listing.offers:
        if listing.opted_in:
            await bot.send_message(telegram_id, NONE_OPTED_IN)
        else:
            await bot.send_message(telegram_id, NONE_OPTED_OUT, reply_markup=GET_OFFERS_MARKUP)
        return
    await bot.send_message(
        telegram_id,
        _header(listing),
        reply_markup=None if listing.opted_in else GET_OFFERS_MARKUP,
    )
    for offer in listing.offers:
        text, markup = offer_message(offer, context, opted_in=listing.opted_in)
        await bot.send_message(telegram_id, text, reply_markup=markup)
    if listing.page + 1 < listing.pages:
        await bot.send_message(
            telegram_id,
            words.showing(listing.first, listing.last, listing.total),
            reply_markup=InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            words.MORE_OFFERS_BUTTON,
                            callback_data=OFFERS.encode("p", listing.page + 1),
                        )
                    ]
                ]
            ),
        )


def offer_message(
    offer: Offer, context: BotContext, *, opted_in: bool
) -> tuple[str, InlineKeyboardMarkup]:
    """An offer as /offers shows it: the broadcast's own wording (labelled as sponsored), with
    "Show my code" once redeemed, and without the opt-out footer for someone already out."""
    text = promotion_text(
        offer.sponsor_name,
        offer.title,
        offer.text,
        offer.expires_at,
        context.timezone,
        has_voucher=offer.has_voucher,
        button_url=offer.button_url,
    )
    raw = promotion_markup(
        offer.promotion_id,
        button_label=offer.button_label,
        button_url=offer.button_url,
        has_voucher=offer.has_voucher,
    )
    rows: list[list[dict[str, str]]] = []
    for row in raw["inline_keyboard"]:
        button = dict(row[0])
        if button.get("callback_data") == STOP_OFFERS_DATA and not opted_in:
            continue  # already out: nothing to stop
        if button.get("callback_data") == redeem_data(offer.promotion_id) and (
            offer.redeemed_code is not None
        ):
            button["text"] = words.SHOW_MY_CODE_BUTTON
        rows.append([button])
    if not opted_in:
        text = text.removesuffix("\n\n" + FOOTER)
    markup = InlineKeyboardMarkup.de_json({"inline_keyboard": rows}, context.bot)
    return text, markup


# --------------------------------------------------------------------------------------------
# Redeem


async def on_redeem(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    promotion_id = parse_redeem_data(query.data or "")
    if promotion_id is None:
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return
    try:
        voucher = await context.services.offers.redeem(user.id, promotion_id)
    except OfferEnded as ended:
        await query.answer(words.offer_ended(ended.expires_at, context.timezone), show_alert=True)
        return
    except OfferError as refusal:
        await query.answer(REFUSALS.get(type(refusal), texts.STALE_BUTTON), show_alert=True)
        return
    await query.answer(words.CODE_AGAIN_TOAST if voucher.again else words.REDEEMED_TOAST)
    await context.bot.send_message(
        user.id, voucher_text(voucher, context), parse_mode=ParseMode.HTML
    )


def voucher_text(voucher: RedeemedVoucher, context: BotContext) -> str:
    """HTML, so the code is one tap to copy; everything from the sponsor is escaped."""
    return words.voucher_text(
        code=voucher.code,
        title=voucher.title,
        sponsor_name=voucher.sponsor_name,
        expires_at=voucher.expires_at,
        again=voucher.again,
        tz=context.timezone,
    )
