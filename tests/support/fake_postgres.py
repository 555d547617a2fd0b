"""A PostgreSQL that takes a connection, then never answers: a paused server, a hung disk.

It speaks the start of the real protocol (declines TLS, trusts the user, reports its version
and is ready for a query) and reads whatever follows, answering nothing; a cancel request's
connection is closed, as a server does.
"""

from __future__ import annotations

import contextlib
import functools
import struct
from collections.abc import AsyncIterator

import trio

_SSL_REQUEST = 80877103
_CANCEL_REQUEST = 80877102


def _message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


_READY = (
    _message(b"R", struct.pack("!i", 0))  # AuthenticationOk
    + _message(b"S", b"server_version\x0015.0\x00")
    + _message(b"S", b"server_encoding\x00UTF8\x00")
    + _message(b"S", b"client_encoding\x00UTF8\x00")
    + _message(b"K", struct.pack("!ii", 1, 2))  # BackendKeyData
    + _message(b"Z", b"I")  # ReadyForQuery, idle
)


async def _exactly(stream: trio.SocketStream, size: int) -> bytes:
    got = b""
    while len(got) < size:
        chunk = await stream.receive_some(size - len(got))
        if not chunk:
            raise EOFError
        got += chunk
    return got


async def _take_then_stall(stream: trio.SocketStream) -> None:
    try:
        length, code = struct.unpack("!ii", await _exactly(stream, 8))
        if code == _SSL_REQUEST:
            await stream.send_all(b"N")
            length, code = struct.unpack("!ii", await _exactly(stream, 8))
        if code == _CANCEL_REQUEST:
            return
        await _exactly(stream, length - 8)  # the startup parameters
        await stream.send_all(_READY)
        while await stream.receive_some(65536):
            pass  # a query: no answer, ever
    except (EOFError, trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    finally:
        await stream.aclose()


@contextlib.asynccontextmanager
async def open_stalling_postgres() -> AsyncIterator[int]:
    """Serve on a loopback port; yields the port."""
    async with trio.open_nursery() as nursery:
        serve = functools.partial(trio.serve_tcp, _take_then_stall, 0, host="127.0.0.1")
        listeners = await nursery.start(serve)
        yield listeners[0].socket.getsockname()[1]
        nursery.cancel_scope.cancel()
