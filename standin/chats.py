"""Messages, chats and files: the state the Bot API methods read and change.

One layer of :class:`standin.server.BotApiStandIn`; the state is
:class:`standin.state.StandInState`.
"""

from __future__ import annotations

import mimetypes
import re
import time
from collections.abc import Mapping
from hashlib import sha1
from typing import Any

from standin.common import (
    _LOG,
    JSON,
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    _bad_request,
    _check_photo,
    _Ctx,
    _FileMeta,
    _sniff_image,
)
from standin.formatting import FormattingError, parse_formatted, utf16_len
from standin.models import ChatEvent, ChatEventKind, SentMessage, StoredFile
from standin.observing import ObservingMixin


class ChatsMixin(ObservingMixin):
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
