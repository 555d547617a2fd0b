"""Reading a request body with a size cap and a deadline, so a slow client cannot hold it."""

from __future__ import annotations

from collections.abc import AsyncIterable

import trio
from quart import Request
from werkzeug.exceptions import RequestEntityTooLarge, RequestTimeout


async def read_body(request: Request, *, limit: int, within_s: float) -> bytes:
    """The whole body of a Quart request; see ``read_chunks``."""
    return await read_chunks(
        request.body, declared=request.content_length, limit=limit, within_s=within_s
    )


async def read_chunks(
    chunks: AsyncIterable[bytes], *, declared: int | None, limit: int, within_s: float
) -> bytes:
    """The whole body, refused as soon as it is known (``declared`` or received) to exceed
    ``limit`` bytes.

    Raises:
        RequestEntityTooLarge: the declared or received body is over ``limit`` (413).
        RequestTimeout: the body did not arrive within ``within_s`` seconds (408).
    """
    too_large = RequestEntityTooLarge(f"body over {limit} bytes")
    if declared is not None and declared > limit:
        raise too_large
    data = bytearray()
    with trio.move_on_after(within_s):
        async for chunk in chunks:
            data += chunk
            if len(data) > limit:
                raise too_large
        return bytes(data)
    raise RequestTimeout(f"the body did not arrive within {within_s:g} s")
