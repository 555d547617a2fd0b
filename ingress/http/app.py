"""The HTTP app: webhooks in, the API, the live feed, /health and the dashboard.

Handlers only authenticate, parse, store or read, and map the outcome to a status; every
change to a request goes through the durable inbox to its actor. Each concern's routes live
in their own module; this one wires them together behind the admission gate.
"""

from __future__ import annotations

from typing import Any

from quart import jsonify
from quart_trio import QuartTrio

from . import api, dead_letters, errors, feed, pages, webhooks
from .auth import Access
from .limits import Admission, raise_open_file_limit
from .service import Service
from .sessions import Sessions

SECONDS_PER_DAY = 24 * 3600


def create_app(service: Service) -> QuartTrio:
    """Build the Quart-Trio app serving ``service``."""
    config = service.config
    app = QuartTrio("status_tracker")
    app.config["MAX_CONTENT_LENGTH"] = webhooks.MAX_BODY
    app.config["BODY_TIMEOUT"] = config.body_timeout_s
    app.json.sort_keys = False  # type: ignore[attr-defined]
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
    webhooks.install(app, service, access)
    api.install(app, service, access)
    dead_letters.install(app, service, access)
    feed.install(app, service, access)
    pages.install(app, service, access)

    @app.get("/health")
    async def health() -> Any:
        status, body = await service.health()
        return jsonify(body), status

    @app.before_serving
    async def prepare() -> None:
        raise_open_file_limit()

    app.asgi_app = Admission(  # type: ignore[method-assign]
        app.asgi_app, capacity=config.max_concurrent_requests, privileged=access.privileged
    )
    return app
