"""``GET /ws``: the live feed, for the API token or a session, from an allowed origin only."""

from __future__ import annotations

from typing import Any

from quart import websocket
from quart_trio import QuartTrio
from status_tracker.storage import RequestQuery

from status_tracker.domain import FINISHED_STATES

from .auth import Access
from .errors import error, unauthorized
from .origins import origin_allowed
from .service import Service

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
            active = await store.active_requests()
            finished, _ = await store.list_requests(
                RequestQuery(states=FINISHED_STATES, limit=FINISHED_IN_SNAPSHOT)
            )
            rows = [*sorted(active, key=lambda r: r.created_at, reverse=True), *finished]
            episodes = await store.episodes_of([row.id for row in rows])
            return {
                "type": "snapshot",
                "requests": [
                    await service.items.item(row, [e for e in episodes if e.request_id == row.id])
                    for row in rows
                ],
            }

        await service.feed.serve(snapshot, websocket.send)
