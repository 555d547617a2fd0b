"""``GET /ws``: the live feed, for the API token or a session, from an allowed origin only.

The feed is one-way: a client that sends anything is closed with ``1008`` (policy violation).
"""

from __future__ import annotations

from typing import Any

import trio
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
ONE_WAY = 1008
"""The close code for a client that sends anything: policy violation, the feed takes nothing."""


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

        # The feed only sends, but what the client sends must still be read: unread messages
        # fill Quart-Trio's queue, then Hypercorn's, and then its disconnect never arrives, so a
        # client gone away stayed subscribed and held everything it had sent.
        async with trio.open_nursery() as nursery:
            nursery.start_soon(service.feed.serve, snapshot, websocket.send)
            await websocket.receive()
            nursery.cancel_scope.cancel()
        await websocket.close(ONE_WAY, "the live feed takes no messages")
        # Until the client answers the close, its messages are read and dropped, so that the
        # disconnect still gets through; it ends this handler (cancelled by Quart-Trio).
        while True:
            await websocket.receive()
