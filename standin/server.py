"""A loopback stand-in for the Telegram Bot API.

The real python-telegram-bot ``Application`` talks to it unchanged::

    standin = BotApiStandIn()
    await standin.start()
    app = (
        ApplicationBuilder()
        .token("123:TEST")
        .base_url(standin.base_url)
        .base_file_url(standin.base_file_url)
        .build()
    )

It answers like Telegram does (same JSON shapes, same HTTP status codes, same error texts for the
cases it models), keeps what the bot sent as :class:`~standin.models.SentMessage` snapshots,
records every call as an :class:`~standin.models.ApiCall`, and plays the user side through
:meth:`BotApiStandIn.push_update` and the helpers built on it. Updates reach the bot by
``getUpdates`` long polling or, once ``setWebhook`` was called, by POSTing them to the webhook.

Everything runs on one asyncio loop and nothing here is thread-safe: call the public methods
from the loop the server runs on (or through the ``/_standin/*`` HTTP routes from elsewhere).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp
from aiohttp import web

from standin.common import (
    MAX_UPLOAD_BYTES,
    ApiError,
)
from standin.methods import MethodsMixin

__all__ = ["ApiError", "BotApiStandIn"]


class BotApiStandIn(MethodsMixin):
    """Telegram Bot API stand-in on loopback. See the module docstring for the big picture and
    :class:`standin.state.StandInState` for the arguments.

    Built in layers, each a module: state, configuration (faults), observing, chats, the
    simulated users, the HTTP layer and the Bot API methods.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for method in self._method_table():
            self._methods[method.name.lower()] = method

    # ----------------------------------------------------------------------------------------
    # Lifecycle
    # ----------------------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """The aiohttp application serving the stand-in.

        :meth:`start` runs it; a host process (the sandbox page) may instead add its own routes
        to it and run it itself, then set :attr:`port`. Startup/cleanup hooks start and stop
        webhook delivery either way.
        """
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.on_startup.append(self._on_startup)
        app.on_shutdown.append(self._on_shutdown)
        app.on_cleanup.append(self._on_cleanup)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_get("/_standin/stats", self._handle_stats)
        app.router.add_get("/_standin/calls", self._handle_calls)
        app.router.add_get("/_standin/messages", self._handle_messages)
        app.router.add_post("/_standin/updates", self._handle_push_updates)
        app.router.add_post("/_standin/fail_next", self._handle_fail_next)
        app.router.add_post("/_standin/block", self._handle_block)
        app.router.add_post("/_standin/unblock", self._handle_block)
        app.router.add_post("/_standin/reset", self._handle_reset)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve on ``host:port`` (``port=0`` picks a free one; read it from :attr:`port`)."""
        if self._runner is not None:
            raise RuntimeError("BotApiStandIn is already running")
        # handler_cancellation: when PTB abandons a long poll (Updater.stop), the pending
        # getUpdates handler is cancelled instead of lingering for its whole timeout.
        runner = web.AppRunner(
            self.make_app(), handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.host = host
        # runner.addresses holds the bound (host, port, ...) tuples; port 0 resolves here.
        self.port = int(runner.addresses[0][1]) if runner.addresses else port

    async def stop(self) -> None:
        """Stop serving; pending long polls return at once, webhook delivery stops."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _on_startup(self, app: web.Application) -> None:
        self._closing = False
        self._session = aiohttp.ClientSession()
        self._worker = asyncio.create_task(self._webhook_worker(), name="standin-webhook")

    async def _on_shutdown(self, app: web.Application) -> None:
        # Runs before aiohttp waits for open requests: release long polls and waiters now.
        self._closing = True
        self._updates_signal.fire()
        self._calls_signal.fire()

    async def _on_cleanup(self, app: web.Application) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> BotApiStandIn:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def _public_host(self) -> str:
        return "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``; PTB appends the token itself."""
        return f"http://{self._public_host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``, so downloads come from here too."""
        return f"http://{self._public_host}:{self.port}/file/bot"

    @property
    def url(self) -> str:
        """Root URL of the server (control routes live under ``/_standin/``)."""
        return f"http://{self._public_host}:{self.port}"
