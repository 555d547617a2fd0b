"""The OpenAPI 3.1 document of the HTTP contract, served at ``GET /openapi.json``.

Built here as plain data (pure: no I/O) so that tools can generate clients and tests can check
real answers against it (``tests/openapi``). The schemas are JSON Schema 2020-12. Bodies
allow additional properties and fields that may be unknown are nullable, so adding a field
keeps the document true; a field or status this document denies fails the tests instead.

Paths are relative to the one server, the URL base (``ST_URL_BASE``, ``/`` by default).
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from status_tracker.domain import ACTIVE_STATES, FINISHED_STATES
from status_tracker.domain.links import LINK_NAMES

Schema = dict[str, Any]

VERSION = "0.1.0"
MAX_ID = 2**63 - 1
INT32 = {"minimum": -(2**31), "maximum": 2**31 - 1}
WEBHOOK_SOURCES = ("jellyseerr", "sonarr", "radarr", "jellyfin")
# Request states in lifecycle order, as the domain defines them.
REQUEST_STATES = (*ACTIVE_STATES, *FINISHED_STATES)
EPISODE_STATES = ("pending", *REQUEST_STATES)
DOWNLOAD_STATES = (
    "queued",
    "downloading",
    "stalled",
    "paused",
    "completed",
    "seeding",
    "missing",
    "error",
)
RELEASE_TYPES = (
    "movie",
    "single_episode",
    "multi_episode",
    "season_pack",
    "multi_season_pack",
    "batch",
)
TIMELINE_SOURCES = (
    "jellyseerr",
    "radarr",
    "sonarr",
    "qbittorrent",
    "shoko",
    "jellyfin",
    "verifier",
    "recovery",
    "api",
    "system",
)


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    """``schema`` or null (JSON Schema 2020-12 spelling, no ``nullable``)."""
    if "type" in schema and "enum" not in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        return {**schema, "type": [*kinds, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def _object(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    """An object with these properties; any other property is allowed (fields get added)."""
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
        "additionalProperties": True,
    }


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
ID = {"type": "integer", "minimum": 0, "maximum": MAX_ID}
COUNT = {"type": "integer", "minimum": 0}
BOOLEAN = {"type": "boolean"}
NUMBER = {"type": "number"}
PERCENT = {"type": "number", "minimum": 0, "maximum": 100}
TIME = {"type": "string", "format": "date-time", "description": "ISO 8601, UTC (`...Z`)"}
HASH = {"type": "string", "pattern": "^[0-9a-f]+$", "description": "lower-case hex"}
SEASON_EPISODE = _object(
    {"season": {"type": "integer", **INT32}, "episode": {"type": "integer", **INT32}}
)


def _schemas() -> dict[str, Schema]:
    request_fields = {
        "id": ID,
        "media_type": {"enum": ["movie", "tv"]},
        "title": STRING,
        "year": _nullable(INTEGER),
        "tmdb_id": _nullable(INTEGER),
        "tvdb_id": _nullable(INTEGER),
        "imdb_id": _nullable(STRING),
        "jellyseerr_request_id": _nullable(INTEGER),
        "is_anime": BOOLEAN,
        "state": {"enum": list(REQUEST_STATES)},
        "progress": PERCENT,
        "poster_url": _nullable(STRING),
        "overview": _nullable(STRING),
        "source": STRING,
        "jellyfin_id": _nullable(STRING),
        "created_at": TIME,
        "updated_at": TIME,
        "available_at": _nullable(TIME),
        "episode_counts": {
            "type": "object",
            "description": "episodes per state; only states with at least one episode",
            "additionalProperties": {"type": "integer", "minimum": 1},
        },
    }
    return {
        "Error": _object({"error": {"type": "string", "description": "what is wrong, in words"}}),
        "Accepted": _object(
            {"accepted": {"const": True}},
            {
                "duplicate": {
                    "type": "boolean",
                    "description": "the same body from the same source within an hour",
                },
                "test": {"type": "boolean", "description": "a test event: nothing changed"},
            },
        ),
        "RequestItem": _object(
            request_fields,
            {
                "requested_seasons": {"type": "array", "items": INTEGER},
                "final_path": _nullable(STRING),
                # Planned (DESIGN.md, contract additions): present once they land.
                "requested_by": _nullable(STRING),
                "requested_at": _nullable(TIME),
                "reason": _nullable(STRING),
                "links": {
                    "type": "object",
                    "description": (
                        "its pages in the services whose address is configured (ST_*_PUBLIC_URL,"
                        " else ST_*_URL), by name: Jellyseerr, Sonarr or Radarr, qBittorrent,"
                        " and Play in Jellyfin once Jellyfin has it; empty when none"
                    ),
                    "propertyNames": {"enum": list(LINK_NAMES)},
                    "additionalProperties": {"type": "string", "pattern": "^https?://"},
                },
            },
        ),
        "Episode": _object(
            {
                "season": INTEGER,
                "episode": INTEGER,
                "title": _nullable(STRING),
                "state": {"enum": list(EPISODE_STATES)},
                "progress": PERCENT,
                "torrent_hash": _nullable(HASH),
                "final_path": _nullable(STRING),
                "jellyfin_id": _nullable(STRING),
            },
            {
                "updated_at": _nullable(TIME),
                "size": _nullable(COUNT),
                "reason": _nullable(STRING),
            },
        ),
        "Download": _object(
            {
                "hash": HASH,
                "name": _nullable(STRING),
                "progress": PERCENT,
                "state": {
                    "enum": list(DOWNLOAD_STATES),
                    "description": "ours; qBittorrent's own word is `client_state`",
                },
                "client_state": _nullable(STRING),
                "is_season_pack": BOOLEAN,
            },
            {
                "release_type": _nullable({"enum": list(RELEASE_TYPES)}),
                "size": _nullable(COUNT),
                "episodes": {"type": "array", "items": SEASON_EPISODE},
                "updated_at": _nullable(TIME),
                "speed": _nullable({**NUMBER, "minimum": 0, "description": "bytes/s"}),
                "eta_s": _nullable({**NUMBER, "minimum": 0}),
                "size_left": _nullable(COUNT),
                "seeds": _nullable(INTEGER),
                "peers": _nullable(INTEGER),
                "quality": _nullable(STRING),
                "release_group": _nullable(STRING),
                "indexer": _nullable(STRING),
                "languages": _nullable({"type": "array", "items": STRING}),
                "custom_formats": _nullable({"type": "array", "items": STRING}),
                "reason": _nullable(STRING),
            },
        ),
        "TimelineEntry": _object(
            {
                "at": TIME,
                "source": {"enum": list(TIMELINE_SOURCES)},
                "event": {"type": "string", "description": "a short snake_case word"},
                "from_state": _nullable(STRING),
                "to_state": _nullable(STRING),
                "season": _nullable(INTEGER),
                "episode": _nullable(INTEGER),
                "detail": _nullable(STRING),
            }
        ),
        "RequestDetail": {
            "allOf": [
                _ref("RequestItem"),
                _object(
                    {
                        "episodes": {"type": "array", "items": _ref("Episode")},
                        "downloads": {"type": "array", "items": _ref("Download")},
                        "timeline": {
                            "type": "array",
                            "items": _ref("TimelineEntry"),
                            "description": "oldest first",
                        },
                    }
                ),
            ]
        },
        "RequestPage": _page(
            "RequestItem",
            "newest first",
            next_after=_nullable(
                {
                    "type": "string",
                    "description": "pass as `after` for the page that follows this one (cheap "
                    "at any depth, unlike `offset`); null when this page is not full",
                }
            ),
        ),
        "DeadLetter": _object(
            {
                "id": ID,
                "at": TIME,
                "actor": STRING,
                "error": STRING,
                "mail_id": _nullable(INTEGER),
                "source": _nullable(STRING),
                "kind": _nullable(STRING),
                "body": _nullable({"type": "string", "description": "the message as received"}),
            }
        ),
        "DeadLetterPage": _page("DeadLetter", "newest first"),
        "Dependency": _object(
            {
                "configured": BOOLEAN,
                "reachable": _nullable(
                    {"type": "boolean", "description": "null until it was asked"}
                ),
            },
            {
                "url": {"type": "string", "description": "credentials hidden"},
                "status": {"enum": ["unknown", "ok", "degraded"]},
                "reason": _nullable(STRING),
                "errors": COUNT,
                "last_ok_at": _nullable(TIME),
            },
        ),
        "Health": _object(
            {
                "status": {"enum": ["ok", "degraded", "failing"]},
                "database": _object(
                    {"reachable": BOOLEAN},
                    {
                        "error": STRING,
                        "outages": COUNT,
                        "unavailable_since": _nullable(TIME),
                        "dialect": {"enum": ["sqlite", "postgresql"]},
                        "writer": {"type": "object"},
                    },
                ),
                "dependencies": {
                    "type": "object",
                    "additionalProperties": _ref("Dependency"),
                },
            },
            {
                "uptime_s": {**NUMBER, "minimum": 0},
                "supervisor": _nullable({"type": "object"}),
                "inbox": {"type": "object"},
                "dead_letters": _object(
                    {
                        "count": _nullable(COUNT),
                        "recent": {
                            "type": "array",
                            "description": "ids and kinds only: bodies are on /api/dead-letters",
                            "items": _object(
                                {"id": ID, "at": TIME, "actor": STRING},
                                {"source": _nullable(STRING), "kind": _nullable(STRING)},
                            ),
                        },
                    }
                ),
                "refused_transitions": _nullable(COUNT),
                "waiting_for_library": COUNT,
                "problems": {"type": "array", "items": STRING},
                "dispatcher": {"type": "object"},
                "backlog": _object(
                    {
                        "replaying": BOOLEAN,
                        "at_start": _nullable(COUNT),
                        "applied_since_start": COUNT,
                        "started_at": TIME,
                        "drained_at": _nullable(TIME),
                    },
                    {"pending": _nullable(COUNT)},
                ),
                "live_feed": {"type": "object"},
                "recovery": {"type": "object"},
            },
        ),
        "EpisodeSelection": {
            "type": "object",
            "required": ["episodes"],
            "properties": {
                "episodes": {"type": "array", "minItems": 1, "items": SEASON_EPISODE},
            },
        },
        "FeedMessage": {
            "description": "one message of the live feed (`/ws`), a JSON text frame",
            "oneOf": [
                _object(
                    {
                        "type": {"const": "snapshot"},
                        "requests": {
                            "type": "array",
                            "items": _ref("RequestItem"),
                            "description": "the newest 200 active requests, newest first, "
                            "then the 50 most recently finished",
                        },
                        "active_total": {**COUNT, "description": "active requests in all"},
                        "more": _nullable(
                            _object({"state": STRING, "after": STRING})
                            | {
                                "description": "null when every active request is in "
                                "`requests`; else the query of `GET /api/requests` that lists "
                                "the rest (follow its `next_after`)"
                            }
                        ),
                    }
                ),
                _object({"type": {"const": "request"}, "request": _ref("RequestItem")}),
                _object(
                    {"type": {"const": "episode"}, "request_id": ID, "episode": _ref("Episode")}
                ),
                _object(
                    {
                        "type": {"const": "timeline"},
                        "request_id": ID,
                        "entry": _ref("TimelineEntry"),
                    }
                ),
            ],
        },
    }


def _page(item: str, order: str, **more: Schema) -> Schema:
    return _object(
        {
            "items": {"type": "array", "items": _ref(item), "description": order},
            "total": COUNT,
            "limit": {"type": "integer", "minimum": 1, "maximum": 500},
            "offset": COUNT,
            **more,
        }
    )


def _json(schema: Schema, description: str, **headers: Schema) -> Schema:
    response: Schema = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        response["headers"] = headers
    return response


RETRY_AFTER = {
    "description": "seconds to wait before trying again",
    "schema": {"type": "integer", "minimum": 0},
}


def _error(description: str, **headers: Schema) -> Schema:
    return _json(_ref("Error"), description, **headers)


# The errors any operation may answer: the admission gate's and the database's 503, a bug.
_ALWAYS = {
    "500": _error("internal error (the service log has the details)"),
    "503": _error(
        "the database is unavailable, or too many requests are in progress; retry later",
        **{"Retry-After": {**RETRY_AFTER, "required": True}},
    ),
}
_UNAUTHORIZED = {
    "401": _error(
        "missing or wrong secret",
        **{"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}},
    )
}
_BODY_ERRORS = {
    "408": _error("the body did not arrive within ST_BODY_TIMEOUT_S"),
    "413": _error("the body is too large"),
}


def _operation(
    operation_id: str,
    summary: str,
    responses: dict[str, Schema],
    *,
    tags: tuple[str, ...],
    security: list[dict[str, list[str]]] | None = None,
    parameters: list[Schema] | None = None,
    request_body: Schema | None = None,
    description: str | None = None,
) -> Schema:
    operation: Schema = {
        "operationId": operation_id,
        "summary": summary,
        "tags": list(tags),
        "responses": {**responses, **_ALWAYS},
    }
    if description:
        operation["description"] = description
    operation["security"] = security if security is not None else []
    if parameters:
        operation["parameters"] = parameters
    if request_body:
        operation["requestBody"] = request_body
    return operation


API_SECURITY = [{"bearer": []}, {"basic": []}, {"token": []}, {"session": []}]
WEBHOOK_SECURITY = [{"bearer": []}, {"basic": []}, {"token": []}]


def _path_id(what: str) -> Schema:
    return {
        "name": "id",
        "in": "path",
        "required": True,
        "description": f"the {what}'s id (ASCII digits, 0..2^63-1; anything else is a 404)",
        "schema": ID,
    }


PAGE_PARAMETERS = [
    {
        "name": "limit",
        "in": "query",
        "description": "items per page (a bad value is a 400 naming it)",
        "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
    },
    {
        "name": "offset",
        "in": "query",
        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID, "default": 0},
    },
]


def _paths() -> dict[str, Schema]:
    accepted_202 = _json(_ref("Accepted"), "accepted: applied shortly, in order")
    return {
        "/webhooks/{source}": {
            "post": _operation(
                "postWebhook",
                "A webhook from Jellyseerr, Sonarr, Radarr or the Jellyfin webhook plugin",
                {
                    "200": _json(_ref("Accepted"), "stored durably (or a test event)"),
                    "400": _error("the body is not JSON, or malformed for this source"),
                    **_UNAUTHORIZED,
                    "404": _error("unknown source"),
                    **_BODY_ERRORS,
                },
                tags=("webhooks",),
                security=WEBHOOK_SECURITY,
                description="Checks in this order: 401 without the webhook secret, 413 over "
                "1 MiB (exactly 1,048,576 bytes is accepted), 400 naming the problem. The body "
                "is read as JSON whatever the Content-Type. A test event answers 200 and "
                "changes nothing; an unknown event type answers 200, is recorded and changes "
                "nothing; the same body from the same source within an hour is one delivery "
                '(`"duplicate": true`).',
                parameters=[
                    {
                        "name": "source",
                        "in": "path",
                        "required": True,
                        "schema": {"enum": list(WEBHOOK_SOURCES)},
                    }
                ],
                request_body={
                    "required": True,
                    "content": {
                        "application/json": {"schema": {}},
                        "text/plain": {"schema": {"type": "string"}},
                    },
                },
            )
        },
        "/api/requests": {
            "get": _operation(
                "listRequests",
                "Media requests, newest first, filtered and paged",
                {
                    "200": _json(_ref("RequestPage"), "one page of requests"),
                    "400": _error("a filter or paging parameter is wrong (named)"),
                    **_UNAUTHORIZED,
                },
                tags=("requests",),
                security=API_SECURITY,
                parameters=[
                    {
                        "name": "state",
                        "in": "query",
                        "description": "comma-separated request states; any of them matches",
                        "schema": {"type": "string"},
                        "examples": {"active": {"value": "downloading,importing"}},
                    },
                    {
                        "name": "media_type",
                        "in": "query",
                        "schema": {"enum": ["movie", "tv"]},
                    },
                    {
                        "name": "q",
                        "in": "query",
                        "description": "title contains (case-insensitive)",
                        "schema": {"type": "string"},
                    },
                    *PAGE_PARAMETERS,
                    {
                        "name": "after",
                        "in": "query",
                        "description": "the `next_after` of the previous page: continues after "
                        "its last item (keyset paging; `offset` then skips further)",
                        "schema": {"type": "string"},
                    },
                ],
            )
        },
        "/api/requests/{id}": {
            "get": _operation(
                "getRequest",
                "One request with its episodes, downloads and timeline",
                {
                    "200": _json(_ref("RequestDetail"), "the request"),
                    **_UNAUTHORIZED,
                    "404": _error("no such request"),
                },
                tags=("requests",),
                security=API_SECURITY,
                parameters=[_path_id("request")],
            ),
            "delete": _operation(
                "deleteRequest",
                "Delete the request and its episodes, synced to Radarr/Sonarr when configured",
                {
                    "202": accepted_202,
                    **_UNAUTHORIZED,
                    "404": _error("no such request"),
                    "409": _error("already deleted"),
                },
                tags=("requests",),
                security=API_SECURITY,
                parameters=[_path_id("request")],
            ),
        },
        "/api/requests/{id}/episodes": {
            "delete": _operation(
                "deleteEpisodes",
                "Delete these episodes of a request, synced to Sonarr when configured",
                {
                    "202": accepted_202,
                    "400": _error(
                        "the body has another shape, or names an episode the request does not have"
                    ),
                    **_UNAUTHORIZED,
                    "404": _error("no such request"),
                    **_BODY_ERRORS,
                },
                tags=("requests",),
                security=API_SECURITY,
                parameters=[_path_id("request")],
                request_body={
                    "required": True,
                    "content": {"application/json": {"schema": _ref("EpisodeSelection")}},
                },
            )
        },
        "/api/dead-letters": {
            "get": _operation(
                "listDeadLetters",
                "Messages no actor could apply, with their bodies, newest first",
                {
                    "200": _json(_ref("DeadLetterPage"), "one page of dead letters"),
                    "400": _error("a paging parameter is wrong (named)"),
                    **_UNAUTHORIZED,
                },
                tags=("dead letters",),
                security=API_SECURITY,
                parameters=PAGE_PARAMETERS,
            )
        },
        "/api/dead-letters/{id}/retry": {
            "post": _operation(
                "retryDeadLetter",
                "Post the message again, as new mail applied after everything before it",
                {
                    "202": accepted_202,
                    **_UNAUTHORIZED,
                    "404": _error("no such dead letter"),
                    "409": _error("it kept no message body to post again"),
                },
                tags=("dead letters",),
                security=API_SECURITY,
                parameters=[_path_id("dead letter")],
            )
        },
        "/api/dead-letters/{id}": {
            "delete": _operation(
                "discardDeadLetter",
                "Forget a dead letter",
                {
                    "204": {"description": "forgotten"},
                    **_UNAUTHORIZED,
                    "404": _error("no such dead letter"),
                },
                tags=("dead letters",),
                security=API_SECURITY,
                parameters=[_path_id("dead letter")],
            )
        },
        "/health": {
            "get": _operation(
                "health",
                "Supervisor tree, database, dependencies, dead-letter count",
                {
                    "200": _json(_ref("Health"), "`ok` or `degraded` (a dependency is down)"),
                    "503": _json(
                        _ref("Health"),
                        "`failing`: the database is unreachable or the root supervisor gave "
                        "up; or the error body of the admission gate",
                        **{"Retry-After": RETRY_AFTER},
                    ),
                },
                tags=("service",),
                description="Needs no secret and shows none. Under a URL base it is "
                "`{ST_URL_BASE}/health`.",
            )
        },
        "/api/requests/{id}/check": {
            "post": _operation(
                "checkRequest",
                "Check again now: the recovery sweeper looks at this request within a second",
                {
                    "202": _json(_ref("Accepted"), "asked; the outcome is a timeline entry"),
                    "403": _error("the read-only view token may not do this"),
                    "404": _error("no such request"),
                    "409": _error("the request is finished"),
                    **_UNAUTHORIZED,
                },
                tags=("requests",),
                security=API_SECURITY,
                parameters=[_path_id("request")],
            )
        },
        "/metrics": {
            "get": _operation(
                "metrics",
                "Prometheus metrics (text exposition format)",
                {
                    "200": {
                        "description": "every `status_tracker_*` metric",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    **_UNAUTHORIZED,
                },
                tags=("service",),
                security=API_SECURITY,
                description="Needs the API token unless `ST_METRICS_PUBLIC=true`.",
            )
        },
        "/api/notifications/test": {
            "post": _operation(
                "testNotifications",
                "Send a test message to every configured notification target now",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["ok", "targets"],
                            "properties": {
                                "ok": {"type": "boolean"},
                                "targets": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["url", "ok"],
                                        "properties": {
                                            "url": {"type": "string"},
                                            "ok": {"type": "boolean"},
                                            "error": _nullable({"type": "string"}),
                                        },
                                    },
                                },
                            },
                        },
                        "what each target (by its redacted URL) answered",
                    ),
                    "409": _error("no notification target is configured"),
                    **_UNAUTHORIZED,
                },
                tags=("notifications",),
                security=API_SECURITY,
            )
        },
        "/openapi.json": {
            "get": _operation(
                "openapi",
                "This document",
                {"200": _json({"type": "object"}, "the OpenAPI 3.1 document")},
                tags=("service",),
            )
        },
        "/ws": {
            "get": _operation(
                "liveFeed",
                "The live feed (websocket)",
                {
                    "101": {
                        "description": "Switching to the websocket. The server sends JSON text "
                        "frames (`FeedMessage`): first a `snapshot` (every active request and "
                        "the 50 most recently finished, at most 200 active ones: `more` "
                        "says how to list the rest), then `request`, `episode` and "
                        "`timeline` messages as things change, coalesced to at most one per "
                        "entity every 250 ms.",
                        "content": {"application/json": {"schema": _ref("FeedMessage")}},
                    },
                    "400": _error("not a websocket handshake"),
                    **_UNAUTHORIZED,
                    "403": _error(
                        "a browser page from an origin that is not the service's own "
                        "nor in ST_ALLOWED_ORIGINS"
                    ),
                },
                tags=("live feed",),
                security=API_SECURITY,
                description="OpenAPI cannot describe a websocket: this is its HTTP handshake. "
                "The messages are described by the `FeedMessage` schema.",
                parameters=[
                    {
                        "name": "Upgrade",
                        "in": "header",
                        "required": True,
                        "schema": {"const": "websocket"},
                    }
                ],
            )
        },
        "/": {
            "get": _operation(
                "dashboard",
                "The dashboard, or the sign-in page without a live session",
                {
                    "200": {
                        "description": "the dashboard or the sign-in form",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    },
                    "303": {
                        "description": "`?token=` was the API token: a session starts (cookie) "
                        "and the browser is sent to the page without the token",
                        "headers": {
                            "Location": {"schema": {"type": "string"}, "required": True},
                            "Set-Cookie": {"schema": {"type": "string"}, "required": True},
                        },
                    },
                },
                tags=("dashboard",),
                parameters=[
                    {
                        "name": "token",
                        "in": "query",
                        "description": "the API token, to sign in once",
                        "schema": {"type": "string"},
                    }
                ],
            )
        },
        "/login": {
            "post": _operation(
                "login",
                "Sign in to the dashboard with the API token",
                {
                    "303": {
                        "description": "signed in: the session cookie (`HttpOnly`, "
                        "`SameSite=Strict`, `Secure` over HTTPS, `Path` the URL base) and "
                        "the way to the dashboard",
                        "headers": {
                            "Location": {"schema": {"type": "string"}, "required": True},
                            "Set-Cookie": {"schema": {"type": "string"}, "required": True},
                        },
                    },
                    "400": _error("not a sign-in form (too many fields)"),
                    "401": {
                        "description": "wrong API token: the form again for a browser, JSON "
                        "otherwise",
                        "content": {
                            "text/html": {"schema": {"type": "string"}},
                            "application/json": {"schema": _ref("Error")},
                        },
                    },
                    **_BODY_ERRORS,
                },
                tags=("dashboard",),
                request_body={
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "properties": {"token": {"type": "string"}},
                            }
                        }
                    },
                },
            )
        },
        "/logout": {
            "post": _operation(
                "logout",
                "End the dashboard session and clear its cookie",
                {
                    "303": {
                        "description": "signed out; back to the sign-in page",
                        "headers": {"Location": {"schema": {"type": "string"}, "required": True}},
                    }
                },
                tags=("dashboard",),
            )
        },
        "/static/{name}": {
            "get": _operation(
                "staticFile",
                "The dashboard's scripts and style (no data, no secret needed)",
                {
                    "200": {
                        "description": "the file; revalidate every time (`ETag`)",
                        "content": {
                            "text/javascript": {"schema": {"type": "string"}},
                            "text/css": {"schema": {"type": "string"}},
                        },
                    },
                    "304": {"description": "not modified (`If-None-Match`)"},
                    "404": _error("no such file"),
                },
                tags=("dashboard",),
                parameters=[
                    {
                        "name": "name",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                        "examples": {
                            "script": {"value": "app.js"},
                            "style": {"value": "dashboard.css"},
                        },
                    }
                ],
            )
        },
    }


@functools.cache
def _document(url_base: str) -> Schema:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "status-tracker",
            "version": VERSION,
            "summary": "Follows media requests from Jellyseerr to playable in Jellyfin.",
            "description": 'Every error on every route is JSON `{"error": "..."}`. '
            "The API needs the API token (Bearer, basic-auth password, `?token=`, or the "
            "dashboard's session cookie); the webhooks need the webhook secret the same ways. "
            "Responses may carry more properties than listed: fields get added.",
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "servers": [
            {"url": url_base or "/", "description": "the service, under ST_URL_BASE if set"}
        ],
        "tags": [
            {"name": name}
            for name in (
                "webhooks",
                "requests",
                "dead letters",
                "live feed",
                "service",
                "dashboard",
            )
        ],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "basic": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "the secret as the password; the user name is ignored",
                },
                "token": {"type": "apiKey", "in": "query", "name": "token"},
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "st_session",
                    "description": "the dashboard's session (POST /login)",
                },
            },
        },
    }


def document(url_base: str = "") -> Schema:
    """The OpenAPI document for a service under ``url_base`` (``""`` for none); a fresh copy."""
    return copy.deepcopy(_document(url_base))
