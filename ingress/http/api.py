"""``/api/requests``: list, detail, deletion and "check again now" of media requests.

Reads need the API token, the view token or a session; changes need the API token or an admin
session. A viewer asking for a change (or for the dead letters) is answered 403 before any
route runs (``install``'s gate), whichever module the route lives in.
"""

from __future__ import annotations

from typing import Any

from quart import jsonify, request
from quart_trio import QuartTrio
from status_tracker.actors.mail import post, request_target
from status_tracker.actors.media_request.messages import CheckRequested, DeletionRequested

from status_tracker.domain import FINISHED_STATES, RequestRow
from status_tracker.strict import load_json

from . import params
from .auth import Access
from .body import read_body
from .errors import error, unauthorized
from .service import Service

MAX_DELETE_BODY = 64 * 1024


def install(app: QuartTrio, service: Service, access: Access) -> None:
    store = service.store

    @app.before_request
    async def read_only_gate() -> Any:
        if await access.refuses_viewer(request):
            return error(403, "the view token (or its session) may only read")
        return None

    @app.get("/api/requests")
    async def list_requests() -> Any:
        if not await access.api(request):
            return unauthorized()
        try:
            query = params.request_query(request.args)
        except params.ParameterError as exc:
            return error(400, str(exc))
        rows, items, total = await store.describe_page(query, service.items.items)
        return jsonify(
            {
                "items": items,
                "total": total,
                "limit": query.limit,
                "offset": query.offset,
                "next_after": params.cursor(rows[-1]) if len(rows) == query.limit else None,
            }
        )

    async def find(raw_id: str) -> RequestRow | None:
        request_id = params.path_id(raw_id)
        return await store.load_request(request_id) if request_id is not None else None

    @app.get("/api/requests/<raw_id>")
    async def get_request(raw_id: str) -> Any:
        if not await access.api(request):
            return unauthorized()
        row = await find(raw_id)
        if row is None:
            return error(404, f"no request {raw_id[:40]!r}")
        return jsonify(await service.items.detail(row))

    @app.post("/api/requests/<raw_id>/check")
    async def check_request(raw_id: str) -> Any:
        """Check again now: handed durably to the request (a timeline entry), which the
        recovery sweeper picks up at once and looks at whether or not it counts as stuck."""
        if not await access.admin(request):
            return unauthorized()
        row = await find(raw_id)
        if row is None:
            return error(404, f"no request {raw_id[:40]!r}")
        if row.state in FINISHED_STATES:
            return error(409, f"request {row.id} is {row.state}: there is nothing to check")
        check = CheckRequested()
        await store.commit([post(request_target(row.id), "api", check, at=service.clock.now())])
        return jsonify({"accepted": True}), 202

    @app.delete("/api/requests/<raw_id>")
    async def delete_request(raw_id: str) -> Any:
        if not await access.admin(request):
            return unauthorized()
        row = await find(raw_id)
        if row is None:
            return error(404, f"no request {raw_id[:40]!r}")
        if row.state == "deleted":
            return error(409, f"request {row.id} is already deleted")
        return await delete(row, ())

    @app.delete("/api/requests/<raw_id>/episodes")
    async def delete_episodes(raw_id: str) -> Any:
        if not await access.admin(request):
            return unauthorized()
        row = await find(raw_id)
        if row is None:
            return error(404, f"no request {raw_id[:40]!r}")
        raw = await read_body(
            request, limit=MAX_DELETE_BODY, within_s=service.config.body_timeout_s
        )
        try:
            episodes = params.episode_keys(load_json(raw or b"null"))
        except ValueError as exc:
            return error(400, str(exc))
        known = {e.key for e in await store.load_episodes(row.id)}
        unknown = [f"S{s:02d}E{e:02d}" for s, e in episodes if (s, e) not in known]
        if unknown:
            return error(400, f"request {row.id} has no episode {', '.join(unknown)}")
        return await delete(row, episodes)

    async def delete(row: RequestRow, episodes: tuple[tuple[int, int], ...]) -> Any:
        deletion = DeletionRequested(episodes=episodes)
        await store.commit([post(request_target(row.id), "api", deletion, at=service.clock.now())])
        return jsonify({"accepted": True}), 202
