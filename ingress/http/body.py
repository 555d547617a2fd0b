"""Reading a request body with a size cap and a deadline, so a slow client cannot hold it."""

from __future__ import annotations

import trio
from quart import Request
from werkzeug.exceptions import RequestEntityTooLarge, RequestTimeout


async def read_body(request: Request, *, limit: int, within_s: float) -> bytes:
    """The whole body, refused as soon as it is known to exceed ``limit`` bytes.

    Raises:
        RequestEntityTooLarge: the declared or received body is over ``limit`` (413).
        RequestTimeout: the body did not arrive within ``within_s`` seconds (408).
    """
    too_large = RequestEntityTooLarge(f"body over {limit} bytes")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    data = bytearray()
    with trio.move_on_after(within_s):
        async for chunk in request.body:
            data += chunk
            if len(data) > limit:
                raise too_large
        return bytes(data)
    raise RequestTimeout(f"the body did not arrive within {within_s:g} s")
