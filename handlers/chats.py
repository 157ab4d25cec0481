"""Where the bot listens: everything personal happens only in the person's own private chat.

`keep_to_private_chats` runs before every feature handler (after the redelivery guard). For
anything outside a private chat it answers here and stops the update, so no feature handler
can ever put a score, a code, a personal button or a conversation step in a group:

- a command in a group or supergroup gets one short pointer with a button that opens the
  private chat (or nothing, if the bot may not speak there); other group chatter is ignored;
- a button pressed in a group (under an old message, or by someone it wasn't made for)
  changes nothing and says so;
- channel posts are ignored quietly;
- being added to a group is answered once, saying what the bot is and where it works;
- an edited message never re-runs anything: in a private chat the person is told that only
  new messages are read.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from telegram import (
    CallbackQuery,
    ChatMember,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

import texts.chats as texts
from handlers.commands import COMMANDS
from handlers.context import BotContext

logger = logging.getLogger(__name__)

_OUR_COMMANDS = frozenset(name for name, _ in COMMANDS)
_GENERAL_COMMANDS = frozenset({"start", "help"})
_IN_GROUP = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})
_PRESENT = frozenset({ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER})
START_PAYLOAD = "group"
"""The deep-link payload of "open a private chat" buttons: /start treats it as a plain start."""


async def keep_to_private_chats(update: Update, context: BotContext) -> None:
    if update.channel_post is not None or update.edited_channel_post is not None:
        raise ApplicationHandlerStop  # a channel is not a person: nothing to answer
    if update.my_chat_member is not None:
        await _on_membership(update.my_chat_member, context, update.update_id)
        raise ApplicationHandlerStop
    if update.edited_message is not None:
        await _on_edit(update.edited_message, update.update_id)
        raise ApplicationHandlerStop
    if update.callback_query is not None:
        if not _pressed_in_own_chat(update.callback_query):
            await update.callback_query.answer(texts.NOT_YOUR_BUTTON, show_alert=True)
            raise ApplicationHandlerStop
        return
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        return  # payments' pre-checkout has no chat: its own handler checks the payer
    if update.message is not None and chat.type in _IN_GROUP:
        await _point_to_private_chat(update.message, context, update.update_id)
    raise ApplicationHandlerStop


def _pressed_in_own_chat(query: CallbackQuery) -> bool:
    """A personal button only lives in its owner's private chat (whose id is the owner's)."""
    message = query.message
    return (
        message is not None
        and message.chat.type == ChatType.PRIVATE
        and message.chat.id == query.from_user.id
    )


async def _on_edit(message: Message, update_id: int) -> None:
    if message.chat.type != ChatType.PRIVATE:
        return
    await _say(message.reply_text(texts.EDITS_NOT_READ), update_id)


async def _point_to_private_chat(message: Message, context: BotContext, update_id: int) -> None:
    command, addressee = _command_of(message)
    if command is None or command not in _OUR_COMMANDS:
        return  # chatter, or another bot's command: not ours to answer
    if addressee is not None and addressee.lower() != (context.bot.username or "").lower():
        return
    text = texts.HELP_IN_GROUP if command in _GENERAL_COMMANDS else texts.personal_in_group(command)
    await _say(message.reply_text(text, reply_markup=_open_private_chat(context)), update_id)


async def _on_membership(change: ChatMemberUpdated, context: BotContext, update_id: int) -> None:
    """Say once, when added to a group, what the bot is (blocking in private: nothing to say)."""
    if change.chat.type not in _IN_GROUP:
        return
    was_in = change.old_chat_member.status in _PRESENT
    is_in = change.new_chat_member.status in _PRESENT
    if is_in and not was_in:
        await _say(
            context.bot.send_message(
                change.chat.id, texts.ADDED_TO_GROUP, reply_markup=_open_private_chat(context)
            ),
            update_id,
        )


def _command_of(message: Message) -> tuple[str | None, str | None]:
    """("score", "britizen_bot") for "/score@britizen_bot now"; (None, None) if no command."""
    words = (message.text or "").split(maxsplit=1)
    if not words or not words[0].startswith("/"):
        return None, None
    name, _, addressee = words[0][1:].partition("@")
    return name.lower() or None, addressee or None


def _open_private_chat(context: BotContext) -> InlineKeyboardMarkup:
    url = f"https://t.me/{context.bot.username}?start={START_PAYLOAD}"
    return InlineKeyboardMarkup([[InlineKeyboardButton(texts.OPEN_PRIVATE_CHAT, url=url)]])


async def _say(sending: Awaitable[object], update_id: int) -> None:
    """Send, where the bot may speak: a group that muted or removed it gets nothing."""
    try:
        await sending
    except TelegramError as refused:
        logger.info("update %s: could not speak in that chat: %s", update_id, refused)


async def on_not_text(update: Update, context: BotContext) -> None:
    """A sticker, photo, voice note, location... in the private chat: say what would help."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    dialog = await context.services.dialogs.get(user.id)
    if dialog is not None:
        text = texts.not_text_at_step(dialog.flow, dialog.step)
    elif await context.services.registration.is_registered(user.id):
        text = texts.NOT_TEXT_OUTSIDE_STEP
    else:
        text = texts.NOT_TEXT_UNREGISTERED
    await message.reply_text(text)
