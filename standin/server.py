"""A loopback stand-in for the Telegram Bot API.

The real python-telegram-bot ``Application`` talks to it unchanged::

    standin = BotApiStandIn()
    await standin.start()
    app = (
        ApplicationBuilder()
        .token("123:TEST")
        .base_url(standin.base_url)
        .base_file_url(standin.base_file_url)
        .build()
    )

It answers like Telegram does (same JSON shapes, same HTTP status codes, same error texts for the
cases it models), keeps what the bot sent as :class:`~standin.models.SentMessage` snapshots,
records every call as an :class:`~standin.models.ApiCall`, and plays the user side through
:meth:`BotApiStandIn.push_update` and the helpers built on it. Updates reach the bot by
``getUpdates`` long polling or, once ``setWebhook`` was called, by POSTing them to the webhook.

Everything runs on one asyncio loop and nothing here is thread-safe: call the public methods
from the loop the server runs on (or through the ``/_standin/*`` HTTP routes from elsewhere).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import json
import logging
import math
import mimetypes
import re
import struct
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from hashlib import sha1
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from standin.formatting import FormattingError, parse_formatted, utf16_len
from standin.models import ApiCall, ChatEvent, ChatEventKind, SentMessage, StoredFile

__all__ = ["ApiError", "BotApiStandIn"]

_LOG = logging.getLogger(__name__)
_T = TypeVar("_T")

JSON = dict[str, Any]

DEFAULT_BOT_ID = 5_000_000_001
DEFAULT_BOT_USERNAME = "BritizenTestBot"
DEFAULT_BOT_FIRST_NAME = "Britizen"

# Telegram's documented limits that production code trips over most often.
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_CALLBACK_DATA_BYTES = 64

# Update types Telegram leaves out unless a bot asks for them explicitly.
_OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_INT_RE = re.compile(r"^-?\d+$")

# Form and multipart bodies carry every value as a string; PTB JSON-encodes non-string values
# (``"true"``, ``"123"``, ``'{"inline_keyboard": ...}'``). Free-text fields must stay strings even
# when they look like JSON ("42" as a message text); integer fields may also be "@username".
_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "title",
        "description",
        "short_description",
        "name",
        "payload",
        "provider_token",
        "currency",
        "start_parameter",
        "callback_query_id",
        "pre_checkout_query_id",
        "shipping_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "error_message",
        "action",
        "file_id",
        "language_code",
        "business_connection_id",
        "message_effect_id",
        "photo_url",
        "emoji",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "ip_address",
        "photo",
        "document",
        "audio",
        "video",
        "animation",
        "voice",
        "video_note",
        "sticker",
        "thumbnail",
    }
)
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "max_connections",
        "user_id",
        "reply_to_message_id",
        "message_thread_id",
        "cache_time",
    }
)


class ApiError(Exception):
    """A Telegram error answer: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(text: str) -> ApiError:
    return ApiError(400, f"Bad Request: {text}")


def _too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: injected failure",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass(slots=True)
class _Failure:
    error: ApiError
    remaining: int


@dataclass(slots=True)
class _Upload:
    data: bytes
    filename: str | None
    content_type: str | None


@dataclass(slots=True)
class _FileMeta:
    file_unique_id: str
    file_path: str
    file_size: int
    width: int | None = None
    height: int | None = None
    url: str | None = None


@dataclass(slots=True)
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass(slots=True)
class _Ctx:
    """One API call being answered."""

    method: str
    params: JSON
    uploads: dict[str, _Upload]
    chat: JSON | None = None
    message_id: int | None = None  # id of the message the call created or touched


class _TokenBucket:
    """Classic token bucket: ``rate`` tokens per second, bursts up to ``capacity``."""

    __slots__ = ("capacity", "last", "rate", "tokens")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.last = now

    def wait_time(self, now: float) -> float:
        """Seconds until a token is available (0 when one is available now)."""
        elapsed = max(0.0, now - self.last)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.last = max(self.last, now)
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1.0


