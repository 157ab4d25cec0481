"""Configuration: failures (faults), blocked chats, simulated users and chats.

One layer of :class:`standin.server.BotApiStandIn`; the state is
:class:`standin.state.StandInState`.
"""

from __future__ import annotations

from collections import deque

from standin.common import (
    _DEFAULT_DESCRIPTIONS,
    JSON,
    ApiError,
    _Failure,
    _too_many_requests,
)
from standin.state import StandInState


class ConfigurationMixin(StandInState):
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

    @property
    def webhook_url(self) -> str | None:
        return self._webhook.url if self._webhook else None

    @property
    def pending_updates(self) -> int:
        return len(self._pending)
