"""The HTTP app: webhooks in, the API, the live feed, /health and the dashboard.

Handlers only authenticate, parse, store or read, and map the outcome to a status; every
change to a request goes through the durable inbox to its actor.
"""

from __future__ import annotations

import importlib.resources
import json
import logging
import typing
from typing import Any

import trio
from quart import Response, jsonify, redirect, request, websocket
from quart_trio import QuartTrio
from werkzeug.exceptions import RequestEntityTooLarge

from actors.clock import WallClock
from actors.mail import post, request_target
from actors.media_request.messages import DeletionRequested, WebhookTested
from actors.media_request.transitions import KNOWN
from ingress.translate import PayloadError, dedupe_key, event_type_of, translate
from storage import FINISHED_STATES, RequestQuery, Store

from . import auth, views
from .live_feed import LiveFeed

logger = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
WEBHOOK_SOURCES = ("jellyseerr", "sonarr", "radarr", "jellyfin")
MAX_PAGE = 500


class Service(typing.Protocol):
    """What the HTTP app needs from the running service."""

    store: Store
    feed: LiveFeed
    clock: WallClock
    webhook_token: str
    api_token: str
    webhook_slots: trio.CapacityLimiter

    async def health(self) -> tuple[int, dict[str, Any]]: ...


def error(status: int, message: str, **headers: str) -> tuple[Response, int, dict[str, str]]:
    return jsonify({"error": message}), status, headers


def create_app(service: Service) -> QuartTrio:
    """Build the Quart-Trio app serving ``service``."""
    app = QuartTrio("status_tracker")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.json.sort_keys = False  # type: ignore[attr-defined]
    store = service.store

    @app.post("/webhooks/<source>")
    async def webhook(source: str) -> Any:
        if source not in WEBHOOK_SOURCES:
            return error(
                404, f"unknown webhook source {source!r}; use one of {list(WEBHOOK_SOURCES)}"
            )
        if not auth.matches(service.webhook_token, auth.presented_secrets(request)):
            return error(401, "missing or wrong webhook secret", **{"WWW-Authenticate": "Bearer"})
        try:
            raw = await request.get_data(cache=False)
        except RequestEntityTooLarge:
            raw = None
        if raw is None or len(raw) > MAX_BODY:
            # Closing tells the client to stop sending the rest of a body we will not read.
            return error(413, f"body over {MAX_BODY} bytes", Connection="close")
        try:
            text = raw.decode("utf-8")
            body = json.loads(text)
        except UnicodeDecodeError:
            return error(400, "body is not UTF-8 text")
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
            return error(503, "too many webhooks in flight; retry shortly", **{"Retry-After": "1"})
        try:
            accepted = await store.accept_webhook(
                source=source,
                kind=event_type_of(source, body) or "unknown",  # type: ignore[arg-type]
                body=text,
                dedupe_key=dedupe_key(source, raw),
                now=service.clock.now(),
            )
        finally:
            service.webhook_slots.release()
        return jsonify({"accepted": True, "duplicate": accepted.duplicate})

    @app.get("/api/requests")
    async def list_requests() -> Any:
        if not auth.api_allowed(request, service.api_token):
            return error(401, "missing or wrong API token")
        try:
            query = _request_query(request.args)
        except ValueError as exc:
            return error(400, str(exc))
        rows, total = await store.list_requests(query)
        episodes = await store.episodes_of([row.id for row in rows])
        items = [
            views.request_item(row, [e for e in episodes if e.request_id == row.id]) for row in rows
        ]
        return jsonify(
            {"items": items, "total": total, "limit": query.limit, "offset": query.offset}
        )

    @app.get("/api/requests/<request_id>")
    async def get_request(request_id: str) -> Any:
        if not auth.api_allowed(request, service.api_token):
            return error(401, "missing or wrong API token")
        row = await store.load_request(int(request_id)) if request_id.isdigit() else None
        if row is None:
            return error(404, f"no request {request_id}")
        return jsonify(
            views.request_detail(
                row,
                await store.load_episodes(row.id),
                await store.downloads_of(row.id),
                await store.timeline(row.id),
            )
        )

    @app.delete("/api/requests/<request_id>")
    async def delete_request(request_id: str) -> Any:
        return await _delete(request_id, ())

    @app.delete("/api/requests/<request_id>/episodes")
    async def delete_episodes(request_id: str) -> Any:
        try:
            body = json.loads(await request.get_data(as_text=True) or "null")
            episodes = _episode_keys(body)
        except ValueError as exc:
            return error(400, str(exc))
        return await _delete(request_id, episodes)

    async def _delete(request_id: str, episodes: tuple[tuple[int, int], ...]) -> Any:
        if not auth.api_allowed(request, service.api_token):
            return error(401, "missing or wrong API token")
        row = await store.load_request(int(request_id)) if request_id.isdigit() else None
        if row is None:
            return error(404, f"no request {request_id}")
        if row.state == "deleted" and not episodes:
            return error(409, f"request {row.id} is already deleted")
        if episodes:
            known = {e.key for e in await store.load_episodes(row.id)}
            unknown = [f"S{s:02d}E{e:02d}" for s, e in episodes if (s, e) not in known]
            if unknown:
                return error(400, f"request {row.id} has no episode {', '.join(unknown)}")
        deletion = DeletionRequested(episodes=episodes)
        await store.commit([post(request_target(row.id), "api", deletion, at=service.clock.now())])
        return jsonify({"accepted": True}), 202

    @app.websocket("/ws")
    async def live() -> Any:
        if not auth.api_allowed(websocket, service.api_token):
            return error(401, "missing or wrong API token")
        await websocket.accept()

        async def snapshot() -> dict[str, Any]:
            active = await store.active_requests()
            finished, _ = await store.list_requests(RequestQuery(states=FINISHED_STATES, limit=50))
            rows = [*sorted(active, key=lambda r: r.created_at, reverse=True), *finished]
            episodes = await store.episodes_of([row.id for row in rows])
            return {
                "type": "snapshot",
                "requests": [
                    views.request_item(row, [e for e in episodes if e.request_id == row.id])
                    for row in rows
                ],
            }

        async def send(message: dict[str, Any]) -> None:
            await websocket.send(json.dumps(message))

        await service.feed.serve(snapshot, send)

    @app.get("/health")
    async def health() -> Any:
        status, body = await service.health()
        return jsonify(body), status

    @app.get("/")
    async def dashboard() -> Any:
        token = request.args.get("token")
        if token and auth.matches(service.api_token, [token]):
            response = redirect("/")
            _set_session(response)
            return response
        if not auth.has_session(request, service.api_token):
            return Response(_page("login.html"), mimetype="text/html")
        return Response(_page("dashboard.html"), mimetype="text/html")

    @app.post("/login")
    async def login() -> Any:
        form = await request.form
        if not auth.matches(service.api_token, [form.get("token", "")]):
            page = _page("login.html").replace("<!--error-->", "<p class=error>Wrong token.</p>")
            return Response(page, status=401, mimetype="text/html")
        response = redirect("/")
        _set_session(response)
        return response

    def _set_session(response: Response) -> None:
        response.set_cookie(
            auth.SESSION_COOKIE,
            auth.session_value(service.api_token),
            httponly=True,
            samesite="Strict",
            max_age=30 * 24 * 3600,
        )

    @app.errorhandler(404)
    async def not_found(_error: Exception) -> Any:
        return error(404, f"no such endpoint: {request.method} {request.path}")

    @app.errorhandler(405)
    async def wrong_method(_error: Exception) -> Any:
        return error(405, f"{request.method} is not allowed on {request.path}")

    return app


