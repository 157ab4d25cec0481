"""Handlers that apply to every update: redelivery guard, /help, /cancel, fallbacks, errors."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop

import texts.common as texts
from handlers.commands import help_text
from handlers.context import BotContext

logger = logging.getLogger(__name__)


async def drop_redelivered_update(update: Update, context: BotContext) -> None:
    """Runs first (negative group): an update seen before has already had its effect."""
    if not await context.services.updates.claim(update.update_id):
        logger.info("update %s already processed; ignoring redelivery", update.update_id)
        raise ApplicationHandlerStop


async def show_help(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None
    text = help_text()
    if update.effective_user and not await context.services.registration.is_registered(
        update.effective_user.id
    ):
        text += "\n\nYou're not registered yet: send /start to join."
    await update.effective_message.reply_text(text)


async def cancel(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    stopped = await context.services.dialogs.clear(update.effective_user.id)
    if stopped is None:
        await update.effective_message.reply_text(
            "There's nothing to cancel. /help lists what I can do."
        )
    elif stopped.flow == "registration":
        await update.effective_message.reply_text(
            "Registration cancelled and nothing from it was kept. "
            "Send /start whenever you want to join."
        )
    elif stopped.flow == "loan":
        await update.effective_message.reply_text(
            "Loan application cancelled: no loan was made. /loan starts again."
        )
    else:
        await update.effective_message.reply_text("Cancelled.")


async def unknown_command(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    if not await context.services.registration.is_registered(update.effective_user.id):
        await update.effective_message.reply_text(texts.NOT_REGISTERED)
        return
    await update.effective_message.reply_text(texts.UNKNOWN_COMMAND)


async def stale_button(update: Update, context: BotContext) -> None:
    """Any button press no other handler claimed: old, forged or from a finished conversation."""
    query = update.callback_query
    assert query is not None
    await query.answer(texts.STALE_BUTTON, show_alert=True)
