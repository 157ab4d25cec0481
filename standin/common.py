"""What every part of the stand-in shares: Telegram's limits, the error type, request context,
limiters and the decoding of form and multipart values."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import math
import re
import struct
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

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
# Paid broadcasts (allow_paid_broadcast): "up to 1000 messages per second".
PAID_BROADCAST_RATE = 1000.0

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


class _FloodLimit:
    """Telegram's flood control as the stand-in plays it: at most ``rate`` sends in any
    rolling second (under one a second: one per ``1 / rate`` seconds), and a send over it is
    answered 429 at once, never queued.

    A rolling window, not a token bucket: a bucket that holds a second's worth lets a full
    bucket plus a second's refill through in one rolling second (up to twice the rate), so a
    sender pacing badly would pass here and fail against Telegram. The window keeps the
    times of the last ``limit`` sends it let through; the next is refused while the oldest of
    them is less than ``window`` seconds old.
    """

    __slots__ = ("clock", "limit", "rate", "sent", "window")

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.limit = max(1, math.floor(rate))
        self.window = 1.0 if rate >= 1 else 1.0 / rate
        self.clock = clock
        self.sent: deque[float] = deque(maxlen=self.limit)

    def _wait(self) -> float:
        if len(self.sent) < self.limit:
            return 0.0
        return max(0.0, self.sent[0] + self.window - self.clock())

    def has_room(self) -> bool:
        return self._wait() <= 0.0

    @property
    def retry_after(self) -> int:
        """Whole seconds a 429 asks for: until the oldest send in the window leaves it."""
        return max(1, math.ceil(self._wait()))

    def record(self) -> None:
        self.sent.append(self.clock())  # the oldest drops out: it is a window behind

    async def take(self) -> None:
        self.record()


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
