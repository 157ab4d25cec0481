"""/mydata (a JSON file of everything held) and /delete (erasure after confirmation).

The confirmation is a conversation step (a dialog row): the Erase button only works from the
latest prompt and for a few minutes (services/confirmations.py), so an old button can't erase
anyone.
"""

from __future__ import annotations

import io

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers.context import BotContext
from handlers.guards import registered_only
from handlers.ui import edit_in_place
from services.callbacks import DELETE
from services.data_rights import DeletionBlocked
from texts import data_rights_ui as words
from texts.data_rights import (
    ERASED_TEXT,
    KEPT_TEXT,
    confirm_text,
)

DELETE_FLOW = "delete"


@registered_only
async def send_my_data(update: Update, context: BotContext) -> None:
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    export = await context.services.data_rights.export(user.id)
    await message.reply_document(
        io.BytesIO(export.content),
        filename=export.filename,
        caption=words.EXPORT_CAPTION,
    )


@registered_only
async def start_delete(update: Update, context: BotContext) -> None:
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    try:
        await context.services.data_rights.check_deletable(user.id)
    except DeletionBlocked as blocked:
        await message.reply_text(str(blocked))
        return
    kept = await context.services.data_rights.kept_on_erasure(user.id)
    token = await context.services.erasure.ask(user.id)
    await message.reply_text(
        confirm_text(len(kept), max((k.keep_until for k in kept), default=None)),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        words.ERASE_BUTTON, callback_data=DELETE.encode("yes", token)
                    )
                ],
                [InlineKeyboardButton(words.KEEP_BUTTON, callback_data=DELETE.encode("no"))],
            ]
        ),
    )


async def on_button(update: Update, context: BotContext) -> None:
    """Erase only from the latest prompt, within its window; "keep" from any of them."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    press = DELETE.decode(query.data)
    erase = press.action == "yes"
    await context.services.erasure.answer(user.id, press.argument, erase=erase)
    if not erase:
        await query.answer()
        await edit_in_place(update, KEPT_TEXT)
        return
    try:
        await context.services.data_rights.erase(user.id)
    except DeletionBlocked as blocked:
        await query.answer()
        await edit_in_place(update, str(blocked))
        return
    await query.answer(words.ERASED_TOAST)
    await edit_in_place(update, ERASED_TEXT)
