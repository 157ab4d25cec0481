"""Logging set-up: libraries that would log the bot token or message bodies are quietened."""

from __future__ import annotations

import logging

# httpx logs every request URL at INFO, and the Bot API URL contains the bot token.
NOISY_LOGGERS = (
    "httpx",
    "httpcore",
    "apscheduler.executors.default",
    "aiosqlite",
    "asyncio",
    "alembic.runtime.plugins",
)
# python-telegram-bot logs whole updates and request parameters (message texts, so possibly an NI
# number someone typed) at DEBUG: never below INFO, whatever BRITIZEN_LOG_LEVEL says.
CONTENT_LOGGERS = ("telegram",)


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in CONTENT_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLogger().level))