class _Signal:
    """Wakes every coroutine waiting on it; the event-driven core of all ``wait_*`` methods.

    Unlike ``asyncio.Condition`` it can be fired from plain synchronous code (the recording
    paths never yield, so a cancelled request can't leave state half-updated).
    """

    __slots__ = ("_waiter",)

    def __init__(self) -> None:
        self._waiter: asyncio.Future[None] | None = None

    def fire(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done() and not waiter.get_loop().is_closed():
            waiter.set_result(None)

    async def wait(self, limit: float | None) -> None:
        """Return when fired or after ``limit`` seconds, whichever comes first."""
        loop = asyncio.get_running_loop()
        # A stand-in may outlive the loop that first waited on it (pytest loop scopes).
        if self._waiter is None or self._waiter.done() or self._waiter.get_loop() is not loop:
            self._waiter = loop.create_future()
        # shield: one waiter timing out must not cancel the future others share.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._waiter), limit)


Handler = Callable[[_Ctx], Any]


@dataclass(frozen=True, slots=True)
class _Method:
    name: str
    handler: Handler
    targets_chat: bool = False  # resolves chat_id (strict_chats applies)
    blockable: bool = False  # answers 403 when the user blocked the bot
    is_send: bool = False  # creates a message; counted by the rate limiter


def _json_dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


@functools.lru_cache(maxsize=4096)
def _loads_structured(text: str) -> Any:
    """json.loads for objects/arrays, memoised.

    Bots send the same few keyboards over and over; sharing one decoded object per distinct
    string keeps 100k recorded messages from holding 100k copies. Treat params as read-only.
    """
    return json.loads(text)


def _decode_value(name: str, value: Any) -> Any:
    """Turn one transported parameter into the value Telegram would see."""
    if isinstance(value, str):
        if name in _STRING_FIELDS:
            return value
        if name in _INT_FIELDS:
            return int(value) if _INT_RE.match(value) else value
        stripped = value.strip()
        if stripped[:1] in ("{", "[") and len(stripped) <= 4096:
            with contextlib.suppress(ValueError):
                return _loads_structured(stripped)
        if stripped[:1] in ("{", "[", '"') or stripped in ("true", "false", "null"):
            with contextlib.suppress(ValueError):
                return json.loads(stripped)
        if _INT_RE.match(stripped):
            return int(stripped)
        with contextlib.suppress(ValueError):
            if stripped and stripped[0] in "-0123456789":
                return float(stripped)
        return value
    if name in _STRING_FIELDS and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _sniff_image(data: bytes) -> tuple[str | None, int | None, int | None]:
    """(mime type, width, height) for PNG/JPEG/GIF/WebP/BMP bytes; (None, None, None) if not."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "image/png", width, height
    if data.startswith(b"GIF8") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return "image/gif", width, height
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp", None, None
    if data.startswith(b"BM") and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return "image/bmp", width, abs(height)
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg", *_jpeg_size(data)
    return None, None, None


def _check_photo(mime: str | None, width: int | None, height: int | None) -> None:
    """Telegram refuses photos it can't decode and extreme sizes or aspect ratios."""
    if mime is None:
        raise _bad_request("IMAGE_PROCESS_FAILED")
    if (
        width
        and height
        and (width + height > 10000 or max(width, height) > 20 * min(width, height))
    ):
        raise _bad_request("PHOTO_INVALID_DIMENSIONS")


def _jpeg_size(data: bytes) -> tuple[int | None, int | None]:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None, None


class BotApiStandIn:
    """Telegram Bot API stand-in on loopback. See the module docstring for the big picture.

    Args:
        token: when set, calls with any other token answer ``401 Unauthorized``; by default
            any token is accepted.
        bot_id, bot_username, bot_first_name: what ``getMe`` answers. Without ``bot_id`` the
            id is the token's numeric prefix, as on Telegram (the first token seen, when no
            ``token`` is configured).
        strict_chats: sending to a chat no user has written from answers ``400 Bad Request:
            chat not found`` (like Telegram for users who never started the bot).
        rate_limit_per_second: global token bucket for sends; over it the answer is 429
            with ``retry_after`` (counted in :attr:`rejected_429`). ``None`` disables it.
        per_chat_rate_per_second: the same, per chat (Telegram's "1 message per second").
        record_params: keep full params/results on :attr:`calls`; switch off for big
            benchmarks (per-chat counts, messages and stats are kept regardless).
        webhook_retry_delays: pauses before each retry of a failed webhook delivery; after
            the last one the update is dropped and ``getWebhookInfo`` reports the error.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_id: int | None = None,
        bot_username: str = DEFAULT_BOT_USERNAME,
        bot_first_name: str = DEFAULT_BOT_FIRST_NAME,
        strict_chats: bool = False,
        rate_limit_per_second: float | None = None,
        per_chat_rate_per_second: float | None = None,
        record_params: bool = True,
        webhook_retry_delays: Iterable[float] = (0.05, 0.25, 1.0),
        webhook_timeout: float = 10.0,
    ) -> None:
        # Telegram's bot id is the token's numeric prefix. Without an explicit id or token the
        # stand-in adopts the prefix of the first token it is called with (see _dispatch).
        self._adopt_token_id = bot_id is None and token is None
        if bot_id is None:
            prefix = (token or "").partition(":")[0]
            bot_id = int(prefix) if prefix.isdigit() else DEFAULT_BOT_ID
        self.token = token
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.strict_chats = strict_chats
        self.record_params = record_params
        self.rate_limit_per_second = rate_limit_per_second
        self.per_chat_rate_per_second = per_chat_rate_per_second
        self.webhook_retry_delays = tuple(webhook_retry_delays)
        self.webhook_timeout = webhook_timeout

        self.bot_user: JSON = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }

        # Recording
        self.calls: list[ApiCall] = []
        self.files: dict[str, StoredFile] = {}
        self.callback_answers: dict[str, JSON] = {}
        self.pre_checkout_answers: dict[str, JSON] = {}
        self.unknown_methods: Counter[str] = Counter()
        self.rejected_429 = 0
        self.dropped_updates = 0  # filtered out by allowed_updates
        self.webhook_failures = 0  # updates dropped after all webhook retries failed
        self.bot_settings: JSON = {}  # setMyDescription & co.

        # Chats, users, messages
        self._users: dict[int, JSON] = {}
        self._chats: dict[int, JSON] = {}
        self._usernames: dict[str, int] = {}
        self._known_chats: set[int] = set()
        self._blocked: set[int] = set()
        self._last_message_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], SentMessage] = {}
        self._chat_message_ids: dict[int, list[int]] = {}
        self._history: dict[int, list[ChatEvent]] = {}
        self._invoices: dict[tuple[int, int], JSON] = {}
        self._open_callback_queries: dict[str, int] = {}  # query id -> chat id
        self._open_pre_checkout_queries: set[str] = set()
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._menu_buttons: dict[int | None, JSON] = {}
        self._file_meta: dict[str, _FileMeta] = {}
        self._file_paths: dict[str, str] = {}
        self._photo_sizes: dict[str, list[JSON]] = {}

        # Updates
        self._pending: deque[JSON] = deque()
        self._next_update_id = 1
        self._handed_out_up_to = 0  # highest update_id given to the bot at least once
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._webhook: _Webhook | None = None

        # Failure injection and rate limiting
        self._failures: dict[str, deque[_Failure]] = {}
        self._global_bucket: _TokenBucket | None = None
        self._chat_buckets: dict[int, _TokenBucket] = {}

        # Statistics kept incrementally so they stay cheap at 100k messages
        self._messages_per_chat: Counter[int] = Counter()
        self._seen_texts: set[int] = set()
        self._duplicates = 0
        self._duplicate_examples: list[JSON] = []
        self._errors_by_code: Counter[int] = Counter()
        self._calls_by_method: Counter[str] = Counter()

        # Waiting
        self._calls_signal = _Signal()  # calls, chat events, activity
        self._updates_signal = _Signal()  # pending updates, webhook changes, shutdown
        self._listeners: list[Callable[[ChatEvent], None]] = []
        self._event_seq = 0
        self._seq = 0
        self._inflight = 0
        self.settle_hooks: list[Callable[[], Awaitable[bool]]] = []
        """Awaited when `wait_idle` finds the wire quiet: each waits until a bot's own queue
        (its outbox) has nothing due and says whether anything was, so "the bot sent nothing"
        can't pass merely because a queued message hadn't been picked up yet."""
        self._polls_waiting = 0
        self._last_activity = time.monotonic()

        # Serving
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._worker: asyncio.Task[None] | None = None
        self.host = "127.0.0.1"
        self.port = 0
        self._counter = 0

        self._methods: dict[str, _Method] = {}
        for method in self._method_table():
            self._methods[method.name.lower()] = method

    # ----------------------------------------------------------------------------------------
    # Lifecycle
    # ----------------------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """The aiohttp application serving the stand-in.

        :meth:`start` runs it; a host process (the sandbox page) may instead add its own routes
        to it and run it itself, then set :attr:`port`. Startup/cleanup hooks start and stop
        webhook delivery either way.
        """
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.on_startup.append(self._on_startup)
        app.on_shutdown.append(self._on_shutdown)
        app.on_cleanup.append(self._on_cleanup)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_get("/_standin/stats", self._handle_stats)
        app.router.add_get("/_standin/calls", self._handle_calls)
        app.router.add_get("/_standin/messages", self._handle_messages)
        app.router.add_post("/_standin/updates", self._handle_push_updates)
        app.router.add_post("/_standin/fail_next", self._handle_fail_next)
        app.router.add_post("/_standin/block", self._handle_block)
        app.router.add_post("/_standin/unblock", self._handle_block)
        app.router.add_post("/_standin/reset", self._handle_reset)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve on ``host:port`` (``port=0`` picks a free one; read it from :attr:`port`)."""
        if self._runner is not None:
            raise RuntimeError("BotApiStandIn is already running")
        # handler_cancellation: when PTB abandons a long poll (Updater.stop), the pending
        # getUpdates handler is cancelled instead of lingering for its whole timeout.
        runner = web.AppRunner(
            self.make_app(), handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.host = host
        # runner.addresses holds the bound (host, port, ...) tuples; port 0 resolves here.
        self.port = int(runner.addresses[0][1]) if runner.addresses else port

    async def stop(self) -> None:
        """Stop serving; pending long polls return at once, webhook delivery stops."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _on_startup(self, app: web.Application) -> None:
        self._closing = False
        self._session = aiohttp.ClientSession()
        self._worker = asyncio.create_task(self._webhook_worker(), name="standin-webhook")

    async def _on_shutdown(self, app: web.Application) -> None:
        # Runs before aiohttp waits for open requests: release long polls and waiters now.
        self._closing = True
        self._updates_signal.fire()
        self._calls_signal.fire()

    async def _on_cleanup(self, app: web.Application) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> BotApiStandIn:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def _public_host(self) -> str:
        return "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``; PTB appends the token itself."""
        return f"http://{self._public_host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``, so downloads come from here too."""
        return f"http://{self._public_host}:{self.port}/file/bot"

    @property
    def url(self) -> str:
        """Root URL of the server (control routes live under ``/_standin/``)."""
        return f"http://{self._public_host}:{self.port}"

    # ----------------------------------------------------------------------------------------
    # Configuration: failures, blocking, users and chats
    # ----------------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        retry_after: int = 3,
        count: int = 1,
        *,
        description: str | None = None,
        parameters: JSON | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` (``"*"``: any method) with an error.

        429 answers carry ``retry_after`` like Telegram's flood control (PTB raises
        ``RetryAfter``); other codes get Telegram's usual description unless one is given.
        """
        if error_code == 429:
            error = _too_many_requests(retry_after)
            if parameters:
                error.parameters = {**(error.parameters or {}), **parameters}
            if description:
                error.description = description
        else:
            text = description or _DEFAULT_DESCRIPTIONS.get(error_code, f"Error {error_code}")
            error = ApiError(error_code, text, parameters)
        key = method.lower()
        self._failures.setdefault(key, deque()).append(_Failure(error, count))

    def block(self, chat_id: int, *, notify: bool = False) -> None:
        """The user blocks the bot: every send or edit to the chat answers 403.

        With ``notify=True`` the bot also gets the ``my_chat_member`` update Telegram sends.
        """
        self._blocked.add(chat_id)
        if notify:
            self._push_member_status(chat_id, old="member", new="kicked")

    def unblock(self, chat_id: int, *, notify: bool = False) -> None:
        self._blocked.discard(chat_id)
        if notify:
            self._push_member_status(chat_id, old="kicked", new="member")

    def is_blocked(self, chat_id: int) -> bool:
        return chat_id in self._blocked

    def add_user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> JSON:
        """Register (or update) a user and their private chat; returns the ``User`` object.

        The chat becomes known, as if the user had started the bot, so ``strict_chats``
        lets the bot write to it.
        """
        old = self._users.get(user_id)
        user: JSON = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name or (old or {}).get("first_name") or f"User{user_id}",
        }
        last_name = last_name or (old or {}).get("last_name")
        username = username or (old or {}).get("username")
        language_code = language_code or (old or {}).get("language_code")
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        if user != old:
            # New dicts rather than mutation: snapshots taken earlier keep what was true then.
            self._users[user_id] = user
            chat: JSON = {"id": user_id, "type": "private", "first_name": user["first_name"]}
            for key in ("last_name", "username"):
                if key in user:
                    chat[key] = user[key]
            self._chats[user_id] = chat
            if username:
                self._usernames[username.lower()] = user_id
        self._known_chats.add(user_id)
        return self._users[user_id]

    def add_chat(
        self,
        chat_id: int,
        *,
        type: str = "supergroup",  # mirrors Telegram's field name
        title: str | None = None,
        username: str | None = None,
    ) -> JSON:
        """Register a group, supergroup or channel the bot is in; returns the ``Chat``."""
        chat: JSON = {"id": chat_id, "type": type, "title": title or f"Chat {chat_id}"}
        if username:
            chat["username"] = username
            self._usernames[username.lower()] = chat_id
        self._chats[chat_id] = chat
        self._known_chats.add(chat_id)
        return chat

    def user(self, user_id: int) -> JSON | None:
        return self._users.get(user_id)

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """Commands the bot set for ``scope``/``language_code`` (``setMyCommands``)."""
        return list(self._commands.get((self._scope_key(scope), language_code), []))

    @property
    def webhook_url(self) -> str | None:
        return self._webhook.url if self._webhook else None

    @property
    def pending_updates(self) -> int:
        return len(self._pending)

    # ----------------------------------------------------------------------------------------
    # Reading what happened
    # ----------------------------------------------------------------------------------------

    def sent_to(self, chat_id: int, *, include_deleted: bool = False) -> list[SentMessage]:
        """Current state of every message the bot sent to the chat, oldest first."""
        result = []
        for message_id in self._chat_message_ids.get(chat_id, ()):
            msg = self._messages[(chat_id, message_id)]
            if msg.from_bot and (include_deleted or not msg.deleted):
                result.append(msg)
        return result

    def message(self, chat_id: int, message_id: int) -> SentMessage | None:
        """Current snapshot of one message (bot or user), ``None`` if it never existed."""
        return self._messages.get((chat_id, message_id))

    def events(self, chat_id: int, start: int = 0) -> list[ChatEvent]:
        """Chat events from index ``start`` on (indexes are stable: the list only grows)."""
        return self._history.get(chat_id, [])[start:]

    def event_count(self, chat_id: int) -> int:
        return len(self._history.get(chat_id, ()))

    def chats(self) -> list[int]:
        """Chats that have any messages or events, in first-seen order."""
        return list(self._history)

    def invoice(self, message: SentMessage) -> JSON | None:
        """``payload``, ``currency`` and ``total_amount`` of an invoice message the bot sent."""
        return self._invoices.get((message.chat_id, message.message_id))

    def calls_of(self, method: str) -> list[ApiCall]:
        wanted = method.lower()
        return [c for c in self.calls if c.method.lower() == wanted]

    def mark(self) -> int:
        """Position in :attr:`calls`; pass as ``since=`` to only look at later calls."""
        return len(self.calls)

    def add_listener(self, listener: Callable[[ChatEvent], None]) -> Callable[[], None]:
        """Call ``listener`` synchronously for every chat event; returns an unsubscriber.

        Meant for live views (the sandbox chat page); listener errors are logged, not raised.
        """
        self._listeners.append(listener)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return remove

    def stats(self, *, per_chat: bool = True) -> JSON:
        """Counters for benchmarks (also served as ``GET /_standin/stats``).

        ``per_chat=False`` leaves out ``messages_per_chat``, the one part that grows with the
        number of chats, so a benchmark can poll it during a 100k broadcast.
        """
        stats: JSON = {
            "calls_total": len(self.calls),
            "calls_by_method": dict(self._calls_by_method),
            "messages_total": sum(self._messages_per_chat.values()),
            "messages_per_chat": (
                {str(k): v for k, v in self._messages_per_chat.items()} if per_chat else {}
            ),
            "chats_with_messages": len(self._messages_per_chat),
            "rejected_429": self.rejected_429,
            "errors_by_code": {str(k): v for k, v in self._errors_by_code.items()},
            "duplicates": self._duplicates,
            "duplicate_examples": list(self._duplicate_examples),
            "unknown_methods": dict(self.unknown_methods),
            "pending_updates": len(self._pending),
            "dropped_updates": self.dropped_updates,
            "webhook_failures": self.webhook_failures,
            "blocked_chats": sorted(self._blocked),
        }
        if not per_chat:
            del stats["messages_per_chat"]
        return stats

    def clear_records(self) -> None:
        """Forget recorded calls and statistics (chats, messages and settings stay)."""
        self.calls.clear()
        self.unknown_methods.clear()
        self.rejected_429 = 0
        self.dropped_updates = 0
        self.webhook_failures = 0
        self._messages_per_chat.clear()
        self._seen_texts.clear()
        self._duplicates = 0
        self._duplicate_examples.clear()
        self._errors_by_code.clear()
        self._calls_by_method.clear()

    # ----------------------------------------------------------------------------------------
    # Waiting
    # ----------------------------------------------------------------------------------------

    async def _wait_until(
        self,
        check: Callable[[], _T | None],
        limit: float,
        signal: _Signal,
        describe: Callable[[], str],
    ) -> _T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while True:
            found = check()
            if found is not None:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                raise TimeoutError(describe())
            await signal.wait(remaining)

    async def wait_for(
        self,
        predicate: Callable[[ApiCall], bool] | str,
        timeout: float = 5.0,  # noqa: ASYNC109 - public API, callers pass timeout=
        *,
        since: int = 0,
    ) -> ApiCall:
        """First recorded call from index ``since`` on matching ``predicate``.

        ``predicate`` may be a method name. Calls already recorded count, so there is no race
        between triggering something and starting to wait; use ``since=standin.mark()`` to
        ignore what happened before. Raises ``TimeoutError`` listing the latest calls.
        """
        matches: Callable[[ApiCall], bool]
        if isinstance(predicate, str):
            name = predicate.lower()
            matches = lambda call: call.method.lower() == name  # noqa: E731
        else:
            matches = predicate
        position = since

        def check() -> ApiCall | None:
            nonlocal position
            calls = self.calls
            while position < len(calls):
                call = calls[position]
                position += 1
                if matches(call):
                    return call
            return None

        def describe() -> str:
            tail = ", ".join(
                f"{c.method}{'' if c.ok else f' -> {c.error_code}'}" for c in self.calls[-15:]
            )
            return f"no matching API call within {timeout}s; latest calls: [{tail}]"

        return await self._wait_until(check, timeout, self._calls_signal, describe)

    async def wait_idle(
        self,
        quiet: float = 0.2,
        timeout: float = 10.0,  # noqa: ASYNC109 - public API, callers pass timeout=
    ) -> None:
        """Return once the bot has been quiet for ``quiet`` seconds.

        Quiet means: every pushed update was handed to the bot, no API request is in flight
        (long polls don't count) and none started or ended for ``quiet`` seconds. Raises
        ``TimeoutError`` after ``timeout`` seconds (e.g. nothing is polling for updates).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self._wait_quiet(quiet, deadline, timeout)
            # Quiet on the wire; the bot may still hold queued messages it hasn't picked up.
            # Drain them, and if any were due, wait for quiet again after their sends.
            drained = False
            for settle in list(self.settle_hooks):
                drained |= await asyncio.wait_for(
                    settle(), timeout=max(0.0, deadline - loop.time())
                )
            if not drained:
                return

    async def _wait_quiet(self, quiet: float, deadline: float, timeout: float) -> None:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        while True:
            now = time.monotonic()
            busy = self._inflight > 0 or self._undelivered_updates()
            idle_for = now - self._last_activity
            if not busy and idle_for >= quiet:
                return
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                raise TimeoutError(
                    f"bot not idle within {timeout}s: {self._inflight} requests in flight, "
                    f"{len(self._pending)} updates pending"
                )
            await self._calls_signal.wait(min(remaining, quiet if busy else quiet - idle_for))

    async def wait_for_event(
        self,
        chat_id: int,
        predicate: Callable[[ChatEvent], bool],
        *,
        start: int = 0,
        timeout: float = 5.0,  # noqa: ASYNC109 - same shape as wait_for
    ) -> tuple[int, ChatEvent]:
        """First chat event at index >= ``start`` matching ``predicate``, with its index."""
        position = start

        def check() -> tuple[int, ChatEvent] | None:
            nonlocal position
            history = self._history.get(chat_id, [])
            while position < len(history):
                event = history[position]
                position += 1
                if predicate(event):
                    return position - 1, event
            return None

        def describe() -> str:
            return f"no matching event in chat {chat_id} within {timeout}s"

        return await self._wait_until(check, timeout, self._calls_signal, describe)

    @property
    def is_polling(self) -> bool:
        """A ``getUpdates`` long poll is waiting for updates right now."""
        return self._polls_waiting > 0

    async def wait_until_polling(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109 - same shape as wait_for
    ) -> None:
        """Return once a bot is blocked in a ``getUpdates`` long poll (it is ready)."""

        def check() -> bool | None:
            return True if self._polls_waiting > 0 else None

        def describe() -> str:
            return f"no getUpdates long poll within {timeout}s"

        await self._wait_until(check, timeout, self._calls_signal, describe)

    def _undelivered_updates(self) -> bool:
        return bool(self._pending) and self._pending[-1]["update_id"] > self._handed_out_up_to

    def _touch(self) -> None:
        self._last_activity = time.monotonic()
        self._calls_signal.fire()

    # ----------------------------------------------------------------------------------------
    # The user side: pushing updates
    # ----------------------------------------------------------------------------------------

    def push_update(self, update: Mapping[str, Any]) -> int:
        """Queue an update for the bot (or deliver it to the webhook); returns its update_id.

        ``update_id`` is assigned unless given. Users and chats mentioned in the update become
        known. Update types excluded by the bot's ``allowed_updates`` are dropped, as Telegram
        does (counted in :attr:`dropped_updates`).
        """
        upd = dict(update)
        if "update_id" in upd:
            update_id = int(upd["update_id"])
            self._next_update_id = max(self._next_update_id, update_id + 1)
        else:
            update_id = self._next_update_id
            self._next_update_id += 1
            upd["update_id"] = update_id
        kind = next((k for k in upd if k != "update_id"), None)
        if kind is not None:
            self._learn_from(upd[kind])
        if kind is None or not self._update_allowed(kind):
            self.dropped_updates += 1
            return update_id
        self._pending.append(upd)
        self._updates_signal.fire()
        self._touch()
        return update_id

    def user_message(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        chat_id: int | None = None,
        reply_to: int | SentMessage | None = None,
    ) -> JSON:
        """The user sends ``text``; returns the pushed update.

        A leading ``/command`` gets its ``bot_command`` entity, so PTB's CommandHandler fires.
        ``chat_id`` (a registered group) sends in a group instead of the private chat.
        """
        entities = []
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0] if text.strip() else text
            entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command)})
        return self._push_user_message(
            user_id,
            "text",
            text,
            entities=entities,
            chat_id=chat_id,
            reply_to=reply_to,
            user_fields={"first_name": first_name, "last_name": last_name, "username": username},
        )

    def callback_query(
        self,
        user_id: int,
        message: int | SentMessage | Mapping[str, Any],
        data: str,
        *,
        strict: bool = True,
    ) -> JSON:
        """The user presses the inline button with ``callback_data == data`` on ``message``.

        ``message`` is a message id in the user's private chat, a :class:`SentMessage` or a
        Telegram message dict; the update carries the message as it is *now* (after edits).
        With ``strict`` (default) pressing a button the message doesn't have raises
        ``ValueError``, since a real client can't do that.
        """
        chat_id, message_id = self._message_ref(message, default_chat=user_id)
        msg = self._messages.get((chat_id, message_id))
        if msg is None or msg.deleted:
            raise ValueError(f"no message {message_id} in chat {chat_id} to press a button on")
        if strict:
            available = [
                b.get("callback_data") for row in msg.inline_keyboard for b in row if "text" in b
            ]
            if data not in available:
                raise ValueError(
                    f"message {message_id} has no button with callback_data={data!r}; "
                    f"it has {available!r}"
                )
        user = self._ensure_user(user_id, {})
        query_id = str(self._next_counter() + 4_000_000_000_000)
        self._open_callback_queries[query_id] = chat_id
        self._add_event(chat_id, "callback", message=msg, data=data)
        update: JSON = {
            "callback_query": {
                "id": query_id,
                "from": user,
                "message": msg.to_dict(),
                "chat_instance": str((chat_id * 7919) % 10**15),
                "data": data,
            }
        }
        update["update_id"] = self.push_update(update)
        return update

    def users_shared(self, user_id: int, request_id: int, user_ids: Iterable[int]) -> JSON:
        """The user picks users with a ``KeyboardButtonRequestUsers`` button."""
        shared = []
        for uid in user_ids:
            entry: JSON = {"user_id": uid}
            known = self._users.get(uid)
            if known:
                entry.update({k: known[k] for k in ("first_name", "username") if k in known})
            shared.append(entry)
        return self._push_user_message(
            user_id,
            "users_shared",
            "",
            extra={"users_shared": {"request_id": request_id, "users": shared}},
        )

    def contact(
        self,
        user_id: int,
        phone_number: str = "+447700900123",
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        contact_user_id: int | None = None,
    ) -> JSON:
        """The user shares a contact (their own by default, as ``request_contact`` does)."""
        user = self._ensure_user(user_id, {})
        contact: JSON = {
            "phone_number": phone_number,
            "first_name": first_name or user["first_name"],
            "user_id": contact_user_id if contact_user_id is not None else user_id,
        }
        if last_name:
            contact["last_name"] = last_name
        return self._push_user_message(user_id, "contact", phone_number, extra={"contact": contact})

    def pre_checkout_query(
        self, user_id: int, payload: str, total_amount: int, currency: str = "XTR"
    ) -> JSON:
        """The user confirms payment of an invoice; the bot must ``answerPreCheckoutQuery``."""
        user = self._ensure_user(user_id, {})
        query_id = str(self._next_counter() + 8_000_000_000_000)
        self._open_pre_checkout_queries.add(query_id)
        update: JSON = {
            "pre_checkout_query": {
                "id": query_id,
                "from": user,
                "currency": currency,
                "total_amount": total_amount,
                "invoice_payload": payload,
            }
        }
        update["update_id"] = self.push_update(update)
        return update

    def successful_payment(
        self,
        user_id: int,
        payload: str,
        total_amount: int,
        charge_id: str | None = None,
        *,
        currency: str = "XTR",
        provider_charge_id: str = "",
    ) -> JSON:
        """The service message Telegram sends after a payment went through."""
        payment = {
            "currency": currency,
            "total_amount": total_amount,
            "invoice_payload": payload,
            "telegram_payment_charge_id": charge_id or f"stxTEST{self._next_counter()}",
            "provider_payment_charge_id": provider_charge_id,
        }
        return self._push_user_message(
            user_id, "successful_payment", "", extra={"successful_payment": payment}
        )

    def _push_user_message(
        self,
        user_id: int,
        kind: str,
        text: str,
        *,
        entities: list[JSON] | None = None,
        extra: JSON | None = None,
        chat_id: int | None = None,
        reply_to: int | SentMessage | None = None,
        user_fields: Mapping[str, str | None] | None = None,
    ) -> JSON:
        user = self._ensure_user(user_id, user_fields or {})
        chat_id = user_id if chat_id is None else chat_id
        chat = self._chats.get(chat_id) or self.add_chat(chat_id)
        self._known_chats.add(chat_id)
        reply_msg = None
        if reply_to is not None:
            ref_chat, ref_id = self._message_ref(reply_to, default_chat=chat_id)
            reply_msg = self._messages.get((ref_chat, ref_id))
        msg = SentMessage(
            chat_id=chat_id,
            message_id=self._next_message_id(chat_id),
            date=int(time.time()),
            from_bot=False,
            kind=kind,
            text=text,
            chat=chat,
            sender=user,
            entities=entities or [],
            extra=extra,
            reply_to=reply_msg,
        )
        self._store_message(msg)
        self._add_event(chat_id, "message", message=msg)
        update: JSON = {"message": msg.to_dict()}
        update["update_id"] = self.push_update(update)
        return update

    def _push_member_status(self, chat_id: int, *, old: str, new: str) -> None:
        user = self._users.get(chat_id) or self._ensure_user(chat_id, {})
        chat = self._chats[chat_id]

        def member(status: str) -> JSON:
            body: JSON = {"user": self.bot_user, "status": status}
            if status == "kicked":
                body["until_date"] = 0
            return body

        self.push_update(
            {
                "my_chat_member": {
                    "chat": chat,
                    "from": user,
                    "date": int(time.time()),
                    "old_chat_member": member(old),
                    "new_chat_member": member(new),
                }
            }
        )

    def _ensure_user(self, user_id: int, fields: Mapping[str, str | None]) -> JSON:
        existing = self._users.get(user_id)
        if existing is not None and not any(fields.values()):
            self._known_chats.add(user_id)
            return existing
        return self.add_user(
            user_id,
            fields.get("first_name"),
            last_name=fields.get("last_name"),
            username=fields.get("username"),
        )

    def _learn_from(self, obj: Any) -> None:
        """Make users and chats in a raw pushed update known (like a real first contact)."""
        if not isinstance(obj, dict):
            return
        sender = obj.get("from")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            if not sender.get("is_bot") and sender["id"] not in self._users:
                self.add_user(
                    sender["id"],
                    sender.get("first_name"),
                    last_name=sender.get("last_name"),
                    username=sender.get("username"),
                    language_code=sender.get("language_code"),
                )
            self._known_chats.add(sender["id"])
        chat = obj.get("chat")
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            self._chats.setdefault(chat["id"], chat)
            self._known_chats.add(chat["id"])
            message_id = obj.get("message_id")
            if isinstance(message_id, int):
                last = self._last_message_id.get(chat["id"], 0)
                self._last_message_id[chat["id"]] = max(last, message_id)
                if (
                    isinstance(sender, dict)
                    and not sender.get("is_bot")  # bot messages are only ever created here
                    and (chat["id"], message_id) not in self._messages
                ):
                    self._store_raw_message(obj, chat, sender, message_id)
        for nested in ("message", "reply_to_message"):
            if nested in obj:
                self._learn_from(obj[nested])

    def _store_raw_message(self, obj: JSON, chat: JSON, sender: JSON, message_id: int) -> None:
        """Keep a raw pushed user message, so the bot can reply to it (reply_parameters)."""
        standard = {"message_id", "from", "chat", "date", "text", "entities"}
        text = obj.get("text")
        msg = SentMessage(
            chat_id=chat["id"],
            message_id=message_id,
            date=int(obj.get("date") or time.time()),
            from_bot=False,
            kind="text" if isinstance(text, str) else "other",
            text=text if isinstance(text, str) else str(obj.get("caption") or ""),
            chat=chat,
            sender=sender,
            entities=list(obj.get("entities") or []),
            extra={k: v for k, v in obj.items() if k not in standard} or None,
        )
        self._store_message(msg)
        self._add_event(chat["id"], "message", message=msg)

    def _update_allowed(self, kind: str) -> bool:
        allowed = self._allowed_updates
        if allowed is None:
            return kind not in _OPT_IN_UPDATE_TYPES
        return kind in allowed

    def _set_allowed_updates(self, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, list):
            raise _bad_request("can't parse allowed updates")
        # An empty list means "the default set", like omitting it on a first call.
        self._allowed_updates = frozenset(str(v) for v in value) if value else None

    # ----------------------------------------------------------------------------------------
    # Messages, chats and files
    # ----------------------------------------------------------------------------------------

    def _next_counter(self) -> int:
        self._counter += 1
        return self._counter

    def _next_message_id(self, chat_id: int) -> int:
        # User and bot messages share one sequence per chat, as in Telegram private chats.
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        return message_id

    def _store_message(self, msg: SentMessage) -> None:
        key = (msg.chat_id, msg.message_id)
        if key not in self._messages:
            self._chat_message_ids.setdefault(msg.chat_id, []).append(msg.message_id)
        self._messages[key] = msg

    def _add_event(
        self,
        chat_id: int,
        kind: ChatEventKind,
        *,
        message: SentMessage | None = None,
        data: str | None = None,
        text: str | None = None,
        text_changed: bool = False,
    ) -> ChatEvent:
        self._event_seq += 1
        event = ChatEvent(
            seq=self._event_seq,
            chat_id=chat_id,
            kind=kind,
            message=message,
            data=data,
            text=text,
            text_changed=text_changed,
        )
        self._history.setdefault(chat_id, []).append(event)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken live view must not break the API
                _LOG.exception("standin listener failed")
        self._calls_signal.fire()
        return event

    def _message_ref(
        self, message: int | SentMessage | Mapping[str, Any] | Any, *, default_chat: int
    ) -> tuple[int, int]:
        if isinstance(message, int):
            return default_chat, message
        if isinstance(message, SentMessage):
            return message.chat_id, message.message_id
        if isinstance(message, Mapping):
            chat = message.get("chat") or {}
            return int(chat.get("id", default_chat)), int(message["message_id"])
        # Duck-typing for PTB's telegram.Message and similar objects.
        chat_id = getattr(message, "chat_id", None)
        return int(chat_id if chat_id is not None else default_chat), int(message.message_id)

    def _resolve_chat(self, value: Any) -> JSON:
        if value is None or value == "":
            raise _bad_request("chat_id is empty")
        if isinstance(value, str):
            chat_id = self._usernames.get(value.lstrip("@").lower())
            if chat_id is None or not value.startswith("@"):
                raise _bad_request("chat not found")
        elif isinstance(value, int) and not isinstance(value, bool):
            chat_id = value
        else:
            raise _bad_request("chat not found")
        chat = self._chats.get(chat_id)
        if self.strict_chats and chat_id not in self._known_chats:
            raise _bad_request("chat not found")
        if chat is None:
            # Lenient mode: invent a plausible chat so notification tests need no setup.
            if chat_id > 0:
                chat = {"id": chat_id, "type": "private", "first_name": f"User{chat_id}"}
            else:
                chat = {"id": chat_id, "type": "supergroup", "title": f"Chat {chat_id}"}
            self._chats[chat_id] = chat
        return chat

    def _new_bot_message(
        self,
        ctx: _Ctx,
        kind: str,
        text: str,
        entities: list[JSON],
        *,
        reply_to: SentMessage | None = None,
        **fields: Any,
    ) -> SentMessage:
        chat = ctx.chat
        assert chat is not None
        chat_id = chat["id"]
        msg = SentMessage(
            chat_id=chat_id,
            message_id=self._next_message_id(chat_id),
            date=int(time.time()),
            from_bot=True,
            kind=kind,
            text=text,
            chat=chat,
            sender=self.bot_user,
            entities=entities,
            reply_markup=ctx.params.get("reply_markup"),
            reply_to=reply_to,
            **fields,
        )
        self._store_message(msg)
        ctx.message_id = msg.message_id
        self._messages_per_chat[chat_id] += 1
        if text:
            key = hash((chat_id, text))
            if key in self._seen_texts:
                self._duplicates += 1
                if len(self._duplicate_examples) < 20:
                    self._duplicate_examples.append({"chat_id": chat_id, "text": text[:200]})
            else:
                self._seen_texts.add(key)
        self._add_event(chat_id, "message", message=msg)
        return msg

    def _format(self, ctx: _Ctx, text_field: str, *, caption: bool) -> tuple[str, list[JSON]]:
        params = ctx.params
        raw = params.get(text_field)
        if raw is None:
            raw = ""
        if not isinstance(raw, str):
            raw = str(raw)
        entity_field = "caption_entities" if caption else "entities"
        entities = params.get(entity_field)
        if entities is not None and not isinstance(entities, list):
            raise _bad_request(f"can't parse {entity_field} JSON object")
        try:
            text, parsed = parse_formatted(raw, params.get("parse_mode"), entities)
        except FormattingError as exc:
            raise _bad_request(str(exc)) from None
        if caption:
            if utf16_len(text) > MAX_CAPTION_LENGTH:
                raise _bad_request("message caption is too long")
        else:
            if not text:
                raise _bad_request("message text is empty")
            if utf16_len(text) > MAX_TEXT_LENGTH:
                raise _bad_request("message is too long")
        return text, parsed

    def _check_markup(self, markup: Any) -> None:
        """Reject keyboards Telegram rejects (oversized callback_data is the classic)."""
        if markup is None:
            return
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad_request('field "inline_keyboard" must be an Array of Arrays')
            for row in rows:
                for button in row:
                    self._check_inline_button(button)
        elif "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad_request('field "keyboard" must be an Array of Arrays')
        elif not ({"remove_keyboard", "force_reply"} & markup.keys()):
            raise _bad_request("can't parse reply keyboard markup JSON object")

    @staticmethod
    def _check_inline_button(button: Any) -> None:
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise _bad_request("can't parse inline keyboard button: Text must be a String")
        actions = set(button) - {"text", "style", "icon_custom_emoji_id"}
        if not actions:
            raise _bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline "
                "keyboard"
            )
        if "callback_data" in button:
            data = button["callback_data"]
            size = len(data.encode("utf-8")) if isinstance(data, str) else 0
            if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                raise _bad_request("BUTTON_DATA_INVALID")
        if "url" in button:
            url = button["url"]
            if not isinstance(url, str) or not re.match(r"^(https?|tg)://\S+$", url):
                raise _bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")

    def _reply_target(self, ctx: _Ctx) -> SentMessage | None:
        params = ctx.params
        assert ctx.chat is not None
        chat_id = ctx.chat["id"]
        reply = params.get("reply_parameters")
        allow = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply, dict):
            target_id = reply.get("message_id")
            allow = bool(reply.get("allow_sending_without_reply", allow))
            ref_chat = reply.get("chat_id", chat_id)
            if isinstance(ref_chat, int):
                chat_id = ref_chat
        else:
            target_id = params.get("reply_to_message_id")
        if target_id is None:
            return None
        target = self._messages.get((chat_id, target_id)) if isinstance(target_id, int) else None
        if target is None or target.deleted:
            if allow:
                return None
            raise _bad_request("message to be replied not found")
        return target

    def _store_file(self, data: bytes, mime: str | None, filename: str | None, kind: str) -> str:
        number = self._next_counter()
        ext = (mimetypes.guess_extension(mime) if mime else None) or ""
        if filename and "." in filename:
            ext = "." + filename.rsplit(".", 1)[1]
        file_id = f"{kind}-{number}-{sha1(data).hexdigest()[:10]}"
        file_path = f"{kind}s/file_{number}{ext}"
        self.files[file_id] = StoredFile(data, mime, filename)
        self._file_meta[file_id] = _FileMeta(
            # Content-addressed like Telegram: the same bytes get the same file_unique_id.
            file_unique_id=sha1(data).hexdigest()[:16],
            file_path=file_path,
            file_size=len(data),
        )
        self._file_paths[file_path] = file_id
        return file_id

    def _input_file(self, ctx: _Ctx, name: str, kind: str) -> str:
        """Resolve a file parameter (upload, ``attach://``, file_id or URL) to a file_id."""
        value = ctx.params.get(name)
        upload = None
        if value is None and name in ctx.uploads:
            upload = ctx.uploads[name]
        elif isinstance(value, str) and value.startswith("attach://"):
            upload = ctx.uploads.get(value[len("attach://") :])
            if upload is None:
                raise _bad_request("wrong file identifier/HTTP URL specified")
        if upload is not None:
            sniffed, width, height = _sniff_image(upload.data)
            if kind == "photo":
                _check_photo(sniffed, width, height)
            mime = sniffed or upload.content_type
            if not mime or mime == "application/octet-stream":
                mime = mimetypes.guess_type(upload.filename or "")[0] or mime
            file_id = self._store_file(upload.data, mime, upload.filename, kind)
        elif isinstance(value, str) and value in self.files:
            file_id = value
        elif isinstance(value, str) and value.startswith(("http://", "https://")):
            # Telegram would download the URL; with no network we keep a byte-less record.
            filename = value.rsplit("/", 1)[-1].split("?", 1)[0] or None
            mime = mimetypes.guess_type(filename or "")[0]
            file_id = self._store_file(b"", mime, filename, kind)
            self._file_meta[file_id].url = value
        elif value:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        else:
            raise _bad_request(f"there is no {name} in the request")
        ctx.params[name] = file_id  # record the stored file, not the raw upload
        return file_id

    # ----------------------------------------------------------------------------------------
    # HTTP layer
    # ----------------------------------------------------------------------------------------

    async def _read_params(self, request: web.Request) -> tuple[JSON, dict[str, _Upload]]:
        raw: dict[str, Any] = dict(request.query)
        uploads: dict[str, _Upload] = {}
        if request.body_exists:
            ctype = request.content_type
            if ctype == "application/json":
                body = await request.json()
                if not isinstance(body, dict):
                    raise _bad_request("JSON object expected")
                raw.update(body)
            elif ctype == "multipart/form-data":
                # Read parts directly rather than via request.post(): it spools files into
                # temporary files that would need closing.
                reader = await request.multipart()
                total = 0
                while True:
                    part = await reader.next()
                    if part is None:
                        break
                    if not isinstance(part, aiohttp.BodyPartReader) or not part.name:
                        continue
                    if part.filename is not None:
                        data = bytes(await part.read(decode=True))
                        total += len(data)
                        if total > MAX_UPLOAD_BYTES:
                            raise ApiError(413, "Request Entity Too Large")
                        uploads[part.name] = _Upload(
                            data, part.filename, part.headers.get("Content-Type")
                        )
                    else:
                        raw[part.name] = await part.text()
            else:
                form = await request.post()
                raw.update({k: v for k, v in form.items() if isinstance(v, str)})
        return {k: _decode_value(k, v) for k, v in raw.items()}, uploads

    async def _handle_api(self, request: web.Request) -> web.Response:
        received = time.monotonic()
        token = request.match_info["token"]
        name = request.match_info["method"]
        try:
            params, uploads = await self._read_params(request)
        except ApiError as exc:
            self._record(name, {}, received, error=exc)
            return web.json_response(exc.payload(), status=exc.code, dumps=_json_dumps)
        except (ValueError, aiohttp.ClientError) as exc:
            error = _bad_request(f"can't parse request: {exc}")
            self._record(name, {}, received, error=error)
            return web.json_response(error.payload(), status=400, dumps=_json_dumps)
        status, payload = await self._execute(token, name, params, uploads, received)
        return web.json_response(payload, status=status, dumps=_json_dumps)

    async def _execute(
        self,
        token: str | None,
        name: str,
        params: JSON,
        uploads: dict[str, _Upload],
        received: float,
    ) -> tuple[int, JSON]:
        method = self._methods.get(name.lower())
        canonical = method.name if method else name
        polling = canonical == "getUpdates"
        if not polling:
            self._inflight += 1
            self._touch()
        ctx = _Ctx(canonical, params, uploads)
        try:
            result = await self._dispatch(token, method, ctx)
        except ApiError as exc:
            self._record(canonical, params, received, error=exc, ctx=ctx)
            return exc.code, exc.payload()
        except Exception as exc:  # a stand-in bug should read as a server error, not hang
            _LOG.exception("standin failed on %s", canonical)
            error = ApiError(500, f"Internal Server Error: stand-in failed: {exc!r}")
            self._record(canonical, params, received, error=error, ctx=ctx)
            return 500, error.payload()
        finally:
            if not polling:
                self._inflight -= 1
                self._touch()
        self._record(canonical, params, received, result=result, ctx=ctx)
        return 200, {"ok": True, "result": result}

    async def _dispatch(self, token: str | None, method: _Method | None, ctx: _Ctx) -> Any:
        if token is not None and self.token is not None and token != self.token:
            raise ApiError(401, "Unauthorized")
        if token is not None and self._adopt_token_id:
            self._adopt_token_id = False
            prefix = token.partition(":")[0]
            if prefix.isdigit():
                self.bot_id = int(prefix)
                self.bot_user = {**self.bot_user, "id": self.bot_id}
        if method is None:
            self.unknown_methods[ctx.method] += 1
            raise ApiError(404, "Not Found: method not found")
        self._take_injected_failure(method.name)
        if method.targets_chat:
            chat = self._resolve_chat(ctx.params.get("chat_id"))
            ctx.chat = chat
            if method.blockable and chat["id"] in self._blocked:
                kind = "user" if chat["type"] == "private" else "group chat"
                verb = "blocked by" if kind == "user" else "kicked from"
                raise ApiError(403, f"Forbidden: bot was {verb} the {kind}")
            if method.is_send:
                self._rate_limit(chat["id"])
        if method.name == "getUpdates":
            return await self._get_updates(ctx)
        return method.handler(ctx)

    def _take_injected_failure(self, method: str) -> None:
        for key in (method.lower(), "*"):
            queue = self._failures.get(key)
            if queue:
                failure = queue[0]
                failure.remaining -= 1
                if failure.remaining <= 0:
                    queue.popleft()
                raise ApiError(
                    failure.error.code, failure.error.description, failure.error.parameters
                )

    def _rate_limit(self, chat_id: int) -> None:
        now = time.monotonic()
        buckets: list[_TokenBucket] = []
        if self.rate_limit_per_second:
            if (
                self._global_bucket is None
                or self._global_bucket.rate != self.rate_limit_per_second
            ):
                rate = self.rate_limit_per_second
                self._global_bucket = _TokenBucket(rate, max(1.0, rate), now)
            buckets.append(self._global_bucket)
        if self.per_chat_rate_per_second:
            rate = self.per_chat_rate_per_second
            bucket = self._chat_buckets.get(chat_id)
            if bucket is None or bucket.rate != rate:
                bucket = self._chat_buckets[chat_id] = _TokenBucket(rate, max(1.0, rate), now)
            buckets.append(bucket)
        wait = max((b.wait_time(now) for b in buckets), default=0.0)
        if wait > 0:
            raise _too_many_requests(max(1, math.ceil(wait)))
        for bucket in buckets:
            bucket.take()

    def _record(
        self,
        method: str,
        params: JSON,
        received: float,
        *,
        result: Any = None,
        error: ApiError | None = None,
        ctx: _Ctx | None = None,
    ) -> ApiCall:
        chat_id = None
        if ctx is not None and ctx.chat is not None:
            chat_id = ctx.chat["id"]
        elif isinstance(params.get("chat_id"), int):
            chat_id = params["chat_id"]
        message_id = ctx.message_id if ctx is not None else None
        if message_id is None and isinstance(params.get("message_id"), int):
            message_id = params["message_id"]
        self._seq += 1
        call = ApiCall(
            seq=self._seq,
            method=method,
            params=params if self.record_params else {},
            timestamp=received,
            ok=error is None,
            error_code=error.code if error else None,
            description=error.description if error else None,
            chat_id=chat_id,
            message_id=message_id,
            result=result if self.record_params else None,
        )
        self.calls.append(call)
        self._calls_by_method[method] += 1
        if error is not None:
            self._errors_by_code[error.code] += 1
            if error.code == 429:
                self.rejected_429 += 1
        self._calls_signal.fire()
        return call

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if self.token is not None and request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").payload(), status=401)
        file_id = self._file_paths.get(request.match_info["path"])
        if file_id is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        stored = self.files[file_id]
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    # ----------------------------------------------------------------------------------------
    # getUpdates and the webhook
    # ----------------------------------------------------------------------------------------

    async def _get_updates(self, ctx: _Ctx) -> list[JSON]:
        params = ctx.params
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        self._set_allowed_updates(params.get("allowed_updates"))
        offset = params.get("offset")
        if isinstance(offset, int) and offset != 0:
            self._confirm_updates(offset)
        limit = params.get("limit", 100)
        limit = min(max(int(limit), 1), 100) if isinstance(limit, int | float) else 100
        timeout = params.get("timeout", 0)
        timeout = max(0.0, float(timeout)) if isinstance(timeout, int | float) else 0.0

        # A newer getUpdates terminates an older one, exactly like Telegram's 409; it makes
        # two pollers on one token (a classic deployment bug) loud in tests.
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_signal.fire()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )
            if self._webhook is not None:
                raise ApiError(409, "Conflict: webhook was set during the getUpdates request")
            if self._pending or self._closing:
                batch = [self._pending[i] for i in range(min(limit, len(self._pending)))]
                if batch:
                    self._handed_out_up_to = max(self._handed_out_up_to, batch[-1]["update_id"])
                    self._touch()
                return batch
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            self._polls_waiting += 1
            self._calls_signal.fire()  # wakes wait_until_polling()
            try:
                await self._updates_signal.wait(remaining)
            finally:
                self._polls_waiting -= 1

    def _confirm_updates(self, offset: int) -> None:
        pending = self._pending
        before = len(pending)
        if offset < 0:  # "-N": keep only the last N updates
            while len(pending) > -offset:
                pending.popleft()
        else:
            while pending and pending[0]["update_id"] < offset:
                pending.popleft()
        if len(pending) != before:
            self._touch()

    async def _webhook_worker(self) -> None:
        """Deliver pending updates to the webhook, in order, one at a time."""
        while not self._closing:
            webhook = self._webhook
            if webhook is None or not self._pending:
                await self._updates_signal.wait(None)
                continue
            update = self._pending[0]
            delivered = await self._deliver(webhook, update)
            if not self._pending or self._pending[0] is not update:
                continue  # dropped meanwhile (drop_pending_updates)
            if delivered:
                self._pending.popleft()
                self._touch()
            elif self._webhook is webhook:
                # Telegram gives up eventually too; the error shows in getWebhookInfo.
                self._pending.popleft()
                self.webhook_failures += 1
                self._touch()
            # else: the webhook was removed or replaced mid-delivery; the update stays
            # pending for getUpdates or the new webhook.

    async def _deliver(self, webhook: _Webhook, update: JSON) -> bool:
        assert self._session is not None
        headers = {"Content-Type": "application/json"}
        if webhook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = webhook.secret_token
        body = _json_dumps(update).encode("utf-8")
        timeout = aiohttp.ClientTimeout(total=self.webhook_timeout)
        for delay in (0.0, *self.webhook_retry_delays):
            if delay:
                await asyncio.sleep(delay)
            if self._webhook is not webhook:
                return False
            try:
                async with self._session.post(
                    webhook.url, data=body, headers=headers, timeout=timeout
                ) as response:
                    payload = await response.read()
                    if 200 <= response.status < 300:
                        await self._webhook_reply(response.content_type, payload)
                        return True
                    error = f"Wrong response from the webhook: {response.status} {response.reason}"
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                error = f"Connection failed: {exc.__class__.__name__}"
            webhook.last_error_date = int(time.time())
            webhook.last_error_message = error
        return False

    async def _webhook_reply(self, content_type: str, payload: bytes) -> None:
        """Telegram lets a webhook answer with one Bot API call in its response body."""
        if content_type != "application/json" or not payload:
            return
        try:
            body = json.loads(payload)
        except ValueError:
            return
        if isinstance(body, dict) and isinstance(body.get("method"), str):
            params = {k: _decode_value(k, v) for k, v in body.items() if k != "method"}
            await self._execute(None, body["method"], params, {}, time.monotonic())

    # ----------------------------------------------------------------------------------------
    # Control routes (/_standin/*), for the separate-process mode
    # ----------------------------------------------------------------------------------------

    async def _handle_stats(self, request: web.Request) -> web.Response:
        stats = self.stats(per_chat=request.query.get("per_chat") != "0")
        return web.json_response(stats, dumps=_json_dumps)

    async def _handle_calls(self, request: web.Request) -> web.Response:
        try:
            since = int(request.query.get("since", "0"))
            limit = int(request.query.get("limit", "1000"))
        except ValueError:
            return web.json_response({"ok": False, "description": "bad since/limit"}, status=400)
        method = request.query.get("method")
        selected: list[JSON] = []
        index = max(since, 0)
        while index < len(self.calls) and len(selected) < limit:
            call = self.calls[index]
            index += 1
            if method is None or call.method.lower() == method.lower():
                selected.append(call.to_json())
        return web.json_response({"calls": selected, "next": index}, dumps=_json_dumps)

    async def _handle_messages(self, request: web.Request) -> web.Response:
        try:
            chat_id = int(request.query["chat_id"])
        except (KeyError, ValueError):
            return web.json_response({"ok": False, "description": "chat_id required"}, status=400)
        messages = [
            {**m.to_dict(), "version": m.version, "deleted": m.deleted}
            for m in self.sent_to(chat_id, include_deleted=True)
        ]
        return web.json_response({"messages": messages}, dumps=_json_dumps)

    _PUSH_HELPERS = (
        "user_message",
        "callback_query",
        "users_shared",
        "contact",
        "pre_checkout_query",
        "successful_payment",
    )

    async def _handle_push_updates(self, request: web.Request) -> web.Response:
        """Push raw updates, or helper calls like ``{"helper": "user_message", ...kwargs}``."""
        try:
            body = await request.json()
            items = body if isinstance(body, list) else [body]
            update_ids = []
            for item in items:
                if not isinstance(item, dict):
                    raise ValueError("each update must be a JSON object")
                helper = item.get("helper")
                if helper is None:
                    update_ids.append(self.push_update(item))
                    continue
                if helper not in self._PUSH_HELPERS:
                    raise ValueError(f"unknown helper {helper!r}; use one of {self._PUSH_HELPERS}")
                kwargs = {k: v for k, v in item.items() if k != "helper"}
                update = getattr(self, helper)(**kwargs)
                update_ids.append(update["update_id"])
        except (ValueError, TypeError, KeyError) as exc:
            return web.json_response({"ok": False, "description": str(exc)}, status=400)
        return web.json_response({"ok": True, "update_ids": update_ids})

    async def _handle_fail_next(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            self.fail_next(
                str(body["method"]),
                int(body.get("error_code", 429)),
                int(body.get("retry_after", 3)),
                int(body.get("count", 1)),
                description=body.get("description"),
            )
        except (ValueError, TypeError, KeyError) as exc:
            return web.json_response({"ok": False, "description": str(exc)}, status=400)
        return web.json_response({"ok": True})

    async def _handle_block(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            chat_id = int(body["chat_id"])
        except (ValueError, TypeError, KeyError) as exc:
            return web.json_response({"ok": False, "description": str(exc)}, status=400)
        notify = bool(body.get("notify", False))
        if request.path.endswith("/unblock"):
            self.unblock(chat_id, notify=notify)
        else:
            self.block(chat_id, notify=notify)
        return web.json_response({"ok": True})

    async def _handle_reset(self, request: web.Request) -> web.Response:
        self.clear_records()
        return web.json_response({"ok": True})

    # ----------------------------------------------------------------------------------------
    # Bot API methods
    # ----------------------------------------------------------------------------------------

    def _method_table(self) -> list[_Method]:
        send = {"targets_chat": True, "blockable": True, "is_send": True}
        touch = {"targets_chat": True, "blockable": True}
        return [
            _Method("getMe", self._m_get_me),
            _Method("getUpdates", self._m_unreachable),
            _Method("setWebhook", self._m_set_webhook),
            _Method("deleteWebhook", self._m_delete_webhook),
            _Method("getWebhookInfo", self._m_get_webhook_info),
            _Method("setMyCommands", self._m_set_my_commands),
            _Method("getMyCommands", self._m_get_my_commands),
            _Method("deleteMyCommands", self._m_delete_my_commands),
            _Method("sendMessage", self._m_send_message, **send),
            _Method("sendPhoto", self._m_send_photo, **send),
            _Method("sendDocument", self._m_send_document, **send),
            _Method("sendInvoice", self._m_send_invoice, **send),
            _Method("editMessageText", self._m_edit_message_text, **touch),
            _Method("editMessageCaption", self._m_edit_message_caption, **touch),
            _Method("editMessageReplyMarkup", self._m_edit_message_reply_markup, **touch),
            _Method("deleteMessage", self._m_delete_message, **touch),
            _Method("deleteMessages", self._m_delete_messages, **touch),
            _Method("sendChatAction", self._m_send_chat_action, **touch),
            _Method("answerCallbackQuery", self._m_answer_callback_query),
            _Method("answerPreCheckoutQuery", self._m_answer_pre_checkout_query),
            _Method("getFile", self._m_get_file),
            _Method("getChat", self._m_get_chat, targets_chat=True),
            _Method("close", self._m_true),
            _Method("logOut", self._m_true),
            _Method("setMyDescription", self._m_set_setting("description")),
            _Method("getMyDescription", self._m_get_setting("description")),
            _Method("setMyShortDescription", self._m_set_setting("short_description")),
            _Method("getMyShortDescription", self._m_get_setting("short_description")),
            _Method("setMyName", self._m_set_setting("name")),
            _Method("getMyName", self._m_get_setting("name")),
            _Method("setChatMenuButton", self._m_set_chat_menu_button),
            _Method("getChatMenuButton", self._m_get_chat_menu_button),
        ]

    def _m_unreachable(self, ctx: _Ctx) -> Any:
        raise AssertionError("getUpdates is dispatched separately")  # pragma: no cover

    def _m_true(self, ctx: _Ctx) -> bool:
        return True

    def _m_get_me(self, ctx: _Ctx) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_set_webhook(self, ctx: _Ctx) -> bool:
        params = ctx.params
        url = params.get("url") or ""
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self._set_allowed_updates(params.get("allowed_updates"))
        if not url:
            self._webhook = None
        else:
            if not isinstance(url, str) or not re.match(r"^https?://[^/\s]+", url):
                raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
            secret = params.get("secret_token")
            if secret is not None and not _SECRET_TOKEN_RE.match(str(secret)):
                raise _bad_request("secret token contains unallowed characters")
            max_connections = params.get("max_connections", 40)
            self._webhook = _Webhook(
                url=url,
                secret_token=str(secret) if secret else None,
                max_connections=int(max_connections) if isinstance(max_connections, int) else 40,
            )
        # Wake a long poll (it must now answer 409) and the delivery worker.
        self._updates_signal.fire()
        return True

    def _m_delete_webhook(self, ctx: _Ctx) -> bool:
        if ctx.params.get("drop_pending_updates"):
            self._pending.clear()
        self._webhook = None
        self._updates_signal.fire()
        return True

    def _m_get_webhook_info(self, ctx: _Ctx) -> JSON:
        info: JSON = {
            "url": self._webhook.url if self._webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self._webhook is not None:
            info["max_connections"] = self._webhook.max_connections
            if self._webhook.last_error_date is not None:
                info["last_error_date"] = self._webhook.last_error_date
                info["last_error_message"] = self._webhook.last_error_message
        if self._allowed_updates is not None:
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    @staticmethod
    def _scope_key(scope: Any) -> str:
        return _json_dumps(scope if isinstance(scope, dict) else {"type": "default"})

    def _commands_key(self, ctx: _Ctx) -> tuple[str, str]:
        language = ctx.params.get("language_code") or ""
        return self._scope_key(ctx.params.get("scope")), str(language)

    def _m_set_my_commands(self, ctx: _Ctx) -> bool:
        commands = ctx.params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict):
                raise _bad_request("can't parse BotCommand")
            if not _COMMAND_RE.match(str(command.get("command", ""))):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[self._commands_key(ctx)] = commands
        return True

    def _m_get_my_commands(self, ctx: _Ctx) -> list[JSON]:
        return list(self._commands.get(self._commands_key(ctx), []))

    def _m_delete_my_commands(self, ctx: _Ctx) -> bool:
        self._commands.pop(self._commands_key(ctx), None)
        return True

    def _m_send_message(self, ctx: _Ctx) -> JSON:
        text, entities = self._format(ctx, "text", caption=False)
        self._check_markup(ctx.params.get("reply_markup"))
        reply_to = self._reply_target(ctx)
        return self._new_bot_message(ctx, "text", text, entities, reply_to=reply_to).to_dict()

    def _m_send_photo(self, ctx: _Ctx) -> JSON:
        caption, entities = self._format(ctx, "caption", caption=True)
        self._check_markup(ctx.params.get("reply_markup"))
        reply_to = self._reply_target(ctx)
        file_id = self._input_file(ctx, "photo", "photo")
        stored = self.files[file_id]
        sizes = self._photo_sizes.get(file_id)
        if sizes is None:
            sizes = self._make_photo_sizes(file_id, stored)
        largest = sizes[-1]["file_id"]
        msg = self._new_bot_message(
            ctx,
            "photo",
            caption,
            entities,
            reply_to=reply_to,
            file_id=largest,
            data=stored.data,
            mime_type=stored.mime_type,
            file_name=stored.filename,
            extra={"photo": sizes},
        )
        return msg.to_dict()

    def _make_photo_sizes(self, file_id: str, stored: StoredFile) -> list[JSON]:
        meta = self._file_meta[file_id]
        _, sniffed_width, sniffed_height = _sniff_image(stored.data)
        # Unknown dimensions (WebP, a URL we can't fetch): pretend a square picture.
        width, height = sniffed_width or 512, sniffed_height or 512
        sizes: list[JSON] = []
        longest = max(width, height)
        # Telegram stores scaled variants (s/m/x) plus the original; all point at the same
        # bytes here, since only the largest is ever downloaded in tests.
        for side in (90, 320, 800):
            if side < longest:
                scale = side / longest
                size_id = f"{file_id}-{side}"
                self.files[size_id] = stored
                self._file_meta[size_id] = dataclasses.replace(
                    meta, file_unique_id=f"{meta.file_unique_id}{side}"
                )
                sizes.append(
                    {
                        "file_id": size_id,
                        "file_unique_id": f"{meta.file_unique_id}{side}",
                        "file_size": meta.file_size,
                        "width": max(1, round(width * scale)),
                        "height": max(1, round(height * scale)),
                    }
                )
        sizes.append(
            {
                "file_id": file_id,
                "file_unique_id": meta.file_unique_id,
                "file_size": meta.file_size,
                "width": width,
                "height": height,
            }
        )
        meta.width, meta.height = width, height
        self._photo_sizes[file_id] = sizes
        return sizes

    def _m_send_document(self, ctx: _Ctx) -> JSON:
        caption, entities = self._format(ctx, "caption", caption=True)
        self._check_markup(ctx.params.get("reply_markup"))
        reply_to = self._reply_target(ctx)
        file_id = self._input_file(ctx, "document", "document")
        stored = self.files[file_id]
        meta = self._file_meta[file_id]
        document: JSON = {
            "file_id": file_id,
            "file_unique_id": meta.file_unique_id,
            "file_size": meta.file_size,
        }
        if stored.filename:
            document["file_name"] = stored.filename
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        msg = self._new_bot_message(
            ctx,
            "document",
            caption,
            entities,
            reply_to=reply_to,
            file_id=file_id,
            data=stored.data,
            mime_type=stored.mime_type,
            file_name=stored.filename,
            extra={"document": document},
        )
        return msg.to_dict()

    def _m_send_invoice(self, ctx: _Ctx) -> JSON:
        params = ctx.params
        for field_name in ("title", "description", "payload", "currency"):
            if not params.get(field_name):
                raise _bad_request(f'parameter "{field_name}" is required')
        prices = params.get("prices")
        if not isinstance(prices, list) or not prices:
            raise _bad_request("can't parse prices JSON object")
        try:
            total = sum(int(p["amount"]) for p in prices)
        except (KeyError, TypeError, ValueError):
            raise _bad_request("can't parse prices JSON object") from None
        if params["currency"] == "XTR" and len(prices) != 1:
            raise _bad_request("STARS_INVOICE_INVALID")
        self._check_markup(params.get("reply_markup"))
        invoice = {
            "title": str(params["title"]),
            "description": str(params["description"]),
            "start_parameter": str(params.get("start_parameter") or ""),
            "currency": str(params["currency"]),
            "total_amount": total,
        }
        msg = self._new_bot_message(
            ctx,
            "invoice",
            f"{invoice['title']}\n{invoice['description']}",
            [],
            reply_to=self._reply_target(ctx),
            extra={"invoice": invoice},
        )
        self._invoices[(msg.chat_id, msg.message_id)] = {
            "payload": str(params["payload"]),
            "currency": invoice["currency"],
            "total_amount": total,
        }
        return msg.to_dict()

    def _target_message(self, ctx: _Ctx, *, purpose: str = "edit") -> SentMessage:
        if ctx.params.get("inline_message_id"):
            raise _bad_request("inline messages are not supported by the stand-in")
        assert ctx.chat is not None
        message_id = ctx.params.get("message_id")
        msg = (
            self._messages.get((ctx.chat["id"], message_id))
            if isinstance(message_id, int)
            else None
        )
        if msg is None or msg.deleted:
            raise _bad_request(f"message to {purpose} not found")
        ctx.message_id = msg.message_id
        return msg

    def _apply_edit(self, ctx: _Ctx, msg: SentMessage, **changes: Any) -> JSON:
        if not msg.from_bot:
            raise _bad_request("message can't be edited")
        new_markup = ctx.params.get("reply_markup")
        self._check_markup(new_markup)
        if new_markup is not None and "inline_keyboard" not in new_markup:
            raise _bad_request("inline keyboard expected")
        unchanged = all(getattr(msg, k) == v for k, v in changes.items())
        if unchanged and new_markup == msg.inline_markup:
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        # Like Telegram, an edit that omits reply_markup removes the inline keyboard; a reply
        # keyboard sent with the message belongs to the chat, so it stays.
        if new_markup is None and msg.reply_markup is not None and msg.inline_markup is None:
            new_markup = msg.reply_markup
        edited = dataclasses.replace(
            msg,
            reply_markup=new_markup,
            edit_date=int(time.time()),
            version=msg.version + 1,
            **changes,
        )
        self._store_message(edited)
        self._add_event(msg.chat_id, "edit", message=edited, text_changed=edited.text != msg.text)
        return edited.to_dict()

    def _m_edit_message_text(self, ctx: _Ctx) -> JSON:
        msg = self._target_message(ctx)
        if msg.kind != "text":
            raise _bad_request("there is no text in the message to edit")
        text, entities = self._format(ctx, "text", caption=False)
        return self._apply_edit(ctx, msg, text=text, entities=entities)

    def _m_edit_message_caption(self, ctx: _Ctx) -> JSON:
        msg = self._target_message(ctx)
        if msg.kind not in ("photo", "document"):
            raise _bad_request("there is no caption in the message to edit")
        caption, entities = self._format(ctx, "caption", caption=True)
        return self._apply_edit(ctx, msg, text=caption, entities=entities)

    def _m_edit_message_reply_markup(self, ctx: _Ctx) -> JSON:
        return self._apply_edit(ctx, self._target_message(ctx))

    def _delete(self, msg: SentMessage) -> None:
        gone = dataclasses.replace(msg, deleted=True)
        self._store_message(gone)
        self._add_event(msg.chat_id, "delete", message=gone)

    def _m_delete_message(self, ctx: _Ctx) -> bool:
        self._delete(self._target_message(ctx, purpose="delete"))
        return True

    def _m_delete_messages(self, ctx: _Ctx) -> bool:
        assert ctx.chat is not None
        ids = ctx.params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise _bad_request("message_ids must be a non-empty list of at most 100 ids")
        for message_id in ids:
            msg = self._messages.get((ctx.chat["id"], message_id))
            if msg is not None and not msg.deleted:
                self._delete(msg)
        return True

    def _m_send_chat_action(self, ctx: _Ctx) -> bool:
        action = ctx.params.get("action")
        if action not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        assert ctx.chat is not None
        self._add_event(ctx.chat["id"], "action", text=str(action))
        return True

    def _m_answer_callback_query(self, ctx: _Ctx) -> bool:
        query_id = str(ctx.params.get("callback_query_id", ""))
        chat_id = self._open_callback_queries.pop(query_id, None)
        if chat_id is None:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        answer: JSON = {
            k: ctx.params[k] for k in ("text", "show_alert", "url", "cache_time") if k in ctx.params
        }
        self.callback_answers[query_id] = answer
        ctx.chat = self._chats.get(chat_id)
        self._add_event(chat_id, "callback_answer", text=answer.get("text"))
        return True

    def _m_answer_pre_checkout_query(self, ctx: _Ctx) -> bool:
        query_id = str(ctx.params.get("pre_checkout_query_id", ""))
        if query_id not in self._open_pre_checkout_queries:
            raise _bad_request("QUERY_ID_INVALID")
        ok = ctx.params.get("ok")
        if not isinstance(ok, bool):
            raise _bad_request('parameter "ok" is required')
        if not ok and not ctx.params.get("error_message"):
            raise _bad_request("PRE_CHECKOUT_QUERY_ERROR_MESSAGE_EMPTY")
        self._open_pre_checkout_queries.discard(query_id)
        self.pre_checkout_answers[query_id] = {
            "ok": ok,
            "error_message": ctx.params.get("error_message"),
        }
        return True

    def _m_get_file(self, ctx: _Ctx) -> JSON:
        file_id = ctx.params.get("file_id")
        meta = self._file_meta.get(file_id) if isinstance(file_id, str) else None
        if meta is None:
            raise _bad_request("invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": meta.file_unique_id,
            "file_size": meta.file_size,
            "file_path": meta.file_path,
        }

    def _m_get_chat(self, ctx: _Ctx) -> JSON:
        assert ctx.chat is not None
        # ChatFullInfo has a few required fields that a plain Chat lacks.
        return {
            **ctx.chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _m_set_setting(self, key: str) -> Handler:
        def handler(ctx: _Ctx) -> bool:
            value = ctx.params.get(key) or ""
            language = str(ctx.params.get("language_code") or "")
            self.bot_settings[f"{key}:{language}" if language else key] = str(value)
            return True

        return handler

    def _m_get_setting(self, key: str) -> Handler:
        def handler(ctx: _Ctx) -> JSON:
            language = str(ctx.params.get("language_code") or "")
            value = self.bot_settings.get(f"{key}:{language}" if language else key)
            if value is None:
                value = self.bot_settings.get(key, "")
            if key == "name" and not value:
                value = self.bot_first_name
            return {key: value}

        return handler

    def _m_set_chat_menu_button(self, ctx: _Ctx) -> bool:
        chat_id = ctx.params.get("chat_id")
        button = ctx.params.get("menu_button") or {"type": "default"}
        self._menu_buttons[chat_id if isinstance(chat_id, int) else None] = button
        return True

    def _m_get_chat_menu_button(self, ctx: _Ctx) -> JSON:
        chat_id = ctx.params.get("chat_id")
        key = chat_id if isinstance(chat_id, int) else None
        return self._menu_buttons.get(key) or self._menu_buttons.get(None) or {"type": "commands"}
