"""/start and the registration conversation (consent, NI number, date of birth, postcode)."""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.error import TelegramError

import texts.common as texts
from handlers import friends, ni_claims, offers
from handlers.chats import START_PAYLOAD
from handlers.context import BotContext
from handlers.registration_steps import (
    CONSENT_KEYBOARD,
    CONSENT_YES,
    SKIP_KEYBOARD,
    STEP_PROMPTS,
)
from services import registration as reg
from services.dialogs import Dialog
from services.invites import is_invite_payload
from services.registration import AlreadyRegistered, NINumberTaken, RegistrationError
from services.validation import InvalidInput
from texts import i18n
from texts import registration as words
from texts.registration import (
    ASK_POSTCODE,
    CONSENT_GIVEN,
    DECLINED,
    WELCOME,
)

logger = logging.getLogger(__name__)


async def start(update: Update, context: BotContext) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    payload = context.args[0] if context.args else None
    claim = await ni_claims.claimant_dialog(context, user.id)
    if claim is not None:
        # Mid-report about their NI number: /start would lose it; say where they are instead.
        await ni_claims.remind_claim_step(message, claim)
        return
    if payload == START_PAYLOAD:
        payload = None  # "open a private chat" from a group: a plain start
    try:
        await context.services.registration.begin(user.id, invite_payload=payload)
    except AlreadyRegistered:
        if is_invite_payload(payload):
            assert payload is not None
            await friends.open_invite_link(update, context, payload)
            return
        await message.reply_text(words.welcome_back(user.first_name))
        # Someone who joined before offers existed, or whose question was lost, hasn't been
        # asked yet: ask them once now.
        await offers.ask_once(context, user.id, user.id)
        return
    await message.reply_text(WELCOME, reply_markup=CONSENT_KEYBOARD)


async def consent(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    try:
        if query.data == CONSENT_YES:
            await context.services.registration.give_consent(user.id)
        else:
            await context.services.registration.decline(user.id)
    except RegistrationError:
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return
    await query.answer()
    if query.data == CONSENT_YES:
        await query.edit_message_reply_markup(None)
        await context.bot.send_message(user.id, CONSENT_GIVEN)
    else:
        await query.edit_message_text(DECLINED)


async def skip_postcode(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None and query.message is not None
    dialog = await context.services.dialogs.get(user.id)
    if dialog is None or dialog.flow != reg.FLOW or dialog.step != reg.STEP_POSTCODE:
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return
    await query.answer()
    await query.edit_message_reply_markup(None)
    await _complete(update, context, None)


async def on_registration_text(update: Update, context: BotContext, dialog: Dialog) -> None:
    """Typed text while registering: the answer to whichever step the person is on."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and message.text is not None
    service = context.services.registration
    try:
        if dialog.step == reg.STEP_NI:
            masked = await service.submit_ni_number(user.id, message.text)
            await _delete_quietly(message)
            await message.reply_text(words.ni_saved(masked))
        elif dialog.step == reg.STEP_DOB:
            await service.submit_date_of_birth(user.id, message.text)
            await message.reply_text(ASK_POSTCODE, reply_markup=SKIP_KEYBOARD)
        elif dialog.step == reg.STEP_POSTCODE:
            await _complete(update, context, message.text)
        else:
            await message.reply_text(STEP_PROMPTS[dialog.step], reply_markup=CONSENT_KEYBOARD)
    except InvalidInput as refusal:
        await message.reply_text(words.try_again(str(refusal)))
    except NINumberTaken as refusal:
        # The number stays out of the chat here too; the answer offers "Report this".
        await _delete_quietly(message)
        await message.reply_text(str(refusal), reply_markup=ni_claims.REPORT_MARKUP)
    except RegistrationError as refusal:
        await message.reply_text(str(refusal))


async def _complete(update: Update, context: BotContext, postcode: str | None) -> None:
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    try:
        done = await context.services.registration.complete(
            user.id, chat.id, user.first_name, postcode
        )
    except InvalidInput as refusal:
        await context.bot.send_message(
            chat.id, words.try_again_or_skip(str(refusal)), reply_markup=SKIP_KEYBOARD
        )
        return
    except RegistrationError as refusal:
        await context.bot.send_message(chat.id, str(refusal))
        return
    # Messages the bot starts for them later have no update to take a language from.
    await context.services.languages.remember(user.id, i18n.current())
    await context.bot.send_message(
        chat.id,
        words.registered(
            user.first_name,
            district=done.postcode_district,
            ni_masked=done.ni_masked,
            starting_score=done.starting_score,
            band=done.band,
            invite=done.invite,
        ),
    )
    # Asked once, straight after registration; nothing is sent before they say yes.
    await offers.ask_once(context, user.id, chat.id)


async def _delete_quietly(message: Message) -> None:
    # Best effort: the number is safe in our database either way; this only tidies the chat.
    try:
        await message.delete()
    except TelegramError:
        logger.debug("could not delete the NI-number message")
