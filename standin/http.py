"""The HTTP layer: routing /bot<token>/<method>, getUpdates and the webhook, and the
/_standin control routes.

One layer of :class:`standin.server.BotApiStandIn`; the state is
:class:`standin.state.StandInState`.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
from aiohttp import web

from standin.common import (
    _LOG,
    JSON,
    MAX_UPLOAD_BYTES,
    ApiError,
    _bad_request,
    _Ctx,
    _decode_value,
    _FloodLimit,
    _json_dumps,
    _Method,
    _too_many_requests,
    _Upload,
    _Webhook,
)
from standin.kinds import OtherUpdatesMixin
from standin.models import ApiCall


class HttpMixin(OtherUpdatesMixin):
    # ----------------------------------------------------------------------------------------
    # HTTP layer
    # ----------------------------------------------------------------------------------------

    async def _read_params(self, request: web.Request) -> tuple[JSON, dict[str, _Upload]]:
        raw: dict[str, Any] = dict(request.query)
        uploads: dict[str, _Upload] = {}
        if request.body_exists:
            ctype = request.content_type
            if ctype == "application/json":
                body = await request.json()
                if not isinstance(body, dict):
                    raise _bad_request("JSON object expected")
                raw.update(body)
            elif ctype == "multipart/form-data":
                # Read parts directly rather than via request.post(): it spools files into
                # temporary files that would need closing.
                reader = await request.multipart()
                total = 0
                while True:
                    part = await reader.next()
                    if part is None:
                        break
                    if not isinstance(part, aiohttp.BodyPartReader) or not part.name:
                        continue
                    if part.filename is not None:
                        data = bytes(await part.read(decode=True))
                        total += len(data)
                        if total > MAX_UPLOAD_BYTES:
                            raise ApiError(413, "Request Entity Too Large")
                        uploads[part.name] = _Upload(
                            data, part.filename, part.headers.get("Content-Type")
                        )
                    else:
                        raw[part.name] = await part.text()
            else:
                form = await request.post()
                raw.update({k: v for k, v in form.items() if isinstance(v, str)})
        return {k: _decode_value(k, v) for k, v in raw.items()}, uploads

    async def _handle_api(self, request: web.Request) -> web.Response:
        received = time.monotonic()
        token = request.match_info["token"]
        name = request.match_info["method"]
        try:
            params, uploads = await self._read_params(request)
        except ApiError as exc:
            self._record(name, {}, received, error=exc)
            return web.json_response(exc.payload(), status=exc.code, dumps=_json_dumps)
        except (ValueError, aiohttp.ClientError) as exc:
            error = _bad_request(f"can't parse request: {exc}")
            self._record(name, {}, received, error=error)
            return web.json_response(error.payload(), status=400, dumps=_json_dumps)
        status, payload = await self._execute(token, name, params, uploads, received)
        return web.json_response(payload, status=status, dumps=_json_dumps)

    async def _execute(
        self,
        token: str | None,
        name: str,
        params: JSON,
        uploads: dict[str, _Upload],
        received: float,
    ) -> tuple[int, JSON]:
        method = self._methods.get(name.lower())
        canonical = method.name if method else name
        polling = canonical == "getUpdates"
        if not polling:
            self._inflight += 1
            self._touch()
        ctx = _Ctx(canonical, params, uploads)
        try:
            result = await self._dispatch(token, method, ctx)
        except ApiError as exc:
            self._record(canonical, params, received, error=exc, ctx=ctx)
            return exc.code, exc.payload()
        except Exception as exc:  # a stand-in bug should read as a server error, not hang
            _LOG.exception("standin failed on %s", canonical)
            error = ApiError(500, f"Internal Server Error: stand-in failed: {exc!r}")
            self._record(canonical, params, received, error=error, ctx=ctx)
            return 500, error.payload()
        finally:
            if not polling:
                self._inflight -= 1
                self._touch()
        self._record(canonical, params, received, result=result, ctx=ctx)
        return 200, {"ok": True, "result": result}

    async def _dispatch(self, token: str | None, method: _Method | None, ctx: _Ctx) -> Any:
        if token is not None and self.token is not None and token != self.token:
            raise ApiError(401, "Unauthorized")
        if token is not None and self._adopt_token_id:
            self._adopt_token_id = False
            prefix = token.partition(":")[0]
            if prefix.isdigit():
                self.bot_id = int(prefix)
                self.bot_user = {**self.bot_user, "id": self.bot_id}
        if method is None:
            self.unknown_methods[ctx.method] += 1
            raise ApiError(404, "Not Found: method not found")
        self._take_injected_failure(method.name)
        if method.targets_chat:
            chat = self._resolve_chat(ctx.params.get("chat_id"))
            ctx.chat = chat
            if method.blockable and chat["id"] in self._blocked:
                kind = "user" if chat["type"] == "private" else "group chat"
                verb = "blocked by" if kind == "user" else "kicked from"
                raise ApiError(403, f"Forbidden: bot was {verb} the {kind}")
            if method.is_send:
                await self._rate_limit(chat["id"], paid=_paid_broadcast(ctx.params))
        if method.name == "getUpdates":
            return await self._get_updates(ctx)
        return method.handler(ctx)

    def _take_injected_failure(self, method: str) -> None:
        for key in (method.lower(), "*"):
            queue = self._failures.get(key)
            if queue:
                failure = queue[0]
                failure.remaining -= 1
                if failure.remaining <= 0:
                    queue.popleft()
                raise ApiError(
                    failure.error.code, failure.error.description, failure.error.parameters
                )

    async def _rate_limit(self, chat_id: int, *, paid: bool = False) -> None:
        limits: list[_FloodLimit] = []
        if paid:
            # Paid broadcasts skip the free limit for Telegram's paid one (and still count).
            self.paid_broadcasts += 1
            if self.rate_limit_per_second:
                if self._paid_limit is None:
                    self._paid_limit = _FloodLimit(self.paid_rate_limit_per_second)
                limits.append(self._paid_limit)
        elif self.rate_limit_per_second:
            rate = self.rate_limit_per_second
            if self._global_limit is None or self._global_limit.rate != rate:
                self._global_limit = _FloodLimit(rate)
            limits.append(self._global_limit)
        if self.per_chat_rate_per_second:
            rate = self.per_chat_rate_per_second
            limit = self._chat_limits.get(chat_id)
            if limit is None or limit.rate != rate:
                limit = self._chat_limits[chat_id] = _FloodLimit(rate)
            limits.append(limit)
        full = [limit for limit in limits if not limit.has_room()]
        if full:
            raise _too_many_requests(max(limit.retry_after for limit in full))
        for limit in limits:
            await limit.take()  # there is room in each: returns without suspending

    def _record(
        self,
        method: str,
        params: JSON,
        received: float,
        *,
        result: Any = None,
        error: ApiError | None = None,
        ctx: _Ctx | None = None,
    ) -> ApiCall:
        chat_id = None
        if ctx is not None and ctx.chat is not None:
            chat_id = ctx.chat["id"]
        elif isinstance(params.get("chat_id"), int):
            chat_id = params["chat_id"]
        message_id = ctx.message_id if ctx is not None else None
        if message_id is None and isinstance(params.get("message_id"), int):
            message_id = params["message_id"]
        self._seq += 1
        call = ApiCall(
            seq=self._seq,
            method=method,
            params=params if self.record_params else {},
            timestamp=received,
            ok=error is None,
            error_code=error.code if error else None,
            description=error.description if error else None,
            chat_id=chat_id,
            message_id=message_id,
            result=result if self.record_params else None,
        )
        self.calls.append(call)
        self._calls_by_method[method] += 1
        if error is not None:
            self._errors_by_code[error.code] += 1
            if error.code == 429:
                self.rejected_429 += 1
        self._calls_signal.fire()
        return call

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if self.token is not None and request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").payload(), status=401)
        file_id = self._file_paths.get(request.match_info["path"])
        if file_id is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        stored = self.files[file_id]
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    # ----------------------------------------------------------------------------------------
    # getUpdates and the webhook
    # ----------------------------------------------------------------------------------------

    async def _get_updates(self, ctx: _Ctx) -> list[JSON]:
        params = ctx.params
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        self._set_allowed_updates(params.get("allowed_updates"))
        offset = params.get("offset")
        if isinstance(offset, int) and offset != 0:
            self._confirm_updates(offset)
        limit = params.get("limit", 100)
        limit = min(max(int(limit), 1), 100) if isinstance(limit, int | float) else 100
        timeout = params.get("timeout", 0)
        timeout = max(0.0, float(timeout)) if isinstance(timeout, int | float) else 0.0

        # A newer getUpdates terminates an older one, exactly like Telegram's 409; it makes
        # two pollers on one token (a classic deployment bug) loud in tests.
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_signal.fire()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )
            if self._webhook is not None:
                raise ApiError(409, "Conflict: webhook was set during the getUpdates request")
            if self._pending or self._closing:
                batch = [self._pending[i] for i in range(min(limit, len(self._pending)))]
                if batch:
                    self._handed_out_up_to = max(self._handed_out_up_to, batch[-1]["update_id"])
                    self._touch()
                return batch
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            self._polls_waiting += 1
            self._calls_signal.fire()  # wakes wait_until_polling()
            try:
                await self._updates_signal.wait(remaining)
            finally:
                self._polls_waiting -= 1

    def _confirm_updates(self, offset: int) -> None:
        pending = self._pending
        before = len(pending)
        if offset < 0:  # "-N": keep only the last N updates
            while len(pending) > -offset:
                pending.popleft()
        else:
            while pending and pending[0]["update_id"] < offset:
                pending.popleft()
        if len(pending) != before:
            self._touch()

    async def _webhook_worker(self) -> None:
        """Deliver pending updates to the webhook, in order, one at a time."""
        while not self._closing:
            webhook = self._webhook
            if webhook is None or not self._pending:
                await self._updates_signal.wait(None)
                continue
            update = self._pending[0]
            delivered = await self._deliver(webhook, update)
            if not self._pending or self._pending[0] is not update:
                continue  # dropped meanwhile (drop_pending_updates)
            if delivered:
                self._pending.popleft()
                self._touch()
            elif self._webhook is webhook:
                # Telegram gives up eventually too; the error shows in getWebhookInfo.
                self._pending.popleft()
                self.webhook_failures += 1
                self._touch()
            # else: the webhook was removed or replaced mid-delivery; the update stays
            # pending for getUpdates or the new webhook.

    async def _deliver(self, webhook: _Webhook, update: JSON) -> bool:
        assert self._session is not None
        headers = {"Content-Type": "application/json"}
        if webhook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = webhook.secret_token
        body = _json_dumps(update).encode("utf-8")
        timeout = aiohttp.ClientTimeout(total=self.webhook_timeout)
        for delay in (0.0, *self.webhook_retry_delays):
            if delay:
                await asyncio.sleep(delay)
            if self._webhook is not webhook:
                return False
            try:
                async with self._session.post(
                    webhook.url, data=body, headers=headers, timeout=timeout
                ) as response:
                    payload = await response.read()
                    if 200 <= response.status < 300:
                        await self._webhook_reply(response.content_type, payload)
                        return True
                    error = f"Wrong response from the webhook: {response.status} {response.reason}"
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                error = f"Connection failed: {exc.__class__.__name__}"
            webhook.last_error_date = int(time.time())
            webhook.last_error_message = error
        return False

    async def _webhook_reply(self, content_type: str, payload: bytes) -> None:
        """Telegram lets a webhook answer with one Bot API call in its response body."""
        if content_type != "application/json" or not payload:
            return
        try:
            body = json.loads(payload)
        except ValueError:
            return
        if isinstance(body, dict) and isinstance(body.get("method"), str):
            params = {k: _decode_value(k, v) for k, v in body.items() if k != "method"}
            await self._execute(None, body["method"], params, {}, time.monotonic())

    # ----------------------------------------------------------------------------------------
    # Control routes (/_standin/*), for the separate-process mode
    # ----------------------------------------------------------------------------------------

    async def _handle_stats(self, request: web.Request) -> web.Response:
        stats = self.stats(per_chat=request.query.get("per_chat") != "0")
        return web.json_response(stats, dumps=_json_dumps)

    async def _handle_calls(self, request: web.Request) -> web.Response:
        try:
            since = int(request.query.get("since", "0"))
            limit = int(request.query.get("limit", "1000"))
        except ValueError:
            return web.json_response({"ok": False, "description": "bad since/limit"}, status=400)
        method = request.query.get("method")
        selected: list[JSON] = []
        index = max(since, 0)
        while index < len(self.calls) and len(selected) < limit:
            call = self.calls[index]
            index += 1
            if method is None or call.method.lower() == method.lower():
                selected.append(call.to_json())
        return web.json_response({"calls": selected, "next": index}, dumps=_json_dumps)

    async def _handle_messages(self, request: web.Request) -> web.Response:
        try:
            chat_id = int(request.query["chat_id"])
        except (KeyError, ValueError):
            return web.json_response({"ok": False, "description": "chat_id required"}, status=400)
        messages = [
            {**m.to_dict(), "version": m.version, "deleted": m.deleted}
            for m in self.sent_to(chat_id, include_deleted=True)
        ]
        return web.json_response({"messages": messages}, dumps=_json_dumps)

    _PUSH_HELPERS = (
        "user_message",
        "callback_query",
        "users_shared",
        "contact",
        "pre_checkout_query",
        "successful_payment",
    )

    async def _handle_push_updates(self, request: web.Request) -> web.Response:
        """Push raw updates, or helper calls like ``{"helper": "user_message", ...kwargs}``."""
        try:
            body = await request.json()
            items = body if isinstance(body, list) else [body]
            update_ids = []
            for item in items:
                if not isinstance(item, dict):
                    raise ValueError("each update must be a JSON object")
                helper = item.get("helper")
                if helper is None:
                    update_ids.append(self.push_update(item))
                    continue
                if helper not in self._PUSH_HELPERS:
                    raise ValueError(f"unknown helper {helper!r}; use one of {self._PUSH_HELPERS}")
                kwargs = {k: v for k, v in item.items() if k != "helper"}
                update = getattr(self, helper)(**kwargs)
                update_ids.append(update["update_id"])
        except (ValueError, TypeError, KeyError) as exc:
            return web.json_response({"ok": False, "description": str(exc)}, status=400)
        return web.json_response({"ok": True, "update_ids": update_ids})

    async def _handle_fail_next(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            self.fail_next(
                str(body["method"]),
                int(body.get("error_code", 429)),
                int(body.get("retry_after", 3)),
                int(body.get("count", 1)),
                description=body.get("description"),
            )
        except (ValueError, TypeError, KeyError) as exc:
            return web.json_response({"ok": False, "description": str(exc)}, status=400)
        return web.json_response({"ok": True})

    async def _handle_block(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            chat_id = int(body["chat_id"])
        except (ValueError, TypeError, KeyError) as exc:
            return web.json_response({"ok": False, "description": str(exc)}, status=400)
        notify = bool(body.get("notify", False))
        if request.path.endswith("/unblock"):
            self.unblock(chat_id, notify=notify)
        else:
            self.block(chat_id, notify=notify)
        return web.json_response({"ok": True})

    async def _handle_reset(self, request: web.Request) -> web.Response:
        self.clear_records()
        return web.json_response({"ok": True})


def _paid_broadcast(params: JSON) -> bool:
    """``allow_paid_broadcast`` as a Bot API client sends it: JSON true, or "true" in a form."""
    value = params.get("allow_paid_broadcast")
    return value is True or (isinstance(value, str) and value.lower() == "true")
