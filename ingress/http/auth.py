"""Checking the secrets webhooks and API clients present (constant-time)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from quart import Request, Websocket

SESSION_COOKIE = "st_session"


def presented_secrets(request: Request | Websocket) -> list[str]:
    """Every secret the client sent: Bearer, basic-auth password, or ``?token=``."""
    secrets = []
    header = request.headers.get("Authorization", "")
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
    token = request.args.get("token")
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


def session_value(api_token: str) -> str:
    """The dashboard cookie: derived from the API token, so it changes when the token does."""
    return hmac.new(
        api_token.encode(), b"status-tracker dashboard session", hashlib.sha256
    ).hexdigest()


def has_session(request: Request | Websocket, api_token: str) -> bool:
    cookie = request.cookies.get(SESSION_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), session_value(api_token).encode())


def api_allowed(request: Request | Websocket, api_token: str) -> bool:
    return matches(api_token, presented_secrets(request)) or has_session(request, api_token)
