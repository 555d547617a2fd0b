"""A fake Shoko hub speaking real SignalR: negotiate and the hub WebSocket on one loopback port.

h11 reads requests and upgrades are replayed into trio-websocket, so the fake keeps the raw socket.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import struct
import typing
import urllib.parse
from collections.abc import AsyncIterator, Callable

import attrs
import h11
import trio
import trio_websocket

HUB_PATH: typing.Final = "/signalr/aggregate"
SEPARATOR: typing.Final = "\x1e"
PING_TYPE: typing.Final = 6
_MAX_REQUEST_BYTES = 65536
_CLOSE_GRACE = 1.0


def record(message: dict[str, typing.Any]) -> str:
    """One hub-protocol record: the JSON object and its separator."""
    return json.dumps(message) + SEPARATOR


@typing.final
@attrs.frozen(kw_only=True)
class RecordedRequest:
    """One HTTP request the hub received (negotiate or WebSocket upgrade), headers lower-cased."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@typing.final
class _ReplayedStream(trio.abc.Stream):
    """A socket stream whose first read returns bytes already taken from it."""

    def __init__(self, already_read: bytes, stream: trio.SocketStream) -> None:
        self._already_read = already_read
        self._stream = stream

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        if self._already_read:
            data, self._already_read = self._already_read, b""
            await trio.lowlevel.checkpoint()
            return data
        return await self._stream.receive_some(max_bytes)

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self._stream.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self._stream.wait_send_all_might_not_block()

    async def aclose(self) -> None:
        await self._stream.aclose()


@attrs.frozen
class _HubConnection:
    websocket: trio_websocket.WebSocketConnection
    socket_stream: trio.SocketStream


