"""HTTP/1.1 over raw loopback sockets, for clients that misbehave on purpose."""

from __future__ import annotations

import json
import typing
import urllib.parse
from typing import Any

import attrs
import h11
import trio

CHUNK = 64 * 1024


@typing.final
@attrs.frozen(kw_only=True)
class Answer:
    """What the server did with one connection."""

    status: int | None
    headers: dict[str, str]
    body: bytes
    closed_by_server: bool
    after_s: float

    def json(self) -> Any:
        return json.loads(self.body)


def address(url: str) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    return parts.hostname, parts.port


def head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _response_reader() -> h11.Connection:
    """An h11 client ready to read one response (as if it had sent the request itself)."""
    client = h11.Connection(h11.CLIENT)
    client.send(h11.Request(method="POST", target="/", headers=[("Host", "x")]))
    return client


async def _received(stream: trio.SocketStream) -> bytes:
    """The next bytes from the server; empty once it closed (or reset) the connection."""
    try:
        return await stream.receive_some(CHUNK)
    except trio.BrokenResourceError:
        return b""


async def _read_answer(stream: trio.SocketStream, started: float) -> Answer:
    """Read one response, then wait for the server to close the connection."""
    client = _response_reader()
    status: int | None = None
    headers: dict[str, str] = {}
    body = bytearray()
    closed = False
    while True:
        data = await _received(stream)
        if not data:
            closed = True
            break
        client.receive_data(data)
        while (event := client.next_event()) is not h11.NEED_DATA:
            if isinstance(event, h11.Response):
                status = event.status_code
                headers = {k.decode(): v.decode() for k, v in event.headers}
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                break
    return Answer(
        status=status,
        headers=headers,
        body=bytes(body),
        closed_by_server=closed,
        after_s=trio.current_time() - started,
    )


async def send_slowly(
    url: str, request_head: bytes, *, piece: bytes = b"x", every_s: float = 0.25
) -> Answer:
    """Send ``request_head``, then trickle the body a piece at a time until the server answers
    and closes."""
    started = trio.current_time()
    stream = await trio.open_tcp_stream(*address(url))
    async with stream:
        await stream.send_all(request_head)
        answers: list[Answer] = []
        async with trio.open_nursery() as nursery:

            async def trickle() -> None:
                try:
                    while True:
                        await stream.send_all(piece)
                        await trio.sleep(every_s)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    return

            nursery.start_soon(trickle)
            answers.append(await _read_answer(stream, started))
            nursery.cancel_scope.cancel()
        return answers[0]


async def send_nothing(url: str, first: bytes = b"") -> Answer:
    """Connect (send ``first``, if any) and stay silent until the server closes the connection."""
    started = trio.current_time()
    stream = await trio.open_tcp_stream(*address(url))
    async with stream:
        await stream.send_all(first)
        return await _read_answer(stream, started)


async def exchange(stream: trio.SocketStream, request: bytes) -> int | None:
    """Send one request on an open connection and read its answer, leaving the connection
    open: the status, or None when the server closed the connection instead of answering."""
    client = _response_reader()
    try:
        await stream.send_all(request)
    except trio.BrokenResourceError:
        return None
    status: int | None = None
    while True:
        data = await _received(stream)
        if not data:
            return None
        client.receive_data(data)
        while (event := client.next_event()) is not h11.NEED_DATA:
            if isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.EndOfMessage):
                return status
