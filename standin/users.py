"""The user side: simulated people pushing messages, button presses and payments.

One layer of :class:`standin.server.BotApiStandIn`; the state is
:class:`standin.state.StandInState`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from standin.chats import ChatsMixin
from standin.common import (
    _OPT_IN_UPDATE_TYPES,
    JSON,
    _bad_request,
    _sniff_image,
)
from standin.formatting import utf16_len
from standin.models import SentMessage


class SimulatedUsersMixin(ChatsMixin):
    # ----------------------------------------------------------------------------------------
    # The user side: pushing updates
    # ----------------------------------------------------------------------------------------

    def continue_update_ids_after(self, update_id: int) -> None:
        """Number the next updates after ``update_id`` (never backwards), as Telegram does for
        a bot that already received updates: a host that keeps processed ids across restarts
        (the sandbox) starts a new stand-in here so no id repeats."""
        self._next_update_id = max(self._next_update_id, update_id + 1)

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

    def user_photo(self, user_id: int, data: bytes, *, caption: str | None = None) -> JSON:
        """The user sends a photo (``data``, the image bytes); the bot can ``getFile`` it and
        download it from the file URL, as from Telegram."""
        sniffed, width, height = _sniff_image(data)
        file_id = self._store_file(data, sniffed or "image/jpeg", None, "photo")
        meta = self._file_meta[file_id]
        size: JSON = {
            "file_id": file_id,
            "file_unique_id": meta.file_unique_id,
            "file_size": meta.file_size,
            "width": width or 1,
            "height": height or 1,
        }
        extra: JSON = {"photo": [size]}
        if caption:
            extra["caption"] = caption
        return self._push_user_message(user_id, "photo", caption or "", extra=extra)

    def user_document(
        self,
        user_id: int,
        data: bytes,
        *,
        filename: str = "document.pdf",
        mime_type: str | None = "application/pdf",
        file_size: int | None = None,
    ) -> JSON:
        """The user sends a file. ``file_size`` overrides the size Telegram reports (to test a
        bot's limit without uploading that much)."""
        file_id = self._store_file(data, mime_type, filename, "document")
        meta = self._file_meta[file_id]
        document: JSON = {
            "file_id": file_id,
            "file_unique_id": meta.file_unique_id,
            "file_size": meta.file_size if file_size is None else file_size,
            "file_name": filename,
        }
        if mime_type:
            document["mime_type"] = mime_type
        return self._push_user_message(user_id, "document", "", extra={"document": document})

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
