"""Handlers that apply to every update: redelivery guard, /help, /cancel, fallbacks, errors.

What they say is in texts.help and texts.common."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop

import texts.common as texts
from handlers import ni_claims
from handlers.context import BotContext
from texts import help as help_texts

logger = logging.getLogger(__name__)


async def drop_redelivered_update(update: Update, context: BotContext) -> None:
    """Runs first (negative group): an update seen before has already had its effect."""
    if not await context.services.updates.claim(update.update_id):
        logger.info("update %s already processed; ignoring redelivery", update.update_id)
        raise ApplicationHandlerStop


async def show_help(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None
    user = update.effective_user
    registered = user is None or await context.services.registration.is_registered(user.id)
    await update.effective_message.reply_text(help_texts.help_text(registered=registered))


async def cancel(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    stopped = await context.services.dialogs.clear(update.effective_user.id)
    if stopped is None:
        await update.effective_message.reply_text(help_texts.NOTHING_TO_CANCEL)
    elif stopped.flow == "registration":
        await update.effective_message.reply_text(help_texts.REGISTRATION_CANCELLED)
    elif stopped.flow == "loan":
        await update.effective_message.reply_text(help_texts.LOAN_CANCELLED)
    else:
        await update.effective_message.reply_text(help_texts.CANCELLED)


async def unknown_command(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    if not await context.services.registration.is_registered(update.effective_user.id):
        dialog = await ni_claims.claimant_dialog(context, update.effective_user.id)
        if dialog is not None:
            await ni_claims.remind_claim_step(update.effective_message, dialog)
            return
        await update.effective_message.reply_text(texts.NOT_REGISTERED)
        return
    await update.effective_message.reply_text(texts.UNKNOWN_COMMAND)


async def stale_button(update: Update, context: BotContext) -> None:
    """Any button press no other handler claimed: old, forged or from a finished conversation."""
    query = update.callback_query
    assert query is not None
    await query.answer(texts.STALE_BUTTON, show_alert=True)
