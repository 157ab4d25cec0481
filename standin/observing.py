"""Reading what happened (calls, chat events, messages) and waiting for it.

One layer of :class:`standin.server.BotApiStandIn`; the state is
:class:`standin.state.StandInState`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from standin.common import (
    _T,
    JSON,
    _Signal,
)
from standin.configuration import ConfigurationMixin
from standin.models import ApiCall, ChatEvent, SentMessage


class ObservingMixin(ConfigurationMixin):
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
            "paid_broadcasts": self.paid_broadcasts,
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
        self.paid_broadcasts = 0
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
