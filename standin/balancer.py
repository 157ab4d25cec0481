"""A loopback round-robin load balancer for webhook tests and benchmarks.

Telegram POSTs each update to one webhook URL; in production a load balancer spreads those over
the instances. This stands in for it: every request goes to the next backend in turn (so
consecutive updates of one person land on different instances), and the backend's answer is
passed back unchanged, so Telegram's (the stand-in's) redelivery on a non-2xx still applies.
"""

from __future__ import annotations

import itertools
from collections import Counter

import aiohttp
from aiohttp import web

# Headers that describe one hop, not the request (RFC 9110 7.6.1); aiohttp sets its own.
_HOP_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


class RoundRobinBalancer:
    def __init__(self, backends: list[str] | None = None) -> None:
        # May be filled in after start: instances that listen on port 0 learn theirs late.
        self.backends: list[str] = list(backends or [])
        self._turn = itertools.count()
        # How many requests each backend got, and how each answered.
        self.forwarded: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        if not self.backends:
            return web.json_response({"error": "no backends"}, status=503)
        backend = self.backends[next(self._turn) % len(self.backends)]
        self.forwarded[backend] += 1
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        body = await request.read()
        try:
            async with self._session.request(
                request.method, backend + request.path_qs, data=body, headers=headers
            ) as answer:
                payload = await answer.read()
                self.statuses[answer.status] += 1
                return web.Response(
                    status=answer.status,
                    body=payload,
                    content_type=answer.content_type,
                )
        except aiohttp.ClientError:
            # A dead instance: answer 502 so the sender retries (the next try goes elsewhere).
            self.statuses[502] += 1
            return web.json_response({"error": "backend unavailable"}, status=502)
