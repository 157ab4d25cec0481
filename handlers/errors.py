"""The one error map: PTB's error handler turns use-case errors into replies.

Services raise `services.errors` exceptions and handlers let them through. Here:
- `StaleAction` (a forged, replayed or finished button; a step that no longer applies) is
  answered "no longer available" and nothing changed;
- `NotRegistered` tells the person how to join (on a button: "no longer available", since only
  a stale or forwarded button can be pressed by someone without an account);
- `NotAllowed` is refused plainly;
- anything else is a bug: logged with the update id (never the message text) and answered with
  the generic apology, so the person knows nothing was done.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import BadRequest

import texts.common as texts
from handlers.context import BotContext
from services.errors import ConfirmationExpired, NotAllowed, NotRegistered, StaleAction
from services.ni_claims import AccountFrozen

logger = logging.getLogger(__name__)


def reply_for(error: BaseException | None, *, on_button: bool) -> str | None:
    """What the person reads for `error`, or None for a bug (the apology, after logging)."""
    if isinstance(error, AccountFrozen):
        return str(error)  # borrowing or sharing while the NI number is claimed: say why
    if isinstance(error, ConfirmationExpired):
        return texts.CONFIRMATION_EXPIRED
    if isinstance(error, StaleAction):
        return texts.STALE_BUTTON
    if isinstance(error, NotRegistered):
        return texts.STALE_BUTTON if on_button else texts.NOT_REGISTERED
    if isinstance(error, NotAllowed):
        return texts.STALE_BUTTON if on_button else texts.NOT_ALLOWED
    if isinstance(error, BadRequest) and "message to edit not found" in str(error).lower():
        return texts.STALE_BUTTON if on_button else None
    return None


async def on_error(update: object, context: BotContext) -> None:
    """Answer what was expected; log the rest with the update id and apologise."""
    update_id = update.update_id if isinstance(update, Update) else None
    on_button = isinstance(update, Update) and update.callback_query is not None
    text = reply_for(context.error, on_button=on_button)
    if text is None:
        logger.error(
            "error handling update %s: %s",
            update_id,
            type(context.error).__name__,
            exc_info=context.error,
        )
        text = texts.APOLOGY
    else:
        logger.info("update %s refused: %s", update_id, type(context.error).__name__)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await _answer_press(update, context, text)
        elif update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE:
            # Never anywhere else: a group or channel hears nothing from a failed update.
            await context.bot.send_message(update.effective_chat.id, text)
    except Exception:
        logger.warning("could not answer update %s", update_id, exc_info=True)


async def _answer_press(update: Update, context: BotContext, text: str) -> None:
    """Answer the press; if the handler had already answered it before failing (to stop the
    button spinning), say it in the presser's own private chat instead, so it isn't lost."""
    query = update.callback_query
    assert query is not None
    try:
        await query.answer(text, show_alert=True)
    except BadRequest:
        message = query.message
        own_chat = (
            message is not None
            and message.chat.type == ChatType.PRIVATE
            and message.chat.id == query.from_user.id
        )
        if not own_chat:
            raise
        await context.bot.send_message(query.from_user.id, text)
