"""The bot's command menu: shown by /help and registered with Telegram via setMyCommands.

The wording (each command's description, the /help text) lives in texts.help.
"""

from __future__ import annotations

from telegram import BotCommand

from texts.help import COMMANDS

__all__ = ["COMMANDS", "bot_commands"]


def bot_commands() -> list[BotCommand]:
    return [BotCommand(name, description) for name, description in COMMANDS]