def _page(name: str) -> str:
    return (importlib.resources.files("ingress") / "http" / "static" / name).read_text()


def _request_query(args: typing.Mapping[str, str]) -> RequestQuery:
    states: tuple[str, ...] = ()
    if args.get("state"):
        states = tuple(s.strip() for s in args["state"].split(",") if s.strip())
        unknown = [s for s in states if s not in KNOWN or s == "pending"]
        if unknown:
            raise ValueError(f"unknown state {unknown[0]!r}")
    media_type = args.get("media_type") or None
    if media_type not in (None, "movie", "tv"):
        raise ValueError(f"media_type must be movie or tv, got {media_type!r}")
    limit = _integer(args, "limit", 50)
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
    offset = _integer(args, "offset", 0)
    if offset < 0:
        raise ValueError(f"offset must be 0 or more, got {offset}")
    return RequestQuery(
        states=states,
        media_type=media_type,
        title_contains=args.get("q") or None,
        limit=limit,
        offset=offset,
    )


def _integer(args: typing.Mapping[str, str], name: str, default: int) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None


def _episode_keys(body: object) -> tuple[tuple[int, int], ...]:
    """``{"episodes": [{"season": 1, "episode": 2}, ...]}`` as (season, episode) pairs."""
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("episodes"), list)
        or not body["episodes"]
    ):
        raise ValueError('body must be {"episodes": [{"season": n, "episode": n}, ...]}')
    keys = []
    for position, item in enumerate(body["episodes"]):
        season = item.get("season") if isinstance(item, dict) else None
        episode = item.get("episode") if isinstance(item, dict) else None
        if not isinstance(season, int) or not isinstance(episode, int) or isinstance(season, bool):
            raise ValueError(f"episodes[{position}] needs integer season and episode")
        keys.append((season, episode))
    return tuple(sorted(set(keys)))
