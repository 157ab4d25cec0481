"""Decorators that keep feature handlers thin."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update

import texts.common as texts
from handlers.context import BotContext
from handlers.ni_claims import remind_claim_step
from handlers.registration_steps import remind_step
from services.errors import NotRegistered
from services.ni_claims import FLOW as NI_CLAIM_FLOW

Handler = Callable[[Update, BotContext], Coroutine[Any, Any, None]]


def registered_only(handler: Handler) -> Handler:
    """Guide anyone without an account to registration (or back to their current step)."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: BotContext) -> None:
        user, message = update.effective_user, update.effective_message
        if user is None or message is None:
            return
        citizen_id = await context.services.registration.citizen_id(user.id)
        if citizen_id is not None:
            context.citizen_id = citizen_id
            await handler(update, context)
            return
        dialog = await context.services.dialogs.get(user.id)
        if dialog is not None and dialog.flow == "registration":
            await remind_step(message, dialog)
        elif dialog is not None and dialog.flow == NI_CLAIM_FLOW:
            await remind_claim_step(message, dialog)
        else:
            await message.reply_text(texts.NOT_REGISTERED)

    return guarded


def registered_button(handler: Handler) -> Handler:
    """A button that needs an account: without one (only a stale or forwarded button can be
    pressed then) the error map answers "no longer available", before anything else answers
    the press, so it is answered once."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: BotContext) -> None:
        user = update.effective_user
        if user is None or not await context.services.registration.is_registered(user.id):
            raise NotRegistered()
        await handler(update, context)

    return guarded
