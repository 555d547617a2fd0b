"""A lean HTTP/1.1 sender for the load generators: one keep-alive connection, each request's
bytes made before the clock starts, an answer read by its status line and Content-Length.

httpx spent about a millisecond of CPU on each POST (header models, pool bookkeeping, JSON
encoding), more than the servers measured spend answering it. On a two-core machine the
load generator then ran out of CPU before the server did: a bare app answering 200 used half
a core, and a ratio against it measured how much CPU the server left the generator, not how
fast it answered. This one spends a few tens of microseconds on a POST.
"""

from __future__ import annotations

import json
import typing
from urllib.parse import urlsplit

import attrs
import trio

MAX_HEAD = 64 * 1024


class Dropped(Exception):
    """The connection ended, or could not be made, before a whole answer arrived."""


@typing.final
@attrs.frozen
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def post_bytes(url: str, path: str, body: object, headers: dict[str, str]) -> bytes:
    """The whole POST of ``body`` as JSON to ``path`` on the server at ``url``."""
    content = json.dumps(body).encode()
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {urlsplit(url).netloc}",
        "Content-Type: application/json",
        f"Content-Length: {len(content)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return "\r\n".join(lines).encode() + b"\r\n\r\n" + content


@typing.final
class Connection:
    """One keep-alive connection to the server at ``url``, made again after it drops."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"an http://host:port URL is needed, not {url!r}")
        self._host = parts.hostname
        self._port = parts.port
        self._stream: trio.SocketStream | None = None
        self._buffer = bytearray()

    async def send(self, request: bytes) -> Answer:
        """Send one request and read its answer; ``Dropped`` if the connection ends first (the
        next request opens a new one)."""
        try:
            if self._stream is None:
                self._stream = await trio.open_tcp_stream(self._host, self._port)
                self._buffer.clear()
            await self._stream.send_all(request)
            answer = await self._read_answer()
        except (OSError, trio.BrokenResourceError, trio.ClosedResourceError, Dropped) as exc:
            await self.close()
            raise Dropped(str(exc)) from exc
        if answer.headers.get("connection", "").lower() == "close":
            await self.close()
        return answer

    async def close(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.aclose()

    async def _read_answer(self) -> Answer:
        while (end := self._buffer.find(b"\r\n\r\n")) < 0:
            if len(self._buffer) > MAX_HEAD:
                raise Dropped("an answer's head over 64 KiB")
            await self._receive()
        head = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
        del self._buffer[: end + 4]
        status = int(head[0].split(" ", 2)[1])
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" not in headers:
            raise Dropped(f"an answer without Content-Length: {head[0]}")
        length = int(headers["content-length"])
        while len(self._buffer) < length:
            await self._receive()
        body = bytes(self._buffer[:length])
        del self._buffer[:length]
        return Answer(status, headers, body)

    async def _receive(self) -> None:
        assert self._stream is not None
        data = await self._stream.receive_some(65536)
        if not data:
            raise Dropped("the server closed the connection")
        self._buffer += data
