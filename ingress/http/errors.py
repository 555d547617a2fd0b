"""Every error on every route as JSON ``{"error": "..."}``, internals never shown."""

from __future__ import annotations

import logging
from typing import Any

from quart import Response, has_request_context, jsonify, request, websocket
from quart_trio import QuartTrio
from status_tracker.storage import DatabaseUnavailable
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import WebsocketMismatch

logger = logging.getLogger(__name__)

RETRY_AFTER_S = 5

ErrorReply = tuple[Response, int, dict[str, str]]


def error(status: int, message: str, **headers: str) -> ErrorReply:
    """A JSON error answer; keyword arguments become headers (``Retry_After`` → ``Retry-After``)."""
    return jsonify({"error": message}), status, {k.replace("_", "-"): v for k, v in headers.items()}


def unavailable(message: str) -> ErrorReply:
    """503 with ``Retry-After``: the database cannot take this now, the client should retry."""
    return error(503, message, Retry_After=str(RETRY_AFTER_S))


def unauthorized() -> ErrorReply:
    return error(401, "missing or wrong API token", WWW_Authenticate="Bearer")


def _asked() -> str:
    """What was asked, in words: ``GET /path``, or ``a websocket to /path``."""
    if has_request_context():
        return f"{request.method} {request.path}"
    return f"a websocket to {websocket.path}"


def install(app: QuartTrio) -> None:
    """Answer HTTP errors, an unreachable database and any bug as JSON."""

    @app.errorhandler(HTTPException)
    async def http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        if isinstance(exc, NotFound):
            return error(404, f"no such endpoint: {_asked()}")
        if isinstance(exc, WebsocketMismatch):
            if has_request_context():
                return error(400, f"{request.path} answers websockets only")
            return error(400, f"{websocket.path} is no websocket endpoint")
        if isinstance(exc, MethodNotAllowed) and has_request_context():
            reply = error(405, f"{request.method} is not allowed on {request.path}")
            if exc.valid_methods:
                reply[2]["Allow"] = ", ".join(sorted(exc.valid_methods))
            return reply
        return error(status, exc.description or exc.name)

    @app.errorhandler(DatabaseUnavailable)
    async def database_unavailable(exc: DatabaseUnavailable) -> Any:
        logger.warning("answered 503, database unavailable: %s", exc)
        return unavailable("the database is unavailable; retry shortly")

    @app.errorhandler(Exception)
    async def bug(exc: Exception) -> Any:
        logger.error("%s failed", _asked(), exc_info=exc)
        return error(500, "internal error; the service log has the details")
