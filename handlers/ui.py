"""Small helpers every feature's buttons use."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest


async def edit_in_place(
    update: Update, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Show ``text`` in place of the message the button was on, or as a new message when that
    can't be edited (too old, or a photo)."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" in str(exc).lower():
            return
        await query.get_bot().send_message(user.id, text, reply_markup=markup)
