"""Admission and connection hygiene in front of the app (ASGI middleware).

- A cap on requests in progress: past it, webhooks and unauthenticated requests get 503 with
  ``Retry-After``, while ``/health`` and API calls with the token or a live session still have
  a reserved share, so a flood of slow clients cannot lock out the people running it.
- A response sent before the request body was received (401, 413, 503, ...) carries
  ``Connection: close``, and the rest of the body is drained for a bounded time and size
  before the connection closes, so the client reads the answer instead of a reset.
- The end of every response from the framework, and of every early answer, is sent from
  here, after the app has returned. Quart-Trio cancels its request scope as soon as Hypercorn
  reports the stream closed, and Hypercorn closes the connection (or restarts its keep-alive
  timer) inside that same send: cancelled there, the connection was never closed nor timed
  out, and stayed open for good. Answers of plain ASGI (the webhooks), which nothing cancels
  midway, end as they are sent: holding them cost a task and a send per webhook.
"""

from __future__ import annotations

import logging
import resource
import typing
from collections.abc import Callable

import trio
from hypercorn.typing import (
    ASGIReceiveCallable,
    ASGIReceiveEvent,
    ASGISendCallable,
    ASGISendEvent,
    Scope,
)

from .answers import send_json

logger = logging.getLogger(__name__)

App = Callable[[Scope, ASGIReceiveCallable, ASGISendCallable], typing.Awaitable[None]]

LINGER_S = 2.0
LINGER_BYTES = 4 * 1024 * 1024
RETRY_AFTER_S = 1


def raise_open_file_limit() -> None:
    """Raise the soft limit on open files to the hard limit: every connection holds one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        logger.info("raised the open file limit from %s to %s", soft, hard)


def _declares_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        lowered = name.lower()
        if lowered == b"transfer-encoding" or (
            lowered == b"content-length" and value.strip() != b"0"
        ):
            return True
    return False


@typing.final
class _Exchange:
    """One HTTP request/response as it passes through, noting whether the body has arrived."""

    def __init__(
        self,
        scope: Scope,
        receive: ASGIReceiveCallable,
        send: ASGISendCallable,
        *,
        holds_end: bool = True,
    ) -> None:
        self._receive = receive
        self._send = send
        self._holds_end = holds_end
        self.body_done = not _declares_body(scope)
        self._status = 0
        self._early = False
        self._held = False
        self._gone = False

    async def receive(self) -> ASGIReceiveEvent:
        message = await self._receive()
        if message["type"] == "http.disconnect":
            self._gone = True
        if self._gone or not message.get("more_body", False):
            self.body_done = True
        return message

    async def send(self, message: ASGISendEvent) -> None:
        if message["type"] == "http.response.start":
            self._status = message["status"]
            self._early = not self.body_done
            if self._early:
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"
                ]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
        elif (
            message["type"] == "http.response.body"
            and not message.get("more_body", False)
            and (self._holds_end or self._early)
        ):
            message = {**message, "more_body": True}
            self._held = True
        await self._send(message)

    async def refuse(self, status: int, text: str) -> None:
        await send_json(self.send, status, {"error": text}, ("retry-after", str(RETRY_AFTER_S)))

    async def finish(self) -> None:
        """Drain what is left of an early-answered body (bounded), then end the response."""
        if not self._held or self._gone:
            return
        # A client too slow to send its body (408) is not waited for.
        if self._early and self._status != 408:
            drained = 0
            with trio.move_on_after(LINGER_S):
                while not self.body_done and drained <= LINGER_BYTES:
                    message = await self.receive()
                    drained += len(message.get("body", b""))
        if self._gone:
            return
        async with trio.open_nursery() as nursery:
            # Hypercorn hands the app a disconnect while ending the response: keep room for it.
            nursery.start_soon(self._discard)
            await self._send({"type": "http.response.body", "body": b"", "more_body": False})
            nursery.cancel_scope.cancel()

    async def _discard(self) -> None:
        while (await self._receive())["type"] != "http.disconnect":
            pass


@typing.final
class Admission:
    """Wraps an ASGI app with the request cap and early-close handling described above;
    ``plain`` tells the requests answered by plain ASGI, whose end need not be held."""

    def __init__(
        self,
        app: App,
        *,
        capacity: int,
        privileged: Callable[[Scope], bool],
        plain: Callable[[Scope], bool] = lambda scope: False,
    ) -> None:
        self._app = app
        self._plain = plain
        self._capacity = capacity
        self._reserved = max(8, capacity // 4)
        self._privileged = privileged
        self._general_in_use = 0
        self._reserved_in_use = 0

    def _admit(self, scope: Scope) -> str | None:
        if self._general_in_use < self._capacity:
            self._general_in_use += 1
            return "general"
        if self._reserved_in_use < self._reserved and (
            scope["path"] == "/health" or self._privileged(scope)
        ):
            self._reserved_in_use += 1
            return "reserved"
        return None

    def _release(self, pool: str) -> None:
        if pool == "general":
            self._general_in_use -= 1
        else:
            self._reserved_in_use -= 1

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        exchange = _Exchange(scope, receive, send, holds_end=not self._plain(scope))
        pool = self._admit(scope)
        if pool is None:
            await exchange.refuse(503, "too many requests in progress; retry shortly")
        else:
            try:
                await self._app(scope, exchange.receive, exchange.send)
            finally:
                self._release(pool)
        await exchange.finish()
