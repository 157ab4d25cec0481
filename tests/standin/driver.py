"""Conversation driver for scripted end-to-end tests on top of the Bot API stand-in.

A :class:`Citizen` is one simulated Telegram user talking to the bot in their private chat::

    alice = Citizen(standin, 101, "Alice")
    await alice.send("/start")
    await alice.expect("welcome")
    await alice.press("Yes")
    await alice.expect("thanks")  # works whether the bot sent a new message or edited one

``expect`` reads the bot's side of the chat as a queue: each call consumes the *next* thing the
bot said that this citizen hasn't consumed yet. "Said" means a new message (text, photo,
document, invoice) or an edit that changed a message's text; edits that only swap buttons,
chat actions and button-press answers are not things to expect (they still show in the
transcript, and ``buttons()`` always reflects the current keyboard).

Nothing here knows about our application code: it only talks to the stand-in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, NoReturn

from standin import BotApiStandIn, ChatEvent, SentMessage

__all__ = ["Citizen", "SentMessage", "callback_data"]

DEFAULT_TIMEOUT = 5.0


def _says_something(event: ChatEvent) -> bool:
    return event.says_something


class Citizen:
    """One simulated Telegram user (private chat ``chat_id == user_id`` unless given)."""

    def __init__(
        self,
        standin: BotApiStandIn,
        user_id: int,
        first_name: str = "Citizen",
        *,
        last_name: str | None = None,
        username: str | None = None,
        chat_id: int | None = None,
    ) -> None:
        self.standin = standin
        self.user_id = user_id
        self.first_name = first_name
        self.chat_id = user_id if chat_id is None else chat_id
        # Index into the chat's event list: everything before it is consumed or skipped.
        self._cursor = 0
        standin.add_user(user_id, first_name, last_name=last_name, username=username)

    def __repr__(self) -> str:
        return f"Citizen({self.first_name!r}, user_id={self.user_id})"

    # ----------------------------------------------------------------------------------------
    # Acting
    # ----------------------------------------------------------------------------------------

    async def send(self, text: str) -> None:
        """Send a text message (a leading ``/command`` is marked as a bot command)."""
        self.standin.user_message(self.user_id, text, chat_id=self.chat_id)
        await asyncio.sleep(0)  # let the poller/webhook worker see it promptly

    async def send_photo(self, data: bytes, caption: str | None = None) -> None:
        """Send a photo (the bot can getFile and download it)."""
        self.standin.user_photo(self.user_id, data, caption=caption)
        await asyncio.sleep(0)

    async def send_file(
        self,
        data: bytes,
        filename: str,
        mime_type: str | None,
        *,
        file_size: int | None = None,
    ) -> None:
        """Send a file as a document (``file_size`` overrides the size Telegram reports)."""
        self.standin.user_document(
            self.user_id, data, filename=filename, mime_type=mime_type, file_size=file_size
        )
        await asyncio.sleep(0)

    async def press(
        self,
        button_text: str,
        *,
        message: SentMessage | None = None,
        users: Iterable[int] | None = None,
        phone_number: str = "+447700900123",
    ) -> None:
        """Press a button by its visible text.

        Inline buttons are looked up on the newest bot message that has a matching one (or on
        ``message``); then the current reply keyboard is tried, where pressing sends the text,
        shares a contact (``request_contact``) or shares ``users`` (``request_users``).
        Matching is exact first, then case-insensitive, then a unique substring.
        """
        candidates = [message] if message is not None else list(reversed(self._bot_messages()))
        for candidate in candidates:
            current = self.standin.message(candidate.chat_id, candidate.message_id) or candidate
            button = _find_button([b for row in current.inline_keyboard for b in row], button_text)
            if button is None:
                continue
            if "callback_data" in button:
                self.standin.callback_query(self.user_id, current, button["callback_data"])
                await asyncio.sleep(0)
                return
            kind = next((k for k in button if k != "text"), "unknown")
            raise AssertionError(
                f"[{button['text']}] on message #{current.message_id} is a {kind} button "
                f"({button.get(kind)!r}); pressing it doesn't reach the bot"
            )

        if message is None:
            keyboard = self._reply_keyboard()
            button = _find_button(
                [b for row in keyboard.keyboard for b in row] if keyboard else [], button_text
            )
            if button is not None:
                await self._press_keyboard_button(button, users, phone_number)
                return
        raise AssertionError(
            f"{self.first_name} can't find a button {button_text!r}.\n"
            + self._buttons_overview(candidates)
        )

    async def _press_keyboard_button(
        self, button: dict[str, Any], users: Iterable[int] | None, phone_number: str
    ) -> None:
        if button.get("request_contact"):
            self.standin.contact(self.user_id, phone_number)
        elif isinstance(button.get("request_users"), dict):
            request = button["request_users"]
            assert isinstance(request, dict)
            if users is None:
                raise AssertionError(
                    f"[{button['text']}] asks to pick users: pass press(..., users=[ids])"
                )
            self.standin.users_shared(self.user_id, int(request["request_id"]), users)
        else:
            self.standin.user_message(self.user_id, str(button["text"]), chat_id=self.chat_id)
        await asyncio.sleep(0)

    async def pay(
        self,
        message: SentMessage | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - part of the driver's vocabulary
    ) -> bool:
        """Pay the newest invoice (or ``message``) the way a Telegram client does.

        Sends the pre-checkout query, waits for the bot's answer and, when it said ok, sends
        the ``successful_payment`` service message. Returns whether the bot accepted.
        """
        invoice_message = message or next(
            (m for m in reversed(self._bot_messages()) if m.kind == "invoice"), None
        )
        if invoice_message is None:
            raise AssertionError(f"no invoice to pay.\n{self._transcript_text()}")
        invoice = self.standin.invoice(invoice_message)
        assert invoice is not None, "invoice details were not recorded"
        mark = self.standin.mark()
        update = self.standin.pre_checkout_query(
            self.user_id, invoice["payload"], invoice["total_amount"], invoice["currency"]
        )
        query_id = update["pre_checkout_query"]["id"]
        answers = self.standin.pre_checkout_answers
        try:
            await self.standin.wait_for(lambda _: query_id in answers, timeout, since=mark)
        except TimeoutError:
            raise AssertionError(
                f"the bot did not answer the pre-checkout query within {timeout}s"
            ) from None
        if not answers[query_id]["ok"]:
            return False
        self.standin.successful_payment(
            self.user_id,
            invoice["payload"],
            invoice["total_amount"],
            currency=invoice["currency"],
        )
        await asyncio.sleep(0)
        return True

    # ----------------------------------------------------------------------------------------
    # Expecting
    # ----------------------------------------------------------------------------------------

    async def expect(self, *contains: str, timeout: float = DEFAULT_TIMEOUT) -> SentMessage:  # noqa: ASYNC109
        """Consume the next thing the bot said here; assert it contains every substring.

        Matching is case-insensitive on the text or caption as the user sees it (markup
        removed). On failure the message shows the whole conversation.
        """
        message = await self._next(timeout, f"a message containing {list(contains)!r}")
        self._check_contains(message, contains)
        return message

    async def expect_photo(self, *contains: str, timeout: float = DEFAULT_TIMEOUT) -> SentMessage:  # noqa: ASYNC109
        """Like :meth:`expect`, but the next thing must be a photo (``.photo`` has the bytes)."""
        message = await self._next(timeout, "a photo")
        if message.kind != "photo":
            self._fail(f"expected a photo, got a {message.kind} message #{message.message_id}")
        self._check_contains(message, contains)
        return message

    async def expect_document(
        self,
        *contains: str,
        filename: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> SentMessage:
        """Like :meth:`expect`, but the next thing must be a document (optionally named)."""
        message = await self._next(timeout, "a document")
        if message.kind != "document":
            self._fail(f"expected a document, got a {message.kind} message #{message.message_id}")
        if filename is not None and message.file_name != filename:
            self._fail(f"expected document {filename!r}, got {message.file_name!r}")
        self._check_contains(message, contains)
        return message

    async def expect_nothing(
        self,
        quiet: float = 0.5,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 - how long the bot may take to go idle
    ) -> None:
        """Assert the bot says nothing more here once it has been idle for ``quiet`` seconds."""
        try:
            await self.standin.wait_idle(quiet=quiet, timeout=timeout)
        except TimeoutError as exc:
            self._fail(f"the bot never went idle: {exc}")
        unread = [e for e in self.standin.events(self.chat_id, self._cursor) if e.says_something]
        if unread:
            self._fail(
                "expected nothing, but the bot said:\n"
                + "\n".join(f"  {e.describe()}" for e in unread)
            )

    async def _next(self, timeout: float, wanted: str) -> SentMessage:  # noqa: ASYNC109
        try:
            index, event = await self.standin.wait_for_event(
                self.chat_id, _says_something, start=self._cursor, timeout=timeout
            )
        except TimeoutError:
            self._fail(f"expected {wanted} within {timeout}s, but the bot said nothing new")
        self._cursor = index + 1
        assert event.message is not None
        return event.message

    def _check_contains(self, message: SentMessage, contains: Iterable[str]) -> None:
        text = message.text.casefold()
        missing = [c for c in contains if c.casefold() not in text]
        if missing:
            self._fail(
                f"bot message #{message.message_id} lacks {missing!r}; it says:\n  {message.text!r}"
            )

    def _fail(self, problem: str) -> NoReturn:
        raise AssertionError(f"{self.first_name}: {problem}\n{self._transcript_text()}")

    # ----------------------------------------------------------------------------------------
    # Looking
    # ----------------------------------------------------------------------------------------

    def buttons(self, message: SentMessage | None = None) -> list[str]:
        """Visible inline button texts of the newest bot message (or ``message``), as now."""
        if message is None:
            messages = self._bot_messages()
            if not messages:
                return []
            message = messages[-1]
        current = self.standin.message(message.chat_id, message.message_id) or message
        return current.inline_buttons

    def keyboard(self) -> list[str]:
        """Texts of the reply keyboard currently shown under the input field."""
        markup = self._reply_keyboard()
        return markup.keyboard_buttons if markup else []

    @property
    def last(self) -> SentMessage | None:
        """The newest bot message in this chat, as it is now."""
        messages = self._bot_messages()
        return messages[-1] if messages else None

    @property
    def transcript(self) -> list[str]:
        """The conversation so far, one line per event (both sides)."""
        return [e.describe() for e in self.standin.events(self.chat_id)]

    def _transcript_text(self) -> str:
        lines = ["conversation so far (▶ marks where expect() stands):"]
        events = self.standin.events(self.chat_id)
        for index, event in enumerate(events):
            marker = "▶ " if index == self._cursor else "  "
            lines.append(f"{marker}{event.describe()}")
        if self._cursor >= len(events):
            lines.append("▶ (nothing unread)")
        return "\n".join(lines)

    def _bot_messages(self) -> list[SentMessage]:
        return self.standin.sent_to(self.chat_id)

    def _reply_keyboard(self) -> SentMessage | None:
        # The newest message that set or removed a reply keyboard decides what is shown.
        for msg in reversed(self.standin.sent_to(self.chat_id, include_deleted=True)):
            markup = msg.reply_markup or {}
            if "keyboard" in markup:
                return msg
            if "remove_keyboard" in markup:
                return None
        return None

    def _buttons_overview(self, candidates: list[SentMessage]) -> str:
        lines = []
        for msg in candidates[:8]:
            current = self.standin.message(msg.chat_id, msg.message_id) or msg
            if current.inline_buttons:
                shown = " ".join(f"[{t}]" for t in current.inline_buttons)
                lines.append(f"  #{current.message_id} {current.text[:40]!r}: {shown}")
        keyboard = self.keyboard()
        if keyboard:
            lines.append("  reply keyboard: " + " ".join(f"[{t}]" for t in keyboard))
        if not lines:
            lines.append("  (the bot shows no buttons at all)")
        return "buttons available, newest first:\n" + "\n".join(lines)


def _find_button(buttons: list[dict[str, Any]], wanted: str) -> dict[str, Any] | None:
    texts = [str(b.get("text", "")) for b in buttons]
    for index, text in enumerate(texts):
        if text == wanted:
            return buttons[index]
    folded = " ".join(wanted.split()).casefold()
    for index, text in enumerate(texts):
        if " ".join(text.split()).casefold() == folded:
            return buttons[index]
    partial = [i for i, text in enumerate(texts) if folded in text.casefold()]
    if len(partial) == 1:  # "Yes" finds "✅ Yes", but never guesses between several
        return buttons[partial[0]]
    return None


def callback_data(person: Citizen, button_text: str) -> str:
    """The callback data behind a button on the person's newest message that has it."""
    for message in reversed(person.standin.sent_to(person.chat_id)):
        for row in message.inline_keyboard:
            for button in row:
                if button_text in str(button.get("text", "")):
                    return str(button["callback_data"])
    raise AssertionError(f"no button {button_text!r} for {person}")
