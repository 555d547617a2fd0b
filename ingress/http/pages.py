"""The dashboard and signing in and out (``/``, ``POST /login``, ``POST /logout``), and the
page's scripts and styles (``/static/<name>``).

Signing in with the API token (the form, or ``/?token=`` once) starts a session: a random id
in an ``HttpOnly``, ``SameSite=Strict`` cookie, ``Secure`` when the client came over HTTPS.
"""

from __future__ import annotations

import hashlib
import html
import importlib.resources
import urllib.parse
from typing import Any

from quart import Response, redirect, request
from quart_trio import QuartTrio

from . import auth, sessions
from .auth import Access
from .body import read_body
from .errors import error
from .origins import is_https
from .service import Service

MAX_LOGIN_BODY = 4 * 1024

_JS = "text/javascript; charset=utf-8"
# Only these files are served: the page's code and style hold no data, so they need no secret.
STATIC_FILES = {
    "app.js": _JS,
    "api.js": _JS,
    "board.js": _JS,
    "confirm.js": _JS,
    "detail.js": _JS,
    "dom.js": _JS,
    "feed.js": _JS,
    "filters.js": _JS,
    "format.js": _JS,
    "health.js": _JS,
    "words.js": _JS,
    "dashboard.css": "text/css; charset=utf-8",
}


def page(name: str) -> str:
    static = importlib.resources.files("status_tracker.ingress") / "http" / "static"
    return (static / name).read_text()


def html_page(name: str) -> str:
    """An HTML page under the URL base: its ``<base href>`` (what relative links and the URLs
    its scripts build from ``document.baseURI`` resolve against) and its form actions."""
    root = html.escape(request.root_path, quote=True)
    text = page(name).replace('<base href="/">', f'<base href="{root}/">', 1)
    return text.replace(' action="/', f' action="{root}/')


def home() -> str:
    """The dashboard's path: the URL base (``ST_URL_BASE``) with a slash."""
    return f"{request.root_path}/"


def static_file(name: str) -> bytes:
    static = importlib.resources.files("status_tracker.ingress") / "http" / "static"
    return (static / name).read_bytes()


def install(app: QuartTrio, service: Service, access: Access) -> None:
    config = service.config

    # Quart's own static route (/static/<path:filename>, a folder we do not have) matches less
    # specifically than this one, which wins for every single-segment name.
    @app.get("/static/<name>", endpoint="dashboard_static")
    async def dashboard_static(name: str) -> Any:
        content_type = STATIC_FILES.get(name)
        if content_type is None:
            return error(404, "no such file")
        body = static_file(name)
        response = Response(body, content_type=content_type)
        # Revalidated on every load (cheap: 304 by ETag), so an upgrade is never half-applied.
        response.cache_control.no_cache = True
        response.set_etag(hashlib.sha256(body).hexdigest()[:32])
        response.headers["X-Content-Type-Options"] = "nosniff"
        return await response.make_conditional(request)

    async def signed_in(role: sessions.Role = sessions.ADMIN) -> Response:
        response = redirect(home(), 303)
        response.set_cookie(
            sessions.COOKIE,
            await access.sessions.begin(role),
            max_age=int(access.sessions.lifetime_s),
            path=request.root_path or "/",
            httponly=True,
            samesite="Strict",
            secure=is_https(request, config.trusted_proxies),
        )
        return response

    @app.get("/")
    async def dashboard() -> Any:
        token = request.args.get("token")
        role = access.sign_in_role([token]) if token else None
        if role is not None:
            return await signed_in(role)
        role = await access.sessions.role(auth.session_id(request.headers))
        if role is None:
            return Response(html_page("login.html"), mimetype="text/html")
        # The page shows a viewer no action the server would refuse it.
        board = html_page("dashboard.html").replace("<body>", f'<body data-role="{role}">', 1)
        return Response(board, mimetype="text/html")

    @app.post("/login")
    async def login() -> Any:
        raw = await read_body(request, limit=MAX_LOGIN_BODY, within_s=config.body_timeout_s)
        try:
            form = urllib.parse.parse_qs(raw.decode("utf-8", "replace"), max_num_fields=10)
        except ValueError:
            return error(400, "the sign-in form has too many fields")
        role = access.sign_in_role(form.get("token", [])[:1])
        if role is not None:
            return await signed_in(role)
        if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
            wrong = html_page("login.html").replace(
                "<!--error-->", "<p class=error>Wrong token.</p>"
            )
            return Response(wrong, status=401, mimetype="text/html")
        return error(401, "wrong API token")

    @app.post("/logout")
    async def logout() -> Any:
        await access.sessions.end(auth.session_id(request.headers))
        response = redirect(home(), 303)
        response.delete_cookie(
            sessions.COOKIE,
            path=request.root_path or "/",
            httponly=True,
            samesite="Strict",
            secure=is_https(request, config.trusted_proxies),
        )
        return response
