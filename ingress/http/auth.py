"""Checking the secrets webhooks and API clients present (constant-time), and sessions."""

from __future__ import annotations

import base64
import binascii
import hmac
import typing
import urllib.parse

import attrs
from hypercorn.typing import Scope
from quart import Request, Websocket
from werkzeug.datastructures import Headers, MultiDict
from werkzeug.http import parse_cookie

from . import sessions
from .sessions import ADMIN, VIEWER, Role, Sessions


def presented_secrets(headers: Headers, args: typing.Mapping[str, str]) -> list[str]:
    """Every secret the client sent: Bearer, basic-auth password, or ``?token=``."""
    secrets = []
    header = headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        secrets.append(value.strip())
    elif scheme.lower() == "basic" and value.strip():
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        if ":" in decoded:
            secrets.append(decoded.split(":", 1)[1])
    token = args.get("token")
    if token:
        secrets.append(token)
    return secrets


def matches(secret: str, presented: list[str]) -> bool:
    """True when any presented value equals ``secret`` (each compared in constant time)."""
    expected = secret.encode()
    found = False
    for candidate in presented:
        found |= hmac.compare_digest(candidate.encode(), expected)
    return found


MAX_QUERY_FIELDS = 100


def scope_credentials(scope: Scope) -> tuple[Headers, MultiDict[str, str]]:
    """The headers and query arguments of a raw ASGI scope, before any framework sees it.

    Raises:
        ValueError: the query string has more than ``MAX_QUERY_FIELDS`` fields.
    """
    headers = Headers([(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]])
    query = scope.get("query_string", b"").decode("latin-1")
    try:
        args = urllib.parse.parse_qsl(query, max_num_fields=MAX_QUERY_FIELDS)
    except ValueError:
        raise ValueError(f"the query string has more than {MAX_QUERY_FIELDS} fields") from None
    return headers, MultiDict(args)


def session_id(headers: Headers) -> str:
    """The session cookie's value; none (empty) when the Cookie header cannot be read."""
    try:
        return parse_cookie(headers.get("Cookie", "")).get(sessions.COOKIE, "")
    except UnicodeError:  # werkzeug reads a cookie's bytes as UTF-8
        return ""


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_ONLY_REFUSED_PREFIXES = ("/api/dead-letters",)
"""Paths a viewer may not even read: dead letters hold whole webhook bodies."""
OPEN_TO_VIEWERS = frozenset({"/login", "/logout"})


@typing.final
@attrs.frozen
class Access:
    """Who may do what: webhooks by their secret; the API by its token or an admin session;
    reads (the board, the API's GETs, the live feed) also by the view token or a viewer
    session. ``api`` says whether a request may read; ``role`` says which role it has."""

    webhook_token: str = attrs.field(repr=False)
    api_token: str = attrs.field(repr=False)
    sessions: Sessions
    view_token: str | None = attrs.field(default=None, repr=False)

    def webhook_in(self, headers: Headers, args: typing.Mapping[str, str]) -> bool:
        return matches(self.webhook_token, presented_secrets(headers, args))

    def api_token_in(self, headers: Headers, args: typing.Mapping[str, str]) -> bool:
        return matches(self.api_token, presented_secrets(headers, args))

    def view_token_in(self, headers: Headers, args: typing.Mapping[str, str]) -> bool:
        return self.view_token is not None and matches(
            self.view_token, presented_secrets(headers, args)
        )

    def sign_in_role(self, presented: list[str]) -> Role | None:
        """The role a sign-in with ``presented`` (a form's or ``?token=``) grants, if any."""
        if matches(self.api_token, presented):
            return ADMIN
        if self.view_token is not None and matches(self.view_token, presented):
            return VIEWER
        return None

    async def role(self, request: Request | Websocket) -> Role | None:
        """``admin`` (API token, admin session), ``viewer`` (view token, viewer session), None."""
        if self.api_token_in(request.headers, request.args):
            return ADMIN
        if self.view_token_in(request.headers, request.args):
            return VIEWER
        return await self.sessions.role(session_id(request.headers))

    async def api(self, request: Request | Websocket) -> bool:
        """May read: any role. Writes by a viewer are refused earlier, by ``refuses_viewer``."""
        return await self.role(request) is not None

    async def admin(self, request: Request | Websocket) -> bool:
        return await self.role(request) == ADMIN

    async def refuses_viewer(self, request: Request) -> bool:
        """True for a viewer asking for a change (any method but GET/HEAD/OPTIONS) or for the
        dead letters; the caller answers 403. Webhooks and signing in or out are not concerned."""
        if self.view_token is None:
            return False
        path = request.path
        if path.startswith("/webhooks/") or path in OPEN_TO_VIEWERS:
            return False
        writes = request.method not in READ_METHODS
        if not (writes or path.startswith(READ_ONLY_REFUSED_PREFIXES)):
            return False
        return await self.role(request) == VIEWER

    def privileged(self, scope: Scope) -> bool:
        """Cheaply: does this request present a token or a recently confirmed session?"""
        try:
            headers, args = scope_credentials(scope)
        except ValueError:
            return False
        return (
            self.api_token_in(headers, args)
            or self.view_token_in(headers, args)
            or self.sessions.known(session_id(headers))
        )
