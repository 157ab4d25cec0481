"""Runs fuzz actions (tests/support/fuzz_actions.py) against a running service and the stand-in.

Each action pushes one or more updates and waits until the service has finished each of them
(the update processor says so, not a quiet period) and the outbox has sent what was due, so
every step's effects are complete when the oracles look. What each step pushed is kept in a
`Step` for the oracles: the update ids, the call mark, and which answers were owed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from bot.service import BritizenService
from standin import BotApiStandIn, SentMessage
from standin.common import JSON
from tests.support import fuzz_actions as fa
from tests.support.outbox_drain import settle_hook

STEP_TIMEOUT = 5.0


@dataclass
class Step:
    """What one pushed update owes: a reply in a private chat, an answer to a query."""

    action: fa.Action
    update_id: int
    since: int
    kind: str
    chat_id: int | None = None
    query_id: str | None = None
    wants_reply: bool = False
    until: int = 0


class ErrorRecords(logging.Handler):
    """Every ERROR (or worse) logged anywhere while the fuzzer runs."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class FuzzDriver:
    def __init__(self, standin: BotApiStandIn, service: BritizenService) -> None:
        self.standin = standin
        self.service = service
        self.steps: list[Step] = []
        self.delivered: list[int] = []
        self._finished: set[int] = set()
        self._signal = asyncio.Event()
        self._blocked: set[int] = set()
        self._last_user_message: dict[tuple[int, int], JSON] = {}
        self._settle = settle_hook(service)
        processor = service.application.update_processor
        original = processor.do_process_update

        async def tracked(update: object, coroutine: Awaitable[Any]) -> None:
            try:
                await original(update, coroutine)
            finally:
                update_id = getattr(update, "update_id", None)
                if isinstance(update_id, int):
                    self._finished.add(update_id)
                    self._signal.set()

        processor.do_process_update = tracked  # type: ignore[method-assign]

    # -----------------------------------------------------------------------------------------

    async def run(self, action: fa.Action) -> None:
        sender = getattr(action, "user", None)
        if isinstance(sender, int) and sender in self._blocked and not isinstance(action, fa.Block):
            # Writing to a bot you blocked unblocks it (Telegram says so with my_chat_member).
            self._blocked.discard(sender)
            await self._push(action, lambda: self._unblock(sender), "unblock")
        match action:
            case fa.Say(user, where, text):
                await self._say(action, user, where, text)
            case fa.Media(user, where, kind, caption):
                chat = self._chat(user, where)
                await self._push(
                    action,
                    lambda: self.standin.user_media(
                        user, kind, chat_id=chat, caption=self._fill(user, caption or "") or None
                    ),
                    "message",
                    chat_id=chat,
                    wants_reply=chat == user,
                )
            case fa.Edit(user, where, text):
                chat = self._chat(user, where)
                last = self._last_user_message.get((user, chat))
                if last is not None:
                    edited = self._fill(user, text)
                    await self._push(
                        action,
                        lambda: self.standin.edit_user_message(last, edited),
                        "edit",
                        chat_id=chat,
                        wants_reply=chat == user,
                    )
            case fa.Post(text, edited):
                await self._push(
                    action,
                    lambda: self.standin.channel_post(fa.CHANNEL, text, edited=edited),
                    "post",
                )
            case fa.Member(user, where, old, new):
                chat = fa.CHANNEL if where == "channel" else fa.PLACES[where]
                await self._push(
                    action,
                    lambda: self.standin.add_bot_to_chat(chat, user, status=new, old=old),
                    "member",
                )
            case fa.Block(user):
                if user not in self._blocked:
                    self._blocked.add(user)
                    await self._push(action, lambda: self._block(user), "block")
            case fa.Press(user, where, data, pick):
                await self._press(action, user, where, data, pick)
            case fa.Paid(user, payload, amount, currency, charge):
                real, due = self._payload(payload, amount)
                await self._push(
                    action,
                    lambda: self.standin.successful_payment(
                        user, real, due, charge, currency=currency
                    ),
                    "payment",
                    chat_id=user,
                )
            case fa.Checkout(user, payload, amount, currency):
                real, due = self._payload(payload, amount)
                await self._push(
                    action,
                    lambda: self.standin.pre_checkout_query(user, real, due, currency),
                    "checkout",
                )
            case fa.Register(user, postcode):
                await self._register(action, user, postcode)
            case fa.Borrow(user, amount_pick, term_pick):
                await self._borrow(action, user, amount_pick, term_pick)
            case fa.PayDue(user):
                await self._pay_due(action, user)

    # -----------------------------------------------------------------------------------------

    async def _say(self, action: fa.Action, user: int, where: str, text: str) -> None:
        chat = self._chat(user, where)
        filled = self._fill(user, text)
        await self._push(
            action,
            lambda: self.standin.user_message(user, filled, chat_id=None if chat == user else chat),
            "message",
            chat_id=chat,
            wants_reply=chat == user,
        )

    async def _press(
        self, action: fa.Action, user: int, where: str, data: str | None, pick: int
    ) -> None:
        chat = self._chat(user, where)
        if data is None:
            buttons = self.buttons(user)
            if not buttons:
                return
            message, data = buttons[pick % len(buttons)]
        else:
            message = self.standin.old_bot_message(chat, "An old message", [data])
        pressed = data
        await self._push(
            action,
            lambda: self.standin.callback_query(user, message, pressed, strict=False),
            "callback",
        )

    async def press_labelled(self, action: fa.Action, user: int, *labels: str) -> bool:
        """Press the newest button whose text has one of `labels`; False if there is none."""
        for message in reversed(self.standin.sent_to(user)):
            for row in message.inline_keyboard:
                for button in row:
                    data = button.get("callback_data")
                    if data and any(label in str(button.get("text")) for label in labels):
                        await self._push(
                            action,
                            partial(self.standin.callback_query, user, message, data, strict=False),
                            "callback",
                        )
                        return True
        return False

    def buttons(self, user: int) -> list[tuple[SentMessage, str]]:
        """Every callback button in the user's private chat, newest message first."""
        found = []
        for message in reversed(self.standin.sent_to(user)):
            for row in message.inline_keyboard:
                found += [(message, b["callback_data"]) for b in row if "callback_data" in b]
        return found

    async def _register(self, action: fa.Action, user: int, postcode: str | None) -> None:
        await self._say(action, user, "private", "/start")
        if not await self.press_labelled(action, user, "I agree"):
            return
        await self._say(action, user, "private", "{ni}")
        await self._say(action, user, "private", "{dob}")
        if postcode is None:
            await self.press_labelled(action, user, "Skip")
        else:
            await self._say(action, user, "private", postcode)

    async def _borrow(self, action: fa.Action, user: int, amount_pick: int, term_pick: int) -> None:
        await self._say(action, user, "private", "/loan")
        for pick in (amount_pick, term_pick):
            newest = self.buttons(user)
            if not newest:
                return
            message = newest[0][0]
            own = [(m, d) for m, d in newest if m.message_id == message.message_id]
            chosen, data = own[pick % len(own)]
            await self._push(
                action,
                partial(self.standin.callback_query, user, chosen, data, strict=False),
                "callback",
            )
        if await self.press_labelled(action, user, "Confirm"):
            await self._say(action, user, "private", "{ni}")

    async def _pay_due(self, action: fa.Action, user: int) -> None:
        await self._say(action, user, "private", "/loans")
        if not await self.press_labelled(action, user, "Pay"):
            return
        invoice = self.newest_invoice(user)
        if invoice is None:
            return
        payload, amount = invoice
        await self._push(
            action,
            lambda: self.standin.pre_checkout_query(user, payload, amount, "GBP"),
            "checkout",
        )
        await self._push(
            action,
            lambda: self.standin.successful_payment(user, payload, amount, currency="GBP"),
            "payment",
            chat_id=user,
        )

    def newest_invoice(self, chat_id: int | None = None) -> tuple[str, int] | None:
        for call in reversed(self.standin.calls_of("sendInvoice")):
            if chat_id is None or call.chat_id == chat_id:
                prices = call.params.get("prices") or []
                total = sum(int(p.get("amount", 0)) for p in prices if isinstance(p, dict))
                return str(call.params.get("payload")), total
        return None

    def _payload(self, payload: str, amount: int | None) -> tuple[str, int]:
        if payload == "@invoice":
            invoice = self.newest_invoice()
            if invoice is not None:
                return invoice[0], invoice[1] if amount is None else amount
            payload = "inst:1:100:abc"
        return payload, 100 if amount is None else amount

    # -----------------------------------------------------------------------------------------

    def _chat(self, user: int, where: str) -> int:
        return user if where == "private" else fa.PLACES[where]

    def _fill(self, user: int, text: str) -> str:
        ni = fa.USERS[user]
        return text.replace("{ni}", ni).replace("{ni_lower}", ni.lower()).replace("{dob}", fa.DOB)

    def _block(self, user: int) -> JSON:
        self.standin.block(user, notify=True)
        return {}

    def _unblock(self, user: int) -> JSON:
        self.standin.unblock(user, notify=True)
        return {}

    async def _push(
        self,
        action: fa.Action,
        push: Callable[[], JSON],
        kind: str,
        *,
        chat_id: int | None = None,
        wants_reply: bool = False,
    ) -> None:
        since = self.standin.mark()
        dropped = self.standin.dropped_updates
        before = self.standin._next_update_id
        update = push()
        pushed = range(before, self.standin._next_update_id)
        if self.standin.dropped_updates != dropped:
            return
        body: JSON = next((v for k, v in update.items() if k != "update_id"), {})
        message = update.get("message")
        if isinstance(message, dict) and kind == "message":
            self._last_user_message[(message["from"]["id"], message["chat"]["id"])] = update
        for update_id in pushed:
            self.delivered.append(update_id)
            await self._until_finished(update_id)
        await asyncio.wait_for(self._settle_all(), STEP_TIMEOUT)
        query_id = body.get("id") if kind in ("callback", "checkout") else None
        until = self.standin.mark()
        for update_id in pushed:
            self.steps.append(
                Step(action, update_id, since, kind, chat_id, query_id, wants_reply, until)
            )

    async def _until_finished(self, update_id: int) -> None:
        async def finished() -> None:
            while update_id not in self._finished:
                self._signal.clear()
                await self._signal.wait()

        try:
            await asyncio.wait_for(finished(), STEP_TIMEOUT)
        except TimeoutError:
            raise AssertionError(f"update {update_id} was never finished by the bot") from None

    async def _settle_all(self) -> None:
        while await self._settle():
            pass
