"""Sandbox mode: Britizen without Telegram.

With no ``BRITIZEN_TELEGRAM_TOKEN`` (outside production), ``britizen run`` starts the project's own
Bot API stand-in (``standin/``) in-process, points the real bot at it and serves a chat page at
``/sandbox`` where a person talks to the bot as one of several test citizens. Nothing reaches
Telegram: the bot's only Bot API is the stand-in on loopback.

The page is static (``bot/web/sandbox.*``) and talks to the JSON routes below, which only act on
the stand-in's *user* side (send a message, press a button, share users or a contact, pay an
invoice) and read what the bot sent (chat events, uploaded files). The bot itself runs exactly
as with Telegram: the same handlers, outbox and scheduler, with the same database.

A demo sponsor and a demo data partner are (re)keyed at every start and their keys printed in the
log and on the page, so the sponsor portal (``/portal``) and the partner API can be tried straight
away; so is a demo operator, whose key the operator page (``/operator``) offers, with the
invented ``data/population_demo.csv`` as the population unless one is set; one test citizen
is a dispute reviewer (``/review``), and the page can run the nightly pass on demand. A restart
on the same database carries on numbering updates after the last one the bot processed
(bot/sandbox_data.py), so the exactly-once ledger never mistakes a new message for a
redelivery.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.pages import page_response
from bot.sandbox_data import (
    DEMO_PARTNER_NAME,
    DEMO_POPULATION_FILE,
    DEMO_SPONSOR_NAME,
    demo_operator_key,
    demo_partner_key,
    demo_sponsor_key,
    last_processed_update_id,
)
from bot.settings import Settings
from services.scoring_pass import PassAlreadyRunning
from standin import BotApiStandIn, ChatEvent, SentMessage

if TYPE_CHECKING:
    from bot.service import BritizenService

logger = logging.getLogger(__name__)

# Shaped like a real token (digits, colon, secret) so PTB accepts it; the stand-in takes any.
SANDBOX_TOKEN = "7000000001:SANDBOX-this-is-not-a-telegram-token"
SANDBOX_BOT_USERNAME = "BritizenSandboxBot"
# Invoices need a provider token to be sent at all; the stand-in never charges anything.
SANDBOX_PAYMENT_TOKEN = "sandbox-payments-never-charge"
# The page long-polls for chat events; shorter than common proxy and browser idle limits.
MAX_WAIT_SECONDS = 25.0
MAX_TEXT_LENGTH = 4096
MAX_EXTRA_CITIZENS = 20
FIRST_EXTRA_ID = 700_101


@dataclass(frozen=True, slots=True)
class TestCitizen:
    """A person the sandbox page can be. The sample details are valid but invented."""

    user_id: int
    first_name: str
    last_name: str
    username: str
    ni_number: str
    date_of_birth: str
    postcode: str
    # A dispute reviewer (an admin id for the bot): /review works for them.
    reviewer: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "username": self.username,
            "reviewer": self.reviewer,
            "sample": {
                "ni_number": self.ni_number,
                "date_of_birth": self.date_of_birth,
                "postcode": self.postcode,
            },
        }


# Several people, so friends, /compare and offers to an audience can be tried by switching; the
# last one reviews the disputes the others open.
CITIZENS: tuple[TestCitizen, ...] = (
    TestCitizen(700_001, "Alice", "Smith", "alice_sandbox", "AB 12 34 56 C", "14/03/1990", "SO17"),
    TestCitizen(700_002, "Ben", "Jones", "ben_sandbox", "CE 23 45 67 A", "02/11/1985", "SO17"),
    TestCitizen(700_003, "Chloe", "Patel", "chloe_sandbox", "JH 34 56 78 B", "29/07/1998", "M1"),
    TestCitizen(700_004, "Dev", "Okafor", "dev_sandbox", "KP 45 67 89 D", "08/01/1979", "EH1"),
    TestCitizen(
        700_005, "Rosa", "Reid", "rosa_reviewer", "PR 56 78 90 B", "21/09/1983", "LS1", True
    ),
)
REVIEWERS = tuple(person.user_id for person in CITIZENS if person.reviewer)

_EXTRA_NAMES = ("Erin", "Farid", "Grace", "Harry", "Isla", "Jack", "Kiran", "Layla", "Mo", "Nia")


class Sandbox:
    """The in-process stand-in, the test citizens and the page's JSON routes."""

    def __init__(self, standin: BotApiStandIn | None = None) -> None:
        # record_params off: a sandbox left running for days keeps messages, not every request.
        self.standin = standin or BotApiStandIn(
            bot_username=SANDBOX_BOT_USERNAME, bot_first_name="Britizen", record_params=False
        )
        self.citizens: dict[int, TestCitizen] = {}
        self.sponsor_key: str | None = None
        self.sponsor_name: str | None = None
        self.partner_key: str | None = None
        self.partner_name: str | None = None
        self.operator_key: str | None = None
        self.operator_name: str | None = None
        self._service: BritizenService | None = None
        self._waiters: set[asyncio.Event] = set()
        self._closing = False
        self._remove_listener = self.standin.add_listener(self._on_event)
        # The test citizens' Telegram app language: the page's language switch sets it, so a
        # citizen who hasn't chosen with /language is answered in the page's language.
        self.language_code = "en"
        for person in CITIZENS:
            self._add(person)

    # ------------------------------------------------------------------------------------
    # Life cycle
    # ------------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.standin.start("127.0.0.1", 0)

    def wire(self, settings: Settings) -> Settings:
        """Settings for a bot that talks to this stand-in (and never to Telegram)."""
        return settings.model_copy(
            update={
                "telegram_token": SANDBOX_TOKEN,
                "telegram_api_url": self.standin.base_url,
                # Telegram could not reach a loopback webhook anyway; the stand-in is polled.
                "webhook_url": None,
                "webhook_secret": None,
                "payment_provider_token": settings.payment_provider_token or SANDBOX_PAYMENT_TOKEN,
                "admin_ids": sorted({*settings.admin_ids, *REVIEWERS}),
                # The operator page's adoption shares need a population: the invented one.
                "population_file": settings.population_file or DEMO_POPULATION_FILE,
            }
        )

    async def prepare(self, service: BritizenService) -> None:
        """Before the bot polls: carry on the update ids the database has seen, and give the
        demo sponsor and partner fresh keys (only hashes are stored, so old ones are lost)."""
        self._service = service
        self.standin.continue_update_ids_after(await last_processed_update_id(service.db))
        secret_key, clock = service.settings.resolved_secret_key(), service.services.clock
        self.sponsor_key, self.sponsor_name = await demo_sponsor_key(service.db, secret_key, clock)
        self.partner_key, self.partner_name = await demo_partner_key(service.db, secret_key, clock)
        self.operator_key, self.operator_name = await demo_operator_key(
            service.db, secret_key, clock
        )

    def announce(self, service: BritizenService) -> None:
        base = f"http://{_public_host(service.settings.http_host)}:{service.http_port}"
        bar = "=" * 78
        logger.warning(
            "\n%s\nSANDBOX MODE: BRITIZEN_TELEGRAM_TOKEN is not set, so the bot talks to "
            "Britizen's own stand-in\nof the Bot API at %s. NOTHING REACHES TELEGRAM.\n"
            "  Chat with the bot as a test citizen: %s/sandbox\n"
            "  Sponsor portal:                      %s/portal\n"
            "  Demo sponsor API key (new each start): %s\n"
            "  Demo partner API key (new each start): %s\n"
            "  Operator page:                       %s/operator\n"
            "  Demo operator API key (new each start): %s\n"
            "  Dispute reviewer (/review): the test citizen %s\n"
            "Set BRITIZEN_TELEGRAM_TOKEN in .env to run the real bot.\n%s",
            bar,
            self.standin.url,
            base,
            base,
            self.sponsor_key,
            self.partner_key,
            base,
            self.operator_key,
            ", ".join(self.citizens[uid].first_name for uid in REVIEWERS),
            bar,
        )

    async def close(self, _app: web.Application | None = None) -> None:
        """Release the page's long polls (aiohttp's on_shutdown, before it waits for them)."""
        self._closing = True
        for waiter in list(self._waiters):
            waiter.set()

    async def stop(self) -> None:
        await self.close()
        self._remove_listener()
        await self.standin.stop()

    # ------------------------------------------------------------------------------------
    # Citizens and events
    # ------------------------------------------------------------------------------------

    def _add(self, person: TestCitizen) -> None:
        self.citizens[person.user_id] = person
        self.standin.add_user(
            person.user_id,
            person.first_name,
            last_name=person.last_name,
            username=person.username,
            language_code=self.language_code,
        )

    def add_citizen(self, first_name: str | None = None) -> TestCitizen | None:
        """One more test citizen with invented details; None once the sandbox is full."""
        extra = len(self.citizens) - len(CITIZENS)
        if extra >= MAX_EXTRA_CITIZENS:
            return None
        user_id = FIRST_EXTRA_ID + extra
        name = (first_name or "").strip()[:32] or _EXTRA_NAMES[extra % len(_EXTRA_NAMES)]
        digits = f"{(user_id * 7919) % 1_000_000:06d}"
        person = TestCitizen(
            user_id,
            name,
            "Tester",
            f"citizen{user_id}",
            f"ML {digits[:2]} {digits[2:4]} {digits[4:]} A",
            "01/06/1992",
            "SO17",
        )
        self._add(person)
        return person

    def _on_event(self, event: ChatEvent) -> None:
        for waiter in list(self._waiters):
            waiter.set()

    async def wait_for_events(self, chat_id: int, since: int, timeout: float) -> None:  # noqa: ASYNC109
        """Until the chat has an event at index ``since`` or later, the timeout, or shutdown."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._closing and self.standin.event_count(chat_id) <= since:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            waiter = asyncio.Event()
            self._waiters.add(waiter)
            try:
                await asyncio.wait_for(waiter.wait(), remaining)
            except TimeoutError:
                return
            finally:
                self._waiters.discard(waiter)

    # ------------------------------------------------------------------------------------
    # Routes
    # ------------------------------------------------------------------------------------

    def mount(self, app: web.Application) -> None:
        app.on_shutdown.append(self.close)
        app.router.add_get("/sandbox", self._page)
        app.router.add_get("/sandbox/", self._page)
        app.router.add_get("/sandbox/api/state", self._state)
        app.router.add_post("/sandbox/api/citizens", self._new_citizen)
        app.router.add_post("/sandbox/api/nightly-pass", self._nightly_pass)
        app.router.add_post("/sandbox/api/language", self._set_language)
        app.router.add_get("/sandbox/api/chats/{user_id}/events", self._events)
        app.router.add_post("/sandbox/api/chats/{user_id}/messages", self._send)
        app.router.add_post("/sandbox/api/chats/{user_id}/press", self._press)
        app.router.add_post("/sandbox/api/chats/{user_id}/share-users", self._share_users)
        app.router.add_post("/sandbox/api/chats/{user_id}/contact", self._contact)
        app.router.add_post("/sandbox/api/chats/{user_id}/pay", self._pay)
        app.router.add_get("/sandbox/files/{file_id}", self._file)

    async def _page(self, _request: web.Request) -> web.FileResponse:
        return page_response("sandbox.html")

    async def _state(self, _request: web.Request) -> web.Response:
        standin = self.standin
        commands = [
            {"command": c.get("command"), "description": c.get("description")}
            for c in standin.commands(language_code=self._menu_language()) or standin.commands()
        ]
        return web.json_response(
            {
                "bot": {"username": standin.bot_username, "name": standin.bot_first_name},
                "citizens": [person.to_json() for person in self.citizens.values()],
                "commands": commands,
                "sponsor": {"name": self.sponsor_name, "api_key": self.sponsor_key},
                "partner": {"name": self.partner_name, "api_key": self.partner_key},
                "operator": {"name": self.operator_name, "api_key": self.operator_key},
            }
        )

    async def _nightly_pass(self, _request: web.Request) -> web.Response:
        """The nightly job now (`britizen score` does the same from the command line): new
        scores, a history point per citizen, and band-change messages through the outbox."""
        if self._service is None:
            raise _problem(409, "starting", "the sandbox is still starting")
        try:
            summary = await self._service.run_nightly_pass()
        except PassAlreadyRunning:
            raise _problem(409, "running", "a pass is running already; try again soon") from None
        return web.json_response(
            {
                "users": summary.users,
                "band_changes": summary.band_changes,
                "seconds": summary.seconds,
            }
        )

    def _menu_language(self) -> str:
        return "" if self.language_code == "en" else self.language_code

    async def _set_language(self, request: web.Request) -> web.Response:
        """The page switched language: every test citizen's Telegram app now reports it."""
        body = await _json_body(request)
        code = body.get("language_code")
        if code not in ("en", "cy"):
            raise _problem(
                422, "validation", "language_code is 'en' or 'cy'", field="language_code"
            )
        self.language_code = code
        for person in self.citizens.values():
            self._add(person)
        return web.json_response({"language_code": code})

    async def _new_citizen(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        name = body.get("first_name")
        person = self.add_citizen(name if isinstance(name, str) else None)
        if person is None:
            raise _problem(
                422, "too_many", f"the sandbox has room for {MAX_EXTRA_CITIZENS} more citizens"
            )
        return web.json_response(person.to_json(), status=201)

    def _citizen(self, request: web.Request) -> TestCitizen:
        raw = request.match_info["user_id"]
        person = self.citizens.get(int(raw)) if raw.isdigit() else None
        if person is None:
            raise _problem(404, "not_found", "no such test citizen")
        return person

    async def _events(self, request: web.Request) -> web.Response:
        person = self._citizen(request)
        since = _int_query(request, "since", 0)
        wait = min(float(_int_query(request, "wait", 0)), MAX_WAIT_SECONDS)
        if wait > 0:
            await self.wait_for_events(person.user_id, since, wait)
        events = self.standin.events(person.user_id, since)
        return web.json_response(
            {
                "events": [event_json(event) for event in events],
                "next": since + len(events),
            }
        )

    async def _send(self, request: web.Request) -> web.Response:
        person = self._citizen(request)
        body = await _json_body(request)
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _problem(422, "validation", "type a message first", field="text")
        if len(text) > MAX_TEXT_LENGTH:
            raise _problem(
                422, "validation", f"at most {MAX_TEXT_LENGTH} characters, as in Telegram", "text"
            )
        self.standin.user_message(person.user_id, text)
        return web.json_response({"ok": True})

    async def _press(self, request: web.Request) -> web.Response:
        person = self._citizen(request)
        body = await _json_body(request)
        message_id, data = body.get("message_id"), body.get("data")
        if not isinstance(message_id, int) or not isinstance(data, str):
            raise _problem(422, "validation", "message_id and data are required")
        try:
            self.standin.callback_query(person.user_id, message_id, data)
        except ValueError:
            # The message was deleted or edited since the page drew it: like a stale client.
            raise _problem(409, "stale", "that button is no longer there") from None
        return web.json_response({"ok": True})

    async def _share_users(self, request: web.Request) -> web.Response:
        person = self._citizen(request)
        body = await _json_body(request)
        request_id, user_ids = body.get("request_id"), body.get("user_ids")
        if (
            not isinstance(request_id, int)
            or not isinstance(user_ids, list)
            or not all(isinstance(uid, int) and uid in self.citizens for uid in user_ids)
        ):
            raise _problem(422, "validation", "request_id and test citizens' user_ids required")
        self.standin.users_shared(person.user_id, request_id, user_ids)
        return web.json_response({"ok": True})

    async def _contact(self, request: web.Request) -> web.Response:
        person = self._citizen(request)
        # Ofcom's drama range: numbers that are never anyone's real phone.
        self.standin.contact(person.user_id, f"+447700900{person.user_id % 1000:03d}")
        return web.json_response({"ok": True})

    async def _pay(self, request: web.Request) -> web.Response:
        """Pay an invoice as a Telegram client does: pre-checkout, the bot's answer, then the
        successful_payment message. The stand-in charges nothing."""
        person = self._citizen(request)
        body = await _json_body(request)
        message_id = body.get("message_id")
        message = (
            self.standin.message(person.user_id, message_id)
            if isinstance(message_id, int)
            else None
        )
        invoice = self.standin.invoice(message) if message is not None else None
        if invoice is None:
            raise _problem(404, "not_found", "no such invoice")
        update = self.standin.pre_checkout_query(
            person.user_id, invoice["payload"], invoice["total_amount"], invoice["currency"]
        )
        query_id = update["pre_checkout_query"]["id"]
        answers = self.standin.pre_checkout_answers
        try:
            await self.standin.wait_for(
                lambda _call: query_id in answers, timeout=10, since=self.standin.mark()
            )
        except TimeoutError:
            raise _problem(504, "timeout", "the bot did not confirm the payment") from None
        answer = answers[query_id]
        if not answer["ok"]:
            return web.json_response({"ok": False, "error": answer.get("error_message")})
        self.standin.successful_payment(
            person.user_id,
            invoice["payload"],
            invoice["total_amount"],
            currency=invoice["currency"],
        )
        return web.json_response({"ok": True})

    async def _file(self, request: web.Request) -> web.Response:
        stored = self.standin.files.get(request.match_info["file_id"])
        if stored is None:
            raise _problem(404, "not_found", "no such file")
        headers = {"Cache-Control": "private, max-age=3600"}
        if stored.filename and request.query.get("download"):
            safe = "".join(c for c in stored.filename if c.isalnum() or c in "._- ")
            headers["Content-Disposition"] = f'attachment; filename="{safe or "file"}"'
        return web.Response(
            body=stored.data,
            content_type=stored.mime_type or "application/octet-stream",
            headers=headers,
        )


def message_json(message: SentMessage) -> dict[str, Any]:
    """A message snapshot as the page draws it: what a Telegram client would show."""
    markup = message.reply_markup or {}
    body: dict[str, Any] = {
        "message_id": message.message_id,
        "from_bot": message.from_bot,
        "kind": message.kind,
        "text": message.text,
        "entities": message.entities,
        "date": message.date,
        "version": message.version,
        "deleted": message.deleted,
        "inline_keyboard": message.inline_keyboard,
    }
    if "keyboard" in markup:
        body["keyboard"] = {
            "rows": message.keyboard,
            "one_time": bool(markup.get("one_time_keyboard")),
            "placeholder": markup.get("input_field_placeholder"),
        }
    elif markup.get("remove_keyboard"):
        body["keyboard"] = None
    if message.file_id is not None and message.data is not None:
        body["file"] = {
            "url": f"/sandbox/files/{message.file_id}",
            "mime_type": message.mime_type,
            "name": message.file_name,
            "size": len(message.data),
        }
    extra = message.extra or {}
    if "invoice" in extra:
        body["invoice"] = extra["invoice"]
    if "users_shared" in extra:
        body["users_shared"] = extra["users_shared"]
    if "contact" in extra:
        body["contact"] = extra["contact"]
    if "successful_payment" in extra:
        payment = extra["successful_payment"]
        body["payment"] = {
            "total_amount": payment.get("total_amount"),
            "currency": payment.get("currency"),
        }
    return body


def event_json(event: ChatEvent) -> dict[str, Any]:
    body: dict[str, Any] = {"seq": event.seq, "kind": event.kind}
    if event.message is not None:
        body["message"] = message_json(event.message)
    if event.data is not None:
        body["data"] = event.data
    if event.text is not None:
        body["text"] = event.text
    return body


def _public_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def _json_text(body: dict[str, Any]) -> str:
    import json

    return json.dumps(body)


def _problem(status: int, code: str, detail: str, field: str | None = None) -> web.HTTPException:
    body: dict[str, Any] = {"error": code, "detail": detail}
    if field is not None:
        body["fields"] = {field: detail}
    exc_class: type[web.HTTPException] = {
        404: web.HTTPNotFound,
        409: web.HTTPConflict,
        422: web.HTTPUnprocessableEntity,
        504: web.HTTPGatewayTimeout,
    }.get(status, web.HTTPBadRequest)
    return exc_class(text=_json_text(body), content_type="application/json")


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise _problem(400, "bad_json", "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise _problem(400, "bad_json", "the body must be a JSON object")
    return body


def _int_query(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise _problem(400, "bad_query", f"{name} must be a whole number")
    return int(raw)


__all__ = [
    "CITIZENS",
    "DEMO_PARTNER_NAME",
    "DEMO_SPONSOR_NAME",
    "REVIEWERS",
    "SANDBOX_TOKEN",
    "Sandbox",
    "TestCitizen",
    "demo_operator_key",
    "demo_partner_key",
    "demo_sponsor_key",
    "event_json",
    "message_json",
]
