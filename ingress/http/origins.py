"""Where a request came from: its scheme and origin (behind trusted proxies only) and the
Origin check of the live feed.

``X-Forwarded-Proto`` and ``X-Forwarded-Host`` are believed only from an address listed in
``ST_TRUSTED_PROXIES``; anyone else could send them to pass as the service itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from quart import Request, Websocket

from status_tracker.strict import Network, normalise_origin

_SECURE_SCHEMES = ("https", "wss")




def from_trusted_proxy(request: Request | Websocket, proxies: Sequence[Network]) -> bool:
    """True when the peer's address is one of ``proxies``."""
    client = request.scope.get("client")
    if not client:
        return False
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in proxies)


def _forwarded(request: Request | Websocket, name: str) -> str | None:
    value = request.headers.get(name, "").split(",")[0].strip()
    return value or None


def is_https(request: Request | Websocket, proxies: Sequence[Network]) -> bool:
    """True when the client reached us over TLS, directly or through a trusted proxy."""
    if request.scheme in _SECURE_SCHEMES:
        return True
    forwarded = (
        _forwarded(request, "X-Forwarded-Proto") if from_trusted_proxy(request, proxies) else None
    )
    return forwarded is not None and forwarded.lower() in _SECURE_SCHEMES


def own_origin(request: Request | Websocket, proxies: Sequence[Network]) -> str | None:
    """The service's origin as the client addressed it (``scheme://host``), or None."""
    scheme = "https" if is_https(request, proxies) else "http"
    host = _forwarded(request, "X-Forwarded-Host") if from_trusted_proxy(request, proxies) else None
    host = host or request.headers.get("Host", "")
    try:
        return normalise_origin(f"{scheme}://{host}")
    except ValueError:
        return None


def origin_allowed(
    request: Request | Websocket, proxies: Sequence[Network], allowed: Sequence[str]
) -> bool:
    """A browser page may use the feed only from the service's own origin or an allowed one.

    A client that sends no ``Origin`` is not a browser page, so it is not refused here.
    """
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    try:
        origin = normalise_origin(origin)
    except ValueError:
        return False
    return origin == own_origin(request, proxies) or origin in allowed