@typing.final
class FakeShokoHub:
    """Shoko's ``/signalr/aggregate`` hub with the ``shoko`` feed, driven by a test.

    It does not use ``ingress.shoko.protocol``, so a mistake there cannot hide in both ends.

    Flags a test may flip at any time:
        require_negotiate: a WebSocket must carry an ``id`` issued by negotiate (else 404).
        negotiate_enabled: False makes negotiate answer 404, like a server without it.
        silent: the hub stops sending anything on its own (handshake answers, OnConnected,
            pings), as a hung server would; what the test sends explicitly still goes out.
        handshake_error: answer handshakes with this error instead of ``{}``, then close.
    """

    def __init__(self, api_key: str, *, ping_interval: float) -> None:
        self.url = ""
        self.require_negotiate = True
        self.negotiate_enabled = True
        self.silent = False
        self.handshake_error: str | None = None
        self.handshakes = 0
        self.disconnections = 0
        self.negotiate_requests = 0
        self.pings_received = 0
        self.pings_sent = 0
        self.requests: list[RecordedRequest] = []
        self.handshake_requests: list[object] = []
        self.other_messages: list[object] = []
        self.close_codes: list[int | None] = []
        self.last_sent_at: float | None = None
        self._api_key = api_key
        self._ping_interval = ping_interval
        self._connection_tokens: set[str] = set()
        self._connection: _HubConnection | None = None
        self._changed = trio.Event()

    @property
    def connected(self) -> bool:
        """A client has completed the handshake and is still connected."""
        return self._connection is not None

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        """Return once ``condition()`` holds, re-checked whenever the hub's state changes.

        It waits for as long as it takes: callers bound it with ``trio.fail_after``.
        """
        while not condition():
            await self._changed.wait()

    async def wait_connected(self, count: int = 1) -> None:
        """Wait until ``count`` handshakes have completed and a client is connected."""
        await self.wait_for(lambda: self.handshakes >= count and self.connected)

    async def wait_disconnected(self, count: int = 1) -> None:
        """Wait until ``count`` hub connections have ended."""
        await self.wait_for(lambda: self.disconnections >= count)

    async def send_event(self, target: str, argument: object) -> None:
        """Invoke ``target`` on the connected client with one argument, as Shoko's emitters do."""
        await self.send_raw(record({"type": 1, "target": target, "arguments": [argument]}))

    async def send_raw(self, text: str) -> None:
        """Send ``text`` as one WebSocket text message, records and separators included."""
        await self._send(self._current(), text)

    async def close_from_server(
        self, error: str | None = None, *, allow_reconnect: bool = True
    ) -> None:
        """Send a hub Close message, then close the WebSocket normally, as ASP.NET Core does."""
        connection = self._current()
        message: dict[str, typing.Any] = {"type": 7}
        if error is not None:
            message["error"] = error
        if allow_reconnect:
            message["allowReconnect"] = True
        await self._send(connection, record(message))
        await connection.websocket.aclose()

    async def drop_connection(self) -> None:
        """Reset the client's TCP connection without any WebSocket close frame."""
        stream = self._current().socket_stream
        stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        await stream.aclose()

    async def serve_connection(self, stream: trio.SocketStream) -> None:
        """Answer one TCP connection: a negotiate request or a hub WebSocket."""
        async with stream:
            with contextlib.suppress(
                h11.RemoteProtocolError,
                trio.BrokenResourceError,
                trio.ClosedResourceError,
                trio_websocket.ConnectionClosed,
            ):
                await self._serve_request(stream)

    def _current(self) -> _HubConnection:
        if self._connection is None:
            raise RuntimeError("no client is connected to the fake Shoko hub")
        return self._connection

    def _changed_state(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def _send(self, connection: _HubConnection, text: str) -> None:
        await connection.websocket.send_message(text)
        self.last_sent_at = trio.current_time()

    async def _serve_request(self, stream: trio.SocketStream) -> None:
        http = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_REQUEST_BYTES)
        received = bytearray()
        request = await _next_event(http, stream, received)
        if not isinstance(request, h11.Request):
            return
        while not isinstance(event := await _next_event(http, stream, received), h11.EndOfMessage):
            if isinstance(event, h11.ConnectionClosed):
                return
        target = urllib.parse.urlsplit(request.target.decode())
        recorded = RecordedRequest(
            method=request.method.decode(),
            path=target.path,
            query=dict(urllib.parse.parse_qsl(target.query)),
            headers={name.decode().lower(): value.decode() for name, value in request.headers},
        )
        self.requests.append(recorded)
        status, body = await self._route(recorded, stream, bytes(received))
        if status is not None:
            response = h11.Response(
                status_code=status,
                headers=[
                    ("content-type", "application/json"),
                    ("content-length", str(len(body))),
                    ("connection", "close"),
                ],
            )
            await stream.send_all(
                http.send(response) + http.send(h11.Data(data=body)) + http.send(h11.EndOfMessage())
            )

    async def _route(
        self, request: RecordedRequest, stream: trio.SocketStream, raw_request: bytes
    ) -> tuple[int | None, bytes]:
        """The HTTP answer to send, or (None, b"") once a hub WebSocket has been served."""
        # Shoko v5 reads the key from the header or the query; v6 requires it, and so does the fake.
        if self._api_key not in (request.headers.get("apikey"), request.query.get("apikey")):
            return 401, b'{"error": "Unauthorized"}'
        if "shoko" not in request.query.get("feeds", "").lower().split(","):
            return 400, b'{"error": "the shoko feed was not requested"}'
        if request.method == "POST" and request.path == f"{HUB_PATH}/negotiate":
            self.negotiate_requests += 1
            if not self.negotiate_enabled or request.query.get("negotiateVersion") != "1":
                return 404, b""
            return 200, self._negotiate()
        is_upgrade = request.headers.get("upgrade", "").lower() == "websocket"
        if request.method == "GET" and request.path == HUB_PATH and is_upgrade:
            connection_token = request.query.get("id")
            if connection_token is None and self.require_negotiate:
                return 404, b'{"error": "negotiate first"}'
            if connection_token is not None and connection_token not in self._connection_tokens:
                return 404, b'{"error": "No Connection with that ID"}'
            self._connection_tokens.discard(connection_token or "")
            await self._serve_hub(stream, raw_request)
            return None, b""
        return 404, b""

    def _negotiate(self) -> bytes:
        connection_token = secrets.token_urlsafe(16)
        self._connection_tokens.add(connection_token)
        return json.dumps(
            {
                "negotiateVersion": 1,
                "connectionId": secrets.token_urlsafe(16),
                "connectionToken": connection_token,
                "availableTransports": [
                    {"transport": "WebSockets", "transferFormats": ["Text", "Binary"]},
                    {"transport": "ServerSentEvents", "transferFormats": ["Text"]},
                    {"transport": "LongPolling", "transferFormats": ["Text", "Binary"]},
                ],
            }
        ).encode()

    async def _serve_hub(self, stream: trio.SocketStream, raw_request: bytes) -> None:
        async with trio.open_nursery() as nursery:
            request = await trio_websocket.wrap_server_stream(
                nursery, _ReplayedStream(raw_request, stream)
            )
            connection = _HubConnection(websocket=await request.accept(), socket_stream=stream)
            try:
                await self._converse(connection)
            finally:
                if self._connection is connection:
                    self._connection = None
                closed = connection.websocket.closed
                self.close_codes.append(closed.code if closed else None)
                self.disconnections += 1
                self._changed_state()
                # trio-websocket's reader must live on to finish the close handshake.
                nursery.cancel_scope.deadline = trio.current_time() + _CLOSE_GRACE

    async def _converse(self, connection: _HubConnection) -> None:
        """The SignalR conversation on one WebSocket, until either side ends it."""
        with contextlib.suppress(trio_websocket.ConnectionClosed):
            await self._answer_handshake(connection)
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._ping_periodically, connection)
                await self._read_until_closed(connection.websocket)
                nursery.cancel_scope.cancel()

    async def _answer_handshake(self, connection: _HubConnection) -> None:
        first, _, rest = str(await connection.websocket.get_message()).partition(SEPARATOR)
        handshake = json.loads(first)
        self.handshake_requests.append(handshake)
        error = self.handshake_error
        if handshake != {"protocol": "json", "version": 1}:
            error = "Requested protocol is not available."
        if error is not None:
            await self._send(connection, record({"error": error}))
            await connection.websocket.aclose()
            return
        if not self.silent:
            await self._send(connection, record({}))
            self.handshakes += 1
            self._connection = connection
            self._changed_state()
            await self._send(
                connection,
                record({"type": 1, "target": "ShokoEvent:OnConnected", "arguments": [None]}),
            )
        self._count(rest)

    async def _read_until_closed(self, websocket: trio_websocket.WebSocketConnection) -> None:
        while True:
            try:
                message = await websocket.get_message()
            except trio_websocket.ConnectionClosed:
                return
            self._count(str(message))

    def _count(self, text: str) -> None:
        for part in text.split(SEPARATOR):
            if not part:
                continue
            message = json.loads(part)
            if message.get("type") == PING_TYPE:
                self.pings_received += 1
            else:
                self.other_messages.append(message)
        self._changed_state()

    async def _ping_periodically(self, connection: _HubConnection) -> None:
        while True:
            await trio.sleep(self._ping_interval)
            if self.silent:
                continue
            try:
                await self._send(connection, record({"type": PING_TYPE}))
            except trio_websocket.ConnectionClosed:
                return
            self.pings_sent += 1


async def _next_event(
    http: h11.Connection, stream: trio.SocketStream, received: bytearray
) -> typing.Any:
    while True:
        event = http.next_event()
        if event is not h11.NEED_DATA:
            return event
        data = await stream.receive_some(_MAX_REQUEST_BYTES)
        received += data
        http.receive_data(data)


@contextlib.asynccontextmanager
async def open_fake_shoko(
    api_key: str, *, ping_interval: float = 15.0
) -> AsyncIterator[FakeShokoHub]:
    """Serve a fake hub on a free loopback port until the block exits.

    Args:
        api_key: the only key the hub accepts.
        ping_interval: seconds between the hub's own Pings (ASP.NET Core's default is 15).
    """
    hub = FakeShokoHub(api_key, ping_interval=ping_interval)
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    async with trio.open_nursery() as nursery:
        await nursery.start(trio.serve_listeners, hub.serve_connection, listeners)
        hub.url = f"http://127.0.0.1:{port}"
        try:
            yield hub
        finally:
            nursery.cancel_scope.cancel()
