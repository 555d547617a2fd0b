"""``POST /webhooks/{source}``: authenticate, bound and parse the body, store it durably."""

from __future__ import annotations

import logging
from typing import Any

import trio
from quart import jsonify, request
from quart_trio import QuartTrio
from status_tracker.actors.media_request.messages import WebhookTested
from status_tracker.ingress.translate import (
    PayloadError,
    dedupe_key,
    event_key,
    event_type_of,
    summary,
    translate,
)

from status_tracker.strict import load_json

from .auth import Access
from .body import read_body
from .errors import error, unavailable
from .service import Service

MAX_BODY = 1024 * 1024
WEBHOOK_SOURCES = ("jellyseerr", "sonarr", "radarr", "jellyfin")
# A write the database has not confirmed by then is answered 503; if it lands later, the
# sender's retry is deduplicated against it.
DURABLE_WRITE_S = 10.0

logger = logging.getLogger(__name__)


def install(app: QuartTrio, service: Service, access: Access) -> None:
    store = service.store

    @app.post("/webhooks/<source>")
    async def webhook(source: str) -> Any:
        if source not in WEBHOOK_SOURCES:
            return error(
                404, f"unknown webhook source {source[:40]!r}; use one of {list(WEBHOOK_SOURCES)}"
            )
        if not access.webhook(request):
            return error(401, "missing or wrong webhook secret", WWW_Authenticate="Bearer")
        if not store.available:
            return unavailable("the database is unavailable; retry shortly")
        raw = await read_body(request, limit=MAX_BODY, within_s=service.config.body_timeout_s)
        try:
            body = load_json(raw)
        except ValueError as exc:
            return error(400, f"body is not valid JSON: {exc}")
        try:
            fact = translate(source, body)  # type: ignore[arg-type]
        except PayloadError as exc:
            return error(400, str(exc))
        if isinstance(fact, WebhookTested):
            return jsonify({"accepted": True, "duplicate": False, "test": True})
        try:
            service.webhook_slots.acquire_nowait()
        except trio.WouldBlock:
            return error(503, "too many webhooks in flight; retry shortly", Retry_After="1")
        try:
            with trio.move_on_after(DURABLE_WRITE_S):
                accepted = await store.accept_webhook(
                    source=source,
                    kind=event_type_of(source, body) or "unknown",  # type: ignore[arg-type]
                    body=raw.decode("utf-8"),
                    dedupe_key=dedupe_key(source, raw),
                    event_key=event_key(source, fact),
                    now=service.clock.now(),
                )
                logger.info(
                    "webhook from %s: %s %s%s",
                    source,
                    event_type_of(source, body) or "unknown",  # type: ignore[arg-type]
                    summary(fact),
                    " (duplicate, ignored)" if accepted.duplicate else "",
                )
                return jsonify({"accepted": True, "duplicate": accepted.duplicate})
        finally:
            service.webhook_slots.release()
        return unavailable("the database did not confirm the write in time; retry shortly")
