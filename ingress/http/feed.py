"""``GET /ws``: the live feed, for the API token or a session, from an allowed origin only."""

from __future__ import annotations

from typing import Any

from quart import websocket
from quart_trio import QuartTrio
from status_tracker.storage import RequestQuery

from status_tracker.domain import ACTIVE_STATES, FINISHED_STATES

from . import params
from .auth import Access
from .errors import error, unauthorized
from .origins import origin_allowed
from .service import Service

ACTIVE_IN_SNAPSHOT = 200
"""The newest active requests the snapshot holds; ``more`` lists the rest through the API."""
FINISHED_IN_SNAPSHOT = 50


def install(app: QuartTrio, service: Service, access: Access) -> None:
    store = service.store
    config = service.config

    @app.websocket("/ws")
    async def live() -> Any:
        # The browser sends the session cookie whichever page opens the socket, so a page
        # from another origin must be refused before the cookie counts for anything.
        if not origin_allowed(websocket, config.trusted_proxies, config.allowed_origins):
            return error(403, "this origin may not open the live feed (see ST_ALLOWED_ORIGINS)")
        if not await access.api(websocket):
            return unauthorized()
        await websocket.accept()

        async def snapshot() -> dict[str, Any]:
            active, active_total = await store.list_requests(
                RequestQuery(states=ACTIVE_STATES, limit=ACTIVE_IN_SNAPSHOT)
            )
            finished, _ = await store.list_requests(
                RequestQuery(states=FINISHED_STATES, limit=FINISHED_IN_SNAPSHOT)
            )
            rows = [*active, *finished]
            more = None
            if active_total > len(active):
                more = {"state": ",".join(ACTIVE_STATES), "after": params.cursor(active[-1])}
            return {
                "type": "snapshot",
                "requests": await service.items.items(rows),
                "active_total": active_total,
                "more": more,
            }

        await service.feed.serve(snapshot, websocket.send)
