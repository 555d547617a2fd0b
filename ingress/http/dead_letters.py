"""``/api/dead-letters``: messages no actor could apply, with their bodies, to retry or discard.

Behind the API token: a body may hold anything a webhook carried.
"""

from __future__ import annotations

from typing import Any

from quart import jsonify, request
from quart_trio import QuartTrio
from status_tracker.storage import DeadLetter, DiscardDeadLetter, RetryDeadLetter

from . import params, views
from .auth import Access
from .errors import error, unauthorized
from .service import Service


def install(app: QuartTrio, service: Service, access: Access) -> None:
    store = service.store

    @app.get("/api/dead-letters")
    async def list_dead_letters() -> Any:
        if not await access.api(request):
            return unauthorized()
        try:
            limit, offset = params.page(request.args)
        except params.ParameterError as exc:
            return error(400, str(exc))
        letters, total = await store.dead_letters(limit=limit, offset=offset)
        return jsonify(
            {
                "items": [views.dead_letter_item(letter) for letter in letters],
                "total": total,
                "limit": limit,
                "offset": offset,
            }
        )

    async def find(raw_id: str) -> DeadLetter | None:
        letter_id = params.path_id(raw_id)
        return await store.dead_letter(letter_id) if letter_id is not None else None

    @app.post("/api/dead-letters/<raw_id>/retry")
    async def retry_dead_letter(raw_id: str) -> Any:
        if not await access.api(request):
            return unauthorized()
        letter = await find(raw_id)
        if letter is None:
            return error(404, f"no dead letter {raw_id[:40]!r}")
        if letter.body is None:
            return error(409, f"dead letter {letter.id} kept no message body to post again")
        await store.commit([RetryDeadLetter(dead_letter_id=letter.id, at=service.clock.now())])
        return jsonify({"accepted": True}), 202

    @app.delete("/api/dead-letters/<raw_id>")
    async def discard_dead_letter(raw_id: str) -> Any:
        if not await access.api(request):
            return unauthorized()
        letter = await find(raw_id)
        if letter is None:
            return error(404, f"no dead letter {raw_id[:40]!r}")
        await store.commit([DiscardDeadLetter(dead_letter_id=letter.id)])
        return "", 204
