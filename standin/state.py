"""The stand-in's state, set up once; every layer above reads and changes it."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable

import aiohttp
from aiohttp import web

from standin.common import (
    DEFAULT_BOT_FIRST_NAME,
    DEFAULT_BOT_ID,
    DEFAULT_BOT_USERNAME,
    JSON,
    PAID_BROADCAST_RATE,
    _Failure,
    _FileMeta,
    _FloodLimit,
    _Method,
    _Signal,
    _Webhook,
)
from standin.models import ApiCall, ChatEvent, SentMessage, StoredFile


class StandInState:
    """Everything the stand-in keeps: configuration, chats, messages, files, updates, limits.

    The bottom of :class:`standin.server.BotApiStandIn`'s layers; its arguments are that
    class's.

    Args:
        token: when set, calls with any other token answer ``401 Unauthorized``; by default
            any token is accepted.
        bot_id, bot_username, bot_first_name: what ``getMe`` answers. Without ``bot_id`` the
            id is the token's numeric prefix, as on Telegram (the first token seen, when no
            ``token`` is configured).
        strict_chats: sending to a chat no user has written from answers ``400 Bad Request:
            chat not found`` (like Telegram for users who never started the bot).
        rate_limit_per_second: sends allowed in any rolling second (all chats together); over
            it the answer is 429 with ``retry_after`` (counted in :attr:`rejected_429`).
            ``None`` disables it. Sends with ``allow_paid_broadcast`` don't count against it
            (as on Telegram) but against ``paid_rate_limit_per_second`` (1,000 a second).
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
        self._global_limit: _FloodLimit | None = None
        self._paid_limit: _FloodLimit | None = None
        self.paid_rate_limit_per_second = PAID_BROADCAST_RATE
        self.paid_broadcasts = 0  # sends that asked for allow_paid_broadcast
        self._chat_limits: dict[int, _FloodLimit] = {}

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
        self._methods: dict[str, _Method] = {}  # filled by BotApiStandIn from its table
