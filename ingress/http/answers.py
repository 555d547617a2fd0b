"""JSON answers sent as plain ASGI, by the parts in front of Quart (admission, the URL base,
webhooks), in the form Quart gives its own: compact JSON and a final newline."""

from __future__ import annotations

from typing import Any

from hypercorn.typing import ASGISendCallable

from status_tracker import json_text


async def send_json(
    send: ASGISendCallable, status: int, body: dict[str, Any], *headers: tuple[str, str]
) -> None:
    """Send ``body`` as a whole ``application/json`` answer with ``headers`` added."""
    data = json_text.dumps(body) + b"\n"
    fields = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
        *((name.encode(), value.encode()) for name, value in headers),
    ]
    await send({"type": "http.response.start", "status": status, "headers": fields})
    await send({"type": "http.response.body", "body": data, "more_body": False})
