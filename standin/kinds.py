"""The rest of what people can send: stickers, photos, voice, locations..., edits of their old
messages, channel posts, and adding the bot to a group.

One layer of :class:`standin.server.BotApiStandIn`. Each helper pushes the update Telegram
would send and returns it, like the text helpers in :mod:`standin.users`.
"""

from __future__ import annotations

import time
from typing import Any

from standin.common import JSON
from standin.formatting import utf16_len
from standin.models import SentMessage
from standin.users import SimulatedUsersMixin


def _file(kind: str, n: int) -> JSON:
    return {"file_id": f"{kind}-{n}", "file_unique_id": f"u{kind}{n}"}


def media_payload(kind: str, n: int) -> Any:
    """A minimal valid payload for each non-text kind of message (what PTB parses)."""
    payloads: dict[str, Any] = {
        "sticker": {
            **_file("sticker", n),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        },
        "photo": [{**_file("photo", n), "width": 90, "height": 90}],
        "voice": {**_file("voice", n), "duration": 2},
        "video": {**_file("video", n), "width": 320, "height": 240, "duration": 3},
        "video_note": {**_file("video_note", n), "length": 240, "duration": 3},
        "audio": {**_file("audio", n), "duration": 30},
        "animation": {**_file("animation", n), "width": 320, "height": 240, "duration": 2},
        "document": {**_file("document", n), "file_name": "payslip.pdf"},
        "location": {"latitude": 51.5014, "longitude": -0.1419},
        "venue": {
            "location": {"latitude": 51.5014, "longitude": -0.1419},
            "title": "Buckingham Palace",
            "address": "London SW1A 1AA",
        },
        "dice": {"emoji": "🎲", "value": 4},
        "poll": {
            "id": f"poll-{n}",
            "question": "Tea?",
            "options": [
                {"persistent_id": "y", "text": "Yes", "voter_count": 0},
                {"persistent_id": "n", "text": "No", "voter_count": 0},
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
        },
    }
    if kind not in payloads:
        raise ValueError(f"no canned payload for {kind!r}; known: {sorted(payloads)}")
    return payloads[kind]


MEDIA_KINDS = (
    "sticker",
    "photo",
    "voice",
    "video",
    "video_note",
    "audio",
    "animation",
    "document",
    "location",
    "venue",
    "dice",
    "poll",
)


_ADMIN_RIGHTS = (
    "can_be_edited",
    "is_anonymous",
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
)


class OtherUpdatesMixin(SimulatedUsersMixin):
    def user_media(
        self, user_id: int, kind: str, *, chat_id: int | None = None, caption: str | None = None
    ) -> JSON:
        """The user sends a sticker, photo, voice note... (`kind` is the Message field)."""
        payload = media_payload(kind, self._next_counter())
        extra: JSON = {kind: payload}
        if caption:
            extra["caption"] = caption
            if caption.startswith("/"):
                command = caption.split(maxsplit=1)[0]
                extra["caption_entities"] = [
                    {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
                ]
        return self._push_user_message(user_id, kind, "", extra=extra, chat_id=chat_id)

    def edit_user_message(self, update: JSON, text: str) -> JSON:
        """The user edits the message of an earlier pushed `update` (returned by a helper)."""
        original = dict(update["message"])
        original["text"] = text
        original["edit_date"] = int(time.time())
        entities = []
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command)})
        original.pop("entities", None)
        if entities:
            original["entities"] = entities
        edited: JSON = {"edited_message": original}
        edited["update_id"] = self.push_update(edited)
        return edited

    def channel_post(self, chat_id: int, text: str, *, edited: bool = False) -> JSON:
        """A post in a channel the bot is in (`add_chat(..., type="channel")` first)."""
        chat = self._chats.get(chat_id) or self.add_chat(chat_id, type="channel")
        post: JSON = {
            "message_id": self._next_message_id(chat_id),
            "chat": chat,
            "sender_chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            post["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
        update: JSON = {"edited_channel_post" if edited else "channel_post": post}
        update["update_id"] = self.push_update(update)
        return update

    def add_bot_to_chat(
        self, chat_id: int, by_user_id: int, *, status: str = "member", old: str = "left"
    ) -> JSON:
        """`by_user_id` adds the bot to the group `chat_id` (or changes its status there)."""
        chat = self._chats.get(chat_id) or self.add_chat(chat_id, type="group")
        user = self._ensure_user(by_user_id, {})
        update: JSON = {
            "my_chat_member": {
                "chat": chat,
                "from": user,
                "date": int(time.time()),
                "old_chat_member": self._bot_as_member(old),
                "new_chat_member": self._bot_as_member(status),
            }
        }
        update["update_id"] = self.push_update(update)
        return update

    def _bot_as_member(self, status: str) -> JSON:
        member: JSON = {"user": self.bot_user, "status": status}
        if status == "administrator":  # Telegram lists every right, granted or not
            member.update({right: False for right in _ADMIN_RIGHTS})
        elif status == "kicked":  # banned: until when (0 = for ever)
            member["until_date"] = 0
        return member

    def old_bot_message(self, chat_id: int, text: str, callback_data: list[str]) -> SentMessage:
        """A message the bot posted in `chat_id` earlier, with these buttons (say, before a
        fix kept personal buttons out of groups): for pressing with :meth:`callback_query`."""
        chat = self._chats.get(chat_id) or self.add_chat(chat_id)
        markup = {"inline_keyboard": [[{"text": d, "callback_data": d}] for d in callback_data]}
        msg = SentMessage(
            chat_id=chat_id,
            message_id=self._next_message_id(chat_id),
            date=int(time.time()),
            from_bot=True,
            kind="text",
            text=text,
            chat=chat,
            sender=self.bot_user,
            reply_markup=markup,
        )
        self._store_message(msg)
        return msg
