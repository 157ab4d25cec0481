"""The Bot API methods the stand-in models, one `_m_*` handler each.

One layer of :class:`standin.server.BotApiStandIn`; the state is
:class:`standin.state.StandInState`.
"""

from __future__ import annotations

import dataclasses
import re
import time
from typing import Any

from standin.common import (
    _CHAT_ACTIONS,
    _COMMAND_RE,
    _SECRET_TOKEN_RE,
    JSON,
    Handler,
    _bad_request,
    _Ctx,
    _json_dumps,
    _Method,
    _sniff_image,
    _Webhook,
)
from standin.http import HttpMixin
from standin.models import SentMessage, StoredFile


class MethodsMixin(HttpMixin):
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

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """Commands the bot set for ``scope``/``language_code`` (``setMyCommands``)."""
        return list(self._commands.get((self._scope_key(scope), language_code), []))
