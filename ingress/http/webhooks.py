"""``POST /webhooks/{source}``: authenticate, bound and parse the body, store it durably.

Served as plain ASGI, in front of the web framework: a webhook needs none of Quart's request
machinery (contexts, routing, hooks, response objects), which cost more CPU than checking and
storing the webhook, a quarter of the service's time during a burst. The answers are the same
JSON a Quart handler gave; any other path or method goes on to the app.
"""

from __future__ import annotations

import logging
import typing
from collections.abc import AsyncIterator
from typing import Any

import attrs
import trio
from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, Scope
from status_tracker.actors.media_request.messages import WebhookTested
from status_tracker.ingress.translate import (
    PayloadError,
    dedupe_key,
    event_key,
    event_type_of,
    summary,
    translate,
)
from status_tracker.storage import DatabaseUnavailable
from werkzeug.exceptions import RequestEntityTooLarge, RequestTimeout

from status_tracker.strict import load_json

from .answers import send_json
from .auth import Access, scope_credentials
from .body import read_chunks
from .errors import RETRY_AFTER_S
from .limits import App
from .metrics import webhook_outcome
from .service import Service

ROUTE = "/webhooks/{source}"
PREFIX = "/webhooks/"
MAX_BODY = 1024 * 1024
WEBHOOK_SOURCES = ("jellyseerr", "sonarr", "radarr", "jellyfin")
# A write the database has not confirmed by then is answered 503; if it lands later, the
# sender's retry is deduplicated against it.
DURABLE_WRITE_S = 10.0
SLOTS_RETRY_AFTER_S = 1

logger = logging.getLogger(__name__)


@typing.final
@attrs.frozen
class _Answer:
    status: int
    body: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = ()

    async def send(self, send: ASGISendCallable) -> None:
        await send_json(send, self.status, self.body, *self.headers)


def _error(status: int, message: str, *headers: tuple[str, str]) -> _Answer:
    return _Answer(status, {"error": message}, headers)


def _unavailable(message: str, retry_after_s: int = RETRY_AFTER_S) -> _Answer:
    return _error(503, message, ("Retry-After", str(retry_after_s)))


class _Gone(Exception):
    """The client went away before its body arrived: there is no one to answer."""


@typing.final
class WebhookIngress:
    """Answers ``POST /webhooks/{source}`` itself and passes everything else to ``app``."""

    def __init__(self, app: App, service: Service, access: Access) -> None:
        self._app = app
        self._service = service
        self._access = access

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        source = _source(scope)
        if source is None or (scope["method"] != "POST" and ("/" in source or not source)):
            await self._app(scope, receive, send)
            return
        if scope["method"] != "POST":
            message = f"{scope['method']} is not allowed on {scope['path']}"
            await _error(405, message, ("Allow", "POST")).send(send)
            return
        try:
            answer = await self._answer(scope, receive, source)
        except _Gone:
            return
        self._service.metrics.webhooks.labels(
            _label(source), webhook_outcome(answer.status, answer.body)
        ).inc()
        await answer.send(send)

    async def _answer(self, scope: Scope, receive: ASGIReceiveCallable, source: str) -> _Answer:
        try:
            return await self._accept(scope, receive, source)
        except DatabaseUnavailable as exc:
            logger.warning("answered 503, database unavailable: %s", exc)
            return _unavailable("the database is unavailable; retry shortly")
        except _Gone:
            raise
        except Exception as exc:
            logger.error("POST %s failed", scope["path"], exc_info=exc)
            return _error(500, "internal error; the service log has the details")

    async def _accept(self, scope: Scope, receive: ASGIReceiveCallable, source: str) -> _Answer:
        service = self._service
        if source not in WEBHOOK_SOURCES:
            return _error(
                404, f"unknown webhook source {source[:40]!r}; use one of {list(WEBHOOK_SOURCES)}"
            )
        try:
            headers, args = scope_credentials(scope)
        except ValueError as exc:
            return _error(400, str(exc))
        if not self._access.webhook_in(headers, args):
            return _error(401, "missing or wrong webhook secret", ("WWW-Authenticate", "Bearer"))
        store = service.store
        if not store.available:
            return _unavailable("the database is unavailable; retry shortly")
        try:
            raw = await read_chunks(
                _chunks(receive),
                declared=_declared_length(scope),
                limit=MAX_BODY,
                within_s=service.config.body_timeout_s,
            )
        except (RequestEntityTooLarge, RequestTimeout) as exc:
            return _error(exc.code or 500, exc.description or exc.name)
        try:
            body = load_json(raw)
        except ValueError as exc:
            return _error(400, f"body is not valid JSON: {exc}")
        try:
            fact = translate(source, body)  # type: ignore[arg-type]
        except PayloadError as exc:
            return _error(400, str(exc))
        if isinstance(fact, WebhookTested):
            return _Answer(200, {"accepted": True, "duplicate": False, "test": True})
        try:
            service.webhook_slots.acquire_nowait()
        except trio.WouldBlock:
            return _unavailable("too many webhooks in flight; retry shortly", SLOTS_RETRY_AFTER_S)
        try:
            kind = event_type_of(source, body) or "unknown"  # type: ignore[arg-type]
            with trio.move_on_after(DURABLE_WRITE_S), service.webhook_burst.storing():
                accepted = await store.accept_webhook(
                    source=source,
                    kind=kind,
                    body=raw.decode("utf-8"),
                    dedupe_key=dedupe_key(source, raw),
                    event_key=event_key(source, fact),
                    now=service.clock.now(),
                )
                service.webhook_burst.stored()
                if logger.isEnabledFor(logging.INFO):  # the summary only for a line written
                    logger.info(
                        "webhook from %s: %s %s%s",
                        source,
                        kind,
                        summary(fact),
                        " (duplicate, ignored)" if accepted.duplicate else "",
                    )
                return _Answer(200, {"accepted": True, "duplicate": accepted.duplicate})
        finally:
            service.webhook_slots.release()
        return _unavailable("the database did not confirm the write in time; retry shortly")


def _source(scope: Scope) -> str | None:
    """What follows ``/webhooks/`` in an HTTP request's path (under the URL base), else None."""
    if scope["type"] != "http":
        return None
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path[len(PREFIX) :] if path.startswith(PREFIX) else None


def _label(source: str) -> str:
    if source in WEBHOOK_SOURCES:
        return source
    return "unknown" if source.strip("/") else "none"


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _chunks(receive: ASGIReceiveCallable) -> AsyncIterator[bytes]:
    """The body's pieces as they arrive, until the last."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Gone
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return
