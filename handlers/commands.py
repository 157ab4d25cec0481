"""The bot's command menu: shown by /help and registered with Telegram via setMyCommands.

The wording (each command's description, the /help text) lives in texts.help.
"""

from __future__ import annotations

from telegram import BotCommand

from texts.help import COMMANDS
from texts.i18n import ENGLISH, gettext

__all__ = ["COMMANDS", "bot_commands"]


def bot_commands(language: str = ENGLISH) -> list[BotCommand]:
    """The menu in `language` (setMyCommands is called once per language, Welsh under
    language_code "cy", so Telegram shows each person the menu in their app's language)."""
    return [BotCommand(name, gettext(description, language)) for name, description in COMMANDS]
