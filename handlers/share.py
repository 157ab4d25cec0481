"""/share: a one-time code for a third party, who has looked at your score, and the Allow /
Deny buttons on a partner's request. Logic lives in services.sharing."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers.context import BotContext
from handlers.guards import registered_only
from handlers.ui import edit_in_place
from services.callbacks import SHARE
from services.sharing import ALLOW
from texts import share_ui as words
from texts.share import share_text

__all__ = ["on_button", "show_share"]

NEW_CODE = "share:new"


MARKUP = InlineKeyboardMarkup(
    [[InlineKeyboardButton(words.NEW_CODE_BUTTON, callback_data=NEW_CODE)]]
)


@registered_only
async def show_share(update: Update, context: BotContext) -> None:
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    sharing = context.services.sharing
    code = await sharing.new_code(user.id)
    log = await sharing.access_log(user.id)
    await message.reply_text(share_text(code, log, context.timezone), reply_markup=MARKUP)


async def on_button(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    sharing = context.services.sharing
    press = SHARE.decode(query.data)
    if press.action == "new":
        code = await sharing.new_code(user.id)
        log = await sharing.access_log(user.id)
        await query.answer(words.NEW_CODE_MADE)
        await edit_in_place(update, share_text(code, log, context.timezone), MARKUP)
        return
    allow = press.action == ALLOW
    partner = await sharing.answer_request(user.id, press.number, allow)
    await query.answer()
    if allow:
        await edit_in_place(update, words.allowed_text(partner))
    else:
        await edit_in_place(update, words.denied_text(partner))
