"""/share: a one-time code for a third party, who has looked at your score, blocking a
partner for good, and the Allow / Deny / Block buttons on a partner's request. Logic lives in
services.sharing."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers.context import BotContext
from handlers.guards import registered_only
from handlers.ui import edit_in_place
from services.callbacks import SHARE
from services.sharing import ALLOW, BLOCK, PartnerChoices
from texts import share_ui as words
from texts.share import share_text

__all__ = ["on_button", "show_share"]

NEW_CODE = "share:new"


MAX_PARTNER_BUTTONS = 6


def _markup(choices: PartnerChoices) -> InlineKeyboardMarkup:
    """New code, then a Block button per partner in touch and an Unblock per blocked one."""
    rows = [[InlineKeyboardButton(words.NEW_CODE_BUTTON, callback_data=NEW_CODE)]]
    rows += [
        [InlineKeyboardButton(words.block_button(name), callback_data=SHARE.encode("bp", pid))]
        for pid, name in choices.can_block[:MAX_PARTNER_BUTTONS]
    ]
    rows += [
        [InlineKeyboardButton(words.unblock_button(name), callback_data=SHARE.encode("ub", pid))]
        for pid, name in choices.blocked[:MAX_PARTNER_BUTTONS]
    ]
    return InlineKeyboardMarkup(rows)


async def _screen(context: BotContext, telegram_id: int) -> tuple[str, InlineKeyboardMarkup]:
    sharing = context.services.sharing
    code = await sharing.new_code(telegram_id)
    log = await sharing.access_log(telegram_id)
    choices = await sharing.partners(telegram_id)
    text = share_text(code, log, context.timezone) + words.blocked_line(
        [name for _, name in choices.blocked]
    )
    return text, _markup(choices)


@registered_only
async def show_share(update: Update, context: BotContext) -> None:
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    text, markup = await _screen(context, user.id)
    await message.reply_text(text, reply_markup=markup)


async def on_button(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    sharing = context.services.sharing
    press = SHARE.decode(query.data)
    if press.action == "new":
        text, markup = await _screen(context, user.id)
        await query.answer(words.NEW_CODE_MADE)
        await edit_in_place(update, text, markup)
        return
    if press.action in ("bp", "ub"):
        # Blocking or unblocking leaves the live code alone (only "Make a new code" retires
        # it), so the screen becomes the list of partners rather than a fresh code.
        if press.action == "bp":
            toast = words.blocked_toast(await sharing.block_partner(user.id, press.number))
        else:
            toast = words.unblocked_toast(await sharing.unblock_partner(user.id, press.number))
        choices = await sharing.partners(user.id)
        await query.answer(toast)
        await edit_in_place(
            update, words.partners_text([name for _, name in choices.blocked]), _markup(choices)
        )
        return
    allow = press.action == ALLOW
    block = press.action == BLOCK
    partner = await sharing.answer_request(user.id, press.number, allow, block=block)
    await query.answer()
    if allow:
        await edit_in_place(update, words.allowed_text(partner))
    elif block:
        await edit_in_place(update, words.blocked_text(partner))
    else:
        await edit_in_place(update, words.denied_text(partner))
