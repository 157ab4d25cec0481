"""python-telegram-bot's networking over aiohttp instead of httpx.

Every reply the bot sends goes through this. Measured here, PTB's default httpx request cost
about four times the CPU of an aiohttp request for the same sendMessage (the outbox sender's
own aiohttp client reaches ~1,000/s where PTB over httpx topped out near 220/s), and replies
are most of a webhook update's cost. aiohttp is already the service's HTTP server, so this adds
no dependency. PTB turns the (status, body) returned here into its usual errors, exactly as
with httpx; transport failures become PTB's TimedOut / NetworkError here.
"""

from __future__ import annotations

import json

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from texts.i18n import localise


def _localised_fields(request_data: RequestData) -> dict[str, str]:
    """PTB's `json_parameters`, with every wording constant (texts.i18n.Text) in the reader's
    language: PTB would serialise the English value underneath."""
    fields = {}
    for name, value in request_data.parameters.items():
        value = localise(value)
        fields[name] = value if isinstance(value, str) else json.dumps(value)
    return fields


class AiohttpRequest(BaseRequest):
    def __init__(
        self,
        *,
        connection_pool_size: int = 64,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        fields = _localised_fields(request_data) if request_data else None
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        write = write_timeout
        if isinstance(write, DefaultValue):
            write = self._media_write_timeout if files else self._write_timeout
        # aiohttp has no separate write timeout: the whole request may take write + read.
        total = None if read is None or write is None else read + write
        # aiohttp's `connect` covers waiting for a pooled connection as well as connecting.
        connect_total = None if connect is None else connect + (pool or 0)
        timeout = aiohttp.ClientTimeout(
            total=total, connect=connect_total, sock_connect=connect, sock_read=read
        )
        data: aiohttp.FormData | dict[str, str] | None = fields
        if files:
            form = aiohttp.FormData()
            for name, value in (fields or {}).items():
                form.add_field(name, value)
            for part, (filename, content, mime) in files.items():
                form.add_field(part, content, filename=filename, content_type=mime)
            data = form
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
