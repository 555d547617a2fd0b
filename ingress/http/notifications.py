"""``POST /api/notifications/test``: send a test message to every configured target now.

Behind the API token. The answer lists each target by its redacted URL with whether it took
the message; 409 when no target is configured.
"""

from __future__ import annotations

import typing
from typing import Any

from quart import jsonify, request
from quart_trio import QuartTrio

from .auth import Access
from .errors import error, unauthorized

if typing.TYPE_CHECKING:
    from .service import Service


def install(app: QuartTrio, service: Service, access: Access) -> None:
    @app.post("/api/notifications/test")
    async def test_notifications() -> Any:
        if not await access.api(request):
            return unauthorized()
        results = await service.send_test_notifications()
        if results is None:
            return error(409, "no notification target is configured (ST_NOTIFY_URLS)")
        return jsonify(
            {
                "ok": all(result["ok"] for result in results),
                "targets": results,
            }
        )
