"""Britizen: standin — a loopback stand-in for the Telegram Bot API.

Used by the end-to-end tests (in-process), by benchmarks (``python -m standin``) and by the
sandbox mode. See :class:`standin.server.BotApiStandIn`.
"""

from standin.formatting import FormattingError, parse_formatted
from standin.models import ApiCall, ChatEvent, SentMessage, StoredFile
from standin.server import ApiError, BotApiStandIn

__all__ = [
    "ApiCall",
    "ApiError",
    "BotApiStandIn",
    "ChatEvent",
    "FormattingError",
    "SentMessage",
    "StoredFile",
    "parse_formatted",
]
