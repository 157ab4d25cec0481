"""Sending one outbox row to Telegram: a plain aiohttp client with PTB's error mapping.

PTB's `Bot` over httpx topped out near 220 sends/s against the stand-in on this machine;
aiohttp manages several times that. The error mapping is PTB's own, so the same
`telegram.error` exceptions come out of both (tests/notifications/test_outbox.py).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

import aiohttp
from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from notifications.outbox import (
    SEND_TIMEOUT_SECONDS,
)

logger = logging.getLogger(__name__)


class Sender(Protocol):
    """Sends one text message; raises `telegram.error` exceptions exactly as PTB's Bot does."""

    async def send_message(
        self,
        chat_id: int,
        text: str,
        reply_markup: dict[str, Any] | None,
        *,
        allow_paid_broadcast: bool = False,
    ) -> None: ...

    async def close(self) -> None: ...


class BotApiSender:
    """`sendMessage` over one keep-alive aiohttp session, with PTB's mapping of errors.

    `base_url` is the Bot API URL with the token, as PTB's `Bot.base_url` gives it
    (``https://api.telegram.org/bot<token>``). The session is made on first use, inside the
    running event loop, and closed by `close()`.
    """

    def __init__(self, base_url: str, *, connections: int = 100) -> None:
        self._url = base_url.rstrip("/") + "/sendMessage"
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None
        # A broadcast sends one text and keyboard to everyone: encode that part once.
        self._encoded: dict[str, tuple[dict[str, Any] | None, bytes]] = {}

    @classmethod
    def for_bot(cls, bot: Bot) -> BotApiSender:
        return cls(bot.base_url)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                timeout=aiohttp.ClientTimeout(total=SEND_TIMEOUT_SECONDS),
                cookie_jar=aiohttp.DummyCookieJar(),  # the Bot API sets none; skip the work
                headers={"Content-Type": "application/json"},
            )
        return self._session

    async def send_message(
        self,
        chat_id: int,
        text: str,
        reply_markup: dict[str, Any] | None,
        *,
        allow_paid_broadcast: bool = False,
    ) -> None:
        # A paid broadcast (Bot API 7.11, PTB 22's send_message(allow_paid_broadcast=True)):
        # up to 1,000 messages a second, charged to the bot's Stars balance.
        paid = b'"allow_paid_broadcast":true,' if allow_paid_broadcast else b""
        body = b'{"chat_id":%d,%s%s' % (chat_id, paid, self._rest_of_body(text, reply_markup))
        try:
            async with self._client().post(self._url, data=body) as response:
                status = response.status
                raw = await response.read()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise NetworkError(f"Unknown error in HTTP implementation: {exc!r}") from exc
        if 200 <= status <= 299:
            return
        raise _telegram_error(status, raw)

    def _rest_of_body(self, text: str, reply_markup: dict[str, Any] | None) -> bytes:
        cached = self._encoded.get(text)
        if cached is not None and cached[0] == reply_markup:  # dict equality: cheap, exact
            return cached[1]
        rest: dict[str, Any] = {"text": text}
        if reply_markup:
            rest["reply_markup"] = reply_markup
        encoded = json.dumps(rest, ensure_ascii=False).encode()[1:]  # all but the opening "{"
        if len(self._encoded) >= 64:
            self._encoded.clear()  # one-off messages (alerts, reminders) don't pile up
        self._encoded[text] = (reply_markup, encoded)
        return encoded

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


def _telegram_error(status: int, raw: bytes) -> TelegramError:
    """The exception PTB (telegram.request.BaseRequest._request_wrapper) raises for an answer."""
    try:
        from http import HTTPStatus

        message = f"{HTTPStatus(status).phrase} ({status})"
    except ValueError:
        message = f"Unknown HTTPError ({status})"
    try:
        answer = json.loads(raw.decode("utf-8", "replace"))
    except ValueError:
        answer = None
    if isinstance(answer, dict):
        message = answer.get("description") or message
        parameters = answer.get("parameters")
        if isinstance(parameters, dict) and parameters:
            if parameters.get("migrate_to_chat_id"):
                return ChatMigrated(int(parameters["migrate_to_chat_id"]))
            if parameters.get("retry_after"):
                return RetryAfter(int(parameters["retry_after"]))
            message += f". The server response contained unknown parameters: {parameters}"
    else:
        message += f". Parsing the server response {raw!r} failed"
    if status == 403:
        return Forbidden(message)
    if status in (401, 404):
        return InvalidToken(message)
    if status == 400:
        return BadRequest(message)
    if status == 409:
        return Conflict(message)
    return NetworkError(message)
