"""The HTTP app: webhooks in, the API, the live feed, /health and the dashboard.

Handlers only authenticate, parse, store or read, and map the outcome to a status; every
change to a request goes through the durable inbox to its actor. Each concern's routes live
in their own module; this one wires them together behind the admission gate.
"""

from __future__ import annotations

import typing
from typing import Any

from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, Scope
from quart import jsonify
from quart_trio import QuartTrio

from status_tracker import json_text

from . import api, dead_letters, errors, feed, metrics, notifications, openapi, pages, webhooks
from .answers import send_json
from .auth import Access
from .json_provider import CompactJSONProvider
from .limits import Admission, App, raise_open_file_limit
from .service import Service
from .sessions import Sessions
from .webhooks import WebhookIngress

SECONDS_PER_DAY = 24 * 3600


def create_app(service: Service) -> QuartTrio:
    """Build the Quart-Trio app serving ``service``."""
    config = service.config
    app = QuartTrio("status_tracker")
    # A doubled slash is a 404 like any unknown path, not a redirect built from the Host header.
    app.url_map.merge_slashes = False
    app.config["MAX_CONTENT_LENGTH"] = webhooks.MAX_BODY
    app.config["BODY_TIMEOUT"] = config.body_timeout_s
    app.json = CompactJSONProvider(app)
    access = Access(
        webhook_token=service.webhook_token,
        api_token=service.api_token,
        view_token=config.view_token,
        sessions=Sessions(
            service.store,
            service.clock,
            api_token=service.api_token,
            view_token=config.view_token,
            lifetime_s=config.session_days * SECONDS_PER_DAY,
        ),
    )
    errors.install(app)
    api.install(app, service, access)
    dead_letters.install(app, service, access)
    notifications.install(app, service, access)
    metrics.install(app, service, access)
    feed.install(app, service, access)
    pages.install(app, service, access)

    @app.get("/health")
    async def health() -> Any:
        status, body = await service.health()
        return jsonify(body), status

    @app.get("/openapi.json")
    async def openapi_document() -> Any:
        return jsonify(openapi.document(config.url_base))

    @app.before_serving
    async def prepare() -> None:
        raise_open_file_limit()

    health_path = f"{config.url_base}/health"

    def privileged(scope: Scope) -> bool:
        # /health keeps its reserved share under a URL base too.
        return scope["path"] == health_path or access.privileged(scope)

    webhook_prefix = f"{config.url_base}{webhooks.PREFIX}"

    def answered_by_webhooks(scope: Scope) -> bool:
        return scope["method"] == "POST" and scope["path"].startswith(webhook_prefix)

    app.asgi_app = Admission(  # type: ignore[method-assign]
        UrlBase(WebhookIngress(app.asgi_app, service, access), config.url_base),
        capacity=config.max_concurrent_requests,
        privileged=privileged,
        plain=answered_by_webhooks,
    )
    return app


@typing.final
class UrlBase:
    """Serves ``app`` under a path prefix (``ST_URL_BASE``): every route, page and file.

    A request under the base reaches the app with the base as its ASGI ``root_path`` (Quart
    routes on the rest, and ``request.root_path`` is the base for links and cookies); the
    base itself without its slash is redirected to it; anything else is a JSON 404, for
    websockets too.
    """

    def __init__(self, app: App, base: str) -> None:
        self._app = app
        self._base = base

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if not self._base or scope["type"] not in ("http", "websocket"):
            await self._app(scope, receive, send)
            return
        path = scope["path"]
        if path.startswith(f"{self._base}/"):
            root_path = scope.get("root_path", "")
            await self._app({**scope, "root_path": root_path + self._base}, receive, send)  # type: ignore[arg-type]
            return
        if scope["type"] == "websocket":
            await self._refuse_websocket(scope, receive, send)
            return
        if path == self._base and scope["method"] in ("GET", "HEAD"):
            query = scope.get("query_string", b"")
            location = f"{self._base}/".encode() + (b"?" + query if query else b"")
            await _answer(send, 308, {"error": f"moved to {self._base}/"}, location=location)
            return
        await _answer(send, 404, {"error": f"no such endpoint: the service is under {self._base}/"})

    async def _refuse_websocket(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        await receive()  # websocket.connect
        if "websocket.http.response" not in scope.get("extensions", {}):
            await send({"type": "websocket.close", "code": 1008, "reason": "no such endpoint"})
            return
        body = json_text.dumps({"error": f"no such endpoint: the service is under {self._base}/"})
        await send(
            {
                "type": "websocket.http.response.start",
                "status": 404,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})


async def _answer(
    send: ASGISendCallable, status: int, body: dict[str, str], *, location: bytes | None = None
) -> None:
    headers = () if location is None else (("location", location.decode("latin-1")),)
    await send_json(send, status, body, *headers)
