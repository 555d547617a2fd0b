"""A tiny HTTP/1.1 server (h11 on Trio) for fakes of services that cannot run here."""

from __future__ import annotations

import contextlib
import typing
from collections.abc import AsyncIterator, Callable, Mapping

import h11
import trio

MAX_REQUEST_BYTES: typing.Final = 65536

Answer = Callable[[str, str, Mapping[str, str], bytes], tuple[int, str, bytes]]
"""(method, target, lower-cased headers, request body) -> (status, content type, body)."""


async def _next_event(connection: h11.Connection, stream: trio.SocketStream) -> typing.Any:
    while True:
        event = connection.next_event()
        if event is not h11.NEED_DATA:
            return event
        connection.receive_data(await stream.receive_some(MAX_REQUEST_BYTES))


async def _serve_connection(answer: Answer, stream: trio.SocketStream) -> None:
    """Answer HTTP/1.1 requests on one connection until the client closes it."""
    connection = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_REQUEST_BYTES)
    async with stream:
        with contextlib.suppress(h11.RemoteProtocolError, trio.BrokenResourceError):
            while True:
                request = await _next_event(connection, stream)
                if not isinstance(request, h11.Request):
                    return
                received = bytearray()
                while not isinstance(
                    event := await _next_event(connection, stream), h11.EndOfMessage
                ):
                    if isinstance(event, h11.Data):
                        received += event.data
                headers = {name.decode().lower(): value.decode() for name, value in request.headers}
                status, content_type, body = answer(
                    request.method.decode(), request.target.decode(), headers, bytes(received)
                )
                response = h11.Response(
                    status_code=status,
                    headers=[("content-type", content_type), ("content-length", str(len(body)))],
                )
                payload = b"" if request.method == b"HEAD" else body
                await stream.send_all(
                    connection.send(response)
                    + connection.send(h11.Data(data=payload))
                    + connection.send(h11.EndOfMessage())
                )
                if connection.our_state is not h11.DONE:
                    return
                connection.start_next_cycle()


@contextlib.asynccontextmanager
async def open_fake_server(answer: Answer) -> AsyncIterator[str]:
    """Serve ``answer`` on a free loopback port until the block exits; yields the base URL."""
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    async with trio.open_nursery() as nursery:
        await nursery.start(
            trio.serve_listeners, lambda stream: _serve_connection(answer, stream), listeners
        )
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            nursery.cancel_scope.cancel()
