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
from .sessions import Sessions


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


def scope_credentials(scope: Scope) -> tuple[Headers, MultiDict[str, str]]:
    """The headers and query arguments of a raw ASGI scope, before any framework sees it."""
    headers = Headers([(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]])
    query = scope.get("query_string", b"").decode("latin-1")
    return headers, MultiDict(urllib.parse.parse_qsl(query, max_num_fields=100))


def session_id(headers: Headers) -> str:
    return parse_cookie(headers.get("Cookie", "")).get(sessions.COOKIE, "")


@typing.final
@attrs.frozen
class Access:
    """Who may do what: webhooks by their secret, the API by its token or a session."""

    webhook_token: str = attrs.field(repr=False)
    api_token: str = attrs.field(repr=False)
    sessions: Sessions

    def webhook(self, request: Request) -> bool:
        return matches(self.webhook_token, presented_secrets(request.headers, request.args))

    def api_token_in(self, headers: Headers, args: typing.Mapping[str, str]) -> bool:
        return matches(self.api_token, presented_secrets(headers, args))

    async def api(self, request: Request | Websocket) -> bool:
        """The API token was presented, or the dashboard session cookie is live."""
        if self.api_token_in(request.headers, request.args):
            return True
        return await self.sessions.valid(session_id(request.headers))

    def privileged(self, scope: Scope) -> bool:
        """Cheaply: does this request present the API token or a recently confirmed session?"""
        headers, args = scope_credentials(scope)
        return self.api_token_in(headers, args) or self.sessions.known(session_id(headers))
