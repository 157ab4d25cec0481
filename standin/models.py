"""Records kept by the Bot API stand-in: calls, messages as users see them, chat events, files.

These are deliberately small slotted objects that *reference* shared data (chat and user dicts,
uploaded bytes, the parsed ``reply_markup``) instead of copying it: benchmarks push 100,000
messages through one stand-in, and a test should be able to keep all of them around.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

__all__ = [
    "ApiCall",
    "ChatEvent",
    "ChatEventKind",
    "SentMessage",
    "StoredFile",
]


class StoredFile(NamedTuple):
    """Bytes of a file a bot uploaded; unpacks as ``(data, mime_type, filename)``."""

    data: bytes
    mime_type: str | None
    filename: str | None


@dataclass(slots=True)
class ApiCall:
    """One Bot API request as the stand-in answered it (appended once the answer is known).

    ``params`` has JSON-encoded fields decoded (``reply_markup`` is a dict, ``chat_id`` an int)
    and uploaded files replaced by the ``file_id`` they were stored under. With
    ``record_params=False`` it is left empty and ``result`` is ``None``; ``chat_id`` and
    ``message_id`` are always filled when the call has them, so per-chat accounting still works.
    """

    seq: int
    method: str
    params: dict[str, Any]
    timestamp: float  # time.monotonic() when the request arrived
    ok: bool = True
    error_code: int | None = None
    description: str | None = None
    chat_id: int | None = None
    message_id: int | None = None
    result: Any = None

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "method": self.method,
            "params": self.params,
            "timestamp": self.timestamp,
            "ok": self.ok,
            "error_code": self.error_code,
            "description": self.description,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "result": self.result,
        }


_CAPTIONED_KINDS = frozenset({"photo", "document"})


@dataclass(frozen=True, slots=True, eq=False)
class SentMessage:
    """A snapshot of one message in a chat, as the user would see it at one moment.

    Bot messages (``from_bot=True``) and user messages share this type. Edits and deletions
    create a *new* snapshot (``version`` counts edits), so a snapshot handed to a test never
    changes under it. ``text`` is what the user reads: the message text, or the caption of a
    photo or document, with HTML/Markdown already turned into plain text.
    """

    chat_id: int
    message_id: int
    date: int
    from_bot: bool
    kind: str  # "text", "photo", "document", "invoice", "contact", "users_shared", ...
    text: str
    chat: dict[str, Any]
    sender: dict[str, Any]
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    file_id: str | None = None  # the document, or the largest photo size
    data: bytes | None = None  # uploaded bytes (shared with BotApiStandIn.files, not copied)
    mime_type: str | None = None
    file_name: str | None = None
    extra: dict[str, Any] | None = None  # kind-specific Telegram fields: photo, invoice, ...
    reply_to: SentMessage | None = None
    edit_date: int | None = None
    version: int = 0
    deleted: bool = False

    @property
    def caption(self) -> str | None:
        return self.text if self.kind in _CAPTIONED_KINDS else None

    @property
    def photo(self) -> bytes | None:
        """Bytes of the photo the bot sent (``None`` for other kinds)."""
        return self.data if self.kind == "photo" else None

    @property
    def document(self) -> bytes | None:
        return self.data if self.kind == "document" else None

    @property
    def is_edit(self) -> bool:
        return self.version > 0

    @property
    def inline_markup(self) -> dict[str, Any] | None:
        markup = self.reply_markup
        return markup if markup is not None and "inline_keyboard" in markup else None

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        markup = self.inline_markup
        return list(markup["inline_keyboard"]) if markup else []

    @property
    def keyboard(self) -> list[list[dict[str, Any]]]:
        """Reply-keyboard rows, with plain-string buttons normalised to ``{"text": ...}``."""
        markup = self.reply_markup
        if markup is None or "keyboard" not in markup:
            return []
        return [
            [b if isinstance(b, dict) else {"text": str(b)} for b in row]
            for row in markup["keyboard"]
        ]

    @property
    def inline_buttons(self) -> list[str]:
        return [str(b.get("text", "")) for row in self.inline_keyboard for b in row]

    @property
    def keyboard_buttons(self) -> list[str]:
        return [str(b.get("text", "")) for row in self.keyboard for b in row]

    @property
    def buttons(self) -> list[str]:
        """Visible texts of all buttons attached to this message, inline first."""
        return self.inline_buttons + self.keyboard_buttons

    def describe(self) -> str:
        """One human-readable line, used in transcripts and assertion messages."""
        who = "bot" if self.from_bot else str(self.sender.get("first_name", "user"))
        tags = []
        if self.version:
            tags.append(f"edited v{self.version}")
        if self.deleted:
            tags.append("deleted")
        if self.kind not in ("text",):
            detail = self.kind
            if self.data is not None:
                detail += f" {self.mime_type or '?'} {len(self.data)} B"
            tags.append(detail)
        head = f"#{self.message_id} {who}" + (f" ({', '.join(tags)})" if tags else "")
        body = self.text
        if self.kind == "invoice" and self.extra:
            inv = self.extra.get("invoice", {})
            body = f"{inv.get('title')} / {inv.get('total_amount')} {inv.get('currency')}"
        line = f"{head}: {body}"
        if self.inline_buttons:
            line += " " + " ".join(f"[{t}]" for t in self.inline_buttons)
        if self.keyboard_buttons:
            line += " keyboard: " + " ".join(f"[{t}]" for t in self.keyboard_buttons)
        return line

    def to_dict(self, *, include_reply: bool = True) -> dict[str, Any]:
        """The Telegram ``Message`` object for this snapshot."""
        msg: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat,
            "date": self.date,
        }
        if self.edit_date is not None:
            msg["edit_date"] = self.edit_date
        if include_reply and self.reply_to is not None:
            # Telegram nests the replied-to message one level deep only.
            msg["reply_to_message"] = self.reply_to.to_dict(include_reply=False)
        if self.kind == "text":
            msg["text"] = self.text
            if self.entities:
                msg["entities"] = self.entities
        elif self.kind in _CAPTIONED_KINDS and self.text:
            msg["caption"] = self.text
            if self.entities:
                msg["caption_entities"] = self.entities
        if self.extra:
            msg.update(self.extra)
        # Only inline keyboards are part of a Message; reply keyboards live on the client side
        # (PTB would fail to parse a ReplyKeyboardMarkup in Message.reply_markup).
        if self.inline_markup is not None:
            msg["reply_markup"] = self.inline_markup
        return msg


ChatEventKind = Literal["message", "edit", "delete", "callback", "callback_answer", "action"]


@dataclass(frozen=True, slots=True)
class ChatEvent:
    """Something visible happened in a chat: the feed for drivers and the sandbox page.

    * ``message``: a new message (bot or user, see ``message.from_bot``);
    * ``edit``: the bot edited a message; ``text_changed`` tells a text edit from a markup-only
      edit (only text edits read as "the bot said something");
    * ``delete``: a message disappeared (``message`` is its last snapshot);
    * ``callback``: the user pressed an inline button (``data`` is its callback_data);
    * ``callback_answer``: the bot answered a button press (``text`` is the toast, if any);
    * ``action``: a chat action such as "typing" (``text`` is the action).
    """

    seq: int
    chat_id: int
    kind: ChatEventKind
    message: SentMessage | None = None
    data: str | None = None
    text: str | None = None
    text_changed: bool = False

    @property
    def from_bot(self) -> bool:
        if self.kind in ("callback_answer", "action"):
            return True
        if self.kind == "callback":
            return False
        return self.message is not None and self.message.from_bot

    @property
    def says_something(self) -> bool:
        """A new bot message, or a bot edit that changed the text: what ``expect`` consumes."""
        if self.message is None or not self.message.from_bot:
            return False
        return self.kind == "message" or (self.kind == "edit" and self.text_changed)

    def describe(self) -> str:
        if self.kind == "callback":
            label = self.data
            if self.message is not None:
                for row in self.message.inline_keyboard:
                    for button in row:
                        if button.get("callback_data") == self.data:
                            label = str(button.get("text"))
            return f"user pressed [{label}] on #{self.message.message_id if self.message else '?'}"
        if self.kind == "callback_answer":
            return f"bot answered button press: {self.text!r}" if self.text else "bot answered"
        if self.kind == "action":
            return f"bot is {self.text}"
        assert self.message is not None
        prefix = {"message": "", "edit": "edit ", "delete": "delete "}[self.kind]
        return prefix + self.message.describe()
