"""The Shoko SignalR listener: a permanent child that keeps one hub connection open, reconnecting.

SignalR does not replay missed events, so ``on_resync`` follows every handshake.
"""

from __future__ import annotations

import logging
import random
import typing
import urllib.parse
from collections.abc import Awaitable, Callable

import attrs
import httpx
import trio
import trio_websocket
from status_tracker.actors.shoko_matcher.messages import ShokoFact
from status_tracker.clients import (
    DependencyHealth,
    HealthState,
    UnreadableAnswer,
    read_answer,
    redact_url,
    transport_problem,
)

from status_tracker.strict import load_json

from .protocol import (
    HANDSHAKE,
    PING,
    Close,
    HandshakeResponse,
    Invocation,
    MalformedFrame,
    NegotiationFailed,
    OtherMessage,
    encode,
    negotiated_connection_token,
    parse_record,
    split_records,
    translate_invocation,
)

logger = logging.getLogger(__name__)

MAX_MESSAGE_SIZE: typing.Final = 1024 * 1024
_STABLE_CONNECTION: typing.Final = 60.0
"""Seconds a connection must stay up for the next reconnect to start from the initial backoff."""
_CLOSE_TIMEOUT: typing.Final = 5.0
"""Longest wait for the server to finish a WebSocket close handshake before dropping the socket."""

_HUB_PATH = "/signalr/aggregate"
_FEEDS = "shoko"
_MESSAGE_QUEUE_SIZE = 4

ListenerState = typing.Literal["connecting", "connected", "disconnected"]


@typing.final
@attrs.frozen(kw_only=True)
class ShokoStatus:
    """What /health shows about the Shoko connection; times are in Trio-clock seconds.

    Attributes:
        reachable: None before the first connection attempt ended either way; True while a
            handshake succeeded and the connection holds; False after it failed or ended.
        status: ``ok`` while connected, ``degraded`` (see ``reason``) otherwise, ``unknown``
            before the first attempt ended.
        reason: why the last connection failed or ended, while not connected.
        errors: connections that failed or ended, plus malformed records skipped.
        last_ok_at: when the last handshake succeeded (ISO 8601 UTC).
        state: ``connecting`` (negotiating or handshaking), ``connected``, or ``disconnected``
            (waiting out the backoff).
        connected_since: when the current connection's handshake succeeded.
        reconnects: connection attempts made after the first one.
        last_error: why the last connection failed or ended; kept after reconnecting.
        events: Shoko facts handed to ``on_event``.
        malformed_frames: records skipped because they could not be understood.
        last_resync: when ``on_resync`` last returned normally.
    """

    reachable: bool | None
    status: HealthState
    reason: str | None
    errors: int
    last_ok_at: str | None
    state: ListenerState
    connected_since: float | None
    reconnects: int
    last_error: str | None
    events: int
    malformed_frames: int
    last_resync: float | None


@attrs.frozen(kw_only=True)
class _Ending:
    """Why one connection ended, and whether the server allows coming back soon."""

    reason: str
    allow_reconnect: bool = True


class _ConnectionRefused(Exception):
    """Negotiation or the SignalR handshake did not lead to a usable connection."""


_CONNECTION_FAILURES = (
    _ConnectionRefused,
    NegotiationFailed,
    httpx.HTTPError,
    httpx.InvalidURL,
    trio_websocket.HandshakeError,
    trio_websocket.ConnectionClosed,
)


@typing.final
class ShokoListener:
    """Listens to Shoko's ``shoko`` feed for as long as it runs, reconnecting with backoff.

    Args:
        base_url: Shoko's root URL (``http://shoko:8111``); ``https`` gives a ``wss`` socket.
        api_key: sent as the ``apikey`` header (Shoko reads it there or from the query); never
            logged.
        on_event: receives every Shoko fact, in order; its exceptions are logged and dropped.
        on_resync: called after every successful handshake, before any event of that
            connection; it should hand the reconciliation off quickly, since nothing is read
            while it runs.
        ping_interval: seconds between the hub Pings this client sends.
        server_timeout: seconds of silence from the server (while waiting for it) after which
            the connection is considered dead; also bounds negotiation and the handshake.
        max_message_size: longest WebSocket message accepted; a longer one closes with 1009.
        backoff_initial: first reconnect delay, doubled after each further failure.
        backoff_max: longest reconnect delay, also used when the server forbids reconnecting.
        http: client for the negotiate request; a private one is created when None.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        on_event: Callable[[ShokoFact], Awaitable[None]],
        on_resync: Callable[[], Awaitable[None]],
        *,
        ping_interval: float = 15.0,
        server_timeout: float = 30.0,
        max_message_size: int = MAX_MESSAGE_SIZE,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        base_url = base_url.rstrip("/")
        scheme, _, authority_and_path = base_url.partition("://")
        if scheme not in ("http", "https") or not authority_and_path:
            raise ValueError(
                f"the Shoko URL must start with http:// or https://: {redact_url(base_url)!r}"
            )
        self._base_url = base_url
        self._websocket_base = f"{'wss' if scheme == 'https' else 'ws'}://{authority_and_path}"
        self._api_key = api_key
        self._on_event = on_event
        self._on_resync = on_resync
        self._ping_interval = ping_interval
        self._server_timeout = server_timeout
        self._max_message_size = max_message_size
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._http = http
        self._state: ListenerState = "connecting"
        self._connected_since: float | None = None
        self._reconnects = 0
        self._last_error: str | None = None
        self._events = 0
        self._malformed_frames = 0
        self._last_resync: float | None = None
        self._health = DependencyHealth("Shoko")

    def status(self) -> ShokoStatus:
        """A snapshot of the connection for /health."""
        health = self._health.status()
        return ShokoStatus(
            reachable=health.reachable,
            status=health.status,
            reason=health.reason,
            errors=health.errors + self._malformed_frames,
            last_ok_at=health.last_ok_at,
            state=self._state,
            connected_since=self._connected_since,
            reconnects=self._reconnects,
            last_error=self._last_error,
            events=self._events,
            malformed_frames=self._malformed_frames,
            last_resync=self._last_resync,
        )

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Connect, listen and reconnect until cancelled; started at once, even if Shoko is down."""
        task_status.started()
        if self._http is None:
            async with httpx.AsyncClient() as http:
                await self._reconnect_forever(http)
        else:
            await self._reconnect_forever(self._http)

    async def _reconnect_forever(self, http: httpx.AsyncClient) -> typing.NoReturn:
        delay = self._backoff_initial
        while True:
            self._state = "connecting"
            ending = await self._connect_and_listen(http)
            uptime = 0.0
            if self._connected_since is not None:
                uptime = trio.current_time() - self._connected_since
            self._state = "disconnected"
            self._connected_since = None
            self._last_error = ending.reason
            if uptime >= _STABLE_CONNECTION:
                delay = self._backoff_initial
            pause = delay if ending.allow_reconnect else self._backoff_max
            # Jitter keeps many listeners from reconnecting in step after a server restart.
            pause *= random.uniform(0.5, 1.0)
            self._health.failed(ending.reason)
            logger.debug("Reconnecting to Shoko in %.2f s", pause)
            await trio.sleep(pause)
            delay = min(self._backoff_max, delay * 2)
            self._reconnects += 1

    async def _connect_and_listen(self, http: httpx.AsyncClient) -> _Ending:
        """One connection from negotiation to its end; failures become the returned reason."""
        ending: _Ending | None = None
        try:
            connection_token = await self._negotiate(http)
            async with trio_websocket.open_websocket_url(
                self._websocket_url(connection_token),
                extra_headers=[(b"apikey", self._api_key.encode())],
                message_queue_size=_MESSAGE_QUEUE_SIZE,
                max_message_size=self._max_message_size,
                connect_timeout=self._server_timeout,
                disconnect_timeout=min(_CLOSE_TIMEOUT, self._server_timeout),
            ) as websocket:
                pending_records = await self._handshake(websocket)
                self._state = "connected"
                self._connected_since = trio.current_time()
                self._health.answered()
                logger.info("Connected to Shoko at %s", redact_url(self._base_url))
                ending = await self._listen(websocket, pending_records)
        except _CONNECTION_FAILURES as exc:
            # Closing can fail after the server already said why it left; its reason matters more.
            if ending is None:
                ending = _Ending(reason=_failure_reason(exc))
        return ending

    async def _negotiate(self, http: httpx.AsyncClient) -> str | None:
        """The connection token to open the WebSocket with; None when Shoko has no negotiate."""
        try:
            response = await read_answer(
                http,
                "POST",
                f"{self._base_url}{_HUB_PATH}/negotiate",
                params={"negotiateVersion": "1", "feeds": _FEEDS},
                headers={"apikey": self._api_key},
                read_timeout=self._server_timeout,
            )
        except UnreadableAnswer as exc:
            raise _ConnectionRefused(f"negotiate {exc.problem}") from None
        # SignalR lets WebSocket clients skip negotiation, so a server without it is still usable.
        if response.status_code in (httpx.codes.NOT_FOUND, httpx.codes.METHOD_NOT_ALLOWED):
            return None
        if response.status_code != httpx.codes.OK:
            raise _ConnectionRefused(f"negotiate answered HTTP {response.status_code}")
        try:
            answer = load_json(response.content)
        except ValueError as exc:
            raise _ConnectionRefused("negotiate answered something other than JSON") from exc
        return negotiated_connection_token(answer)

    def _websocket_url(self, connection_token: str | None) -> str:
        # The api key goes only in a header: trio-websocket logs the URL it connects to.
        query = {"feeds": _FEEDS}
        if connection_token is not None:
            query["id"] = connection_token
        return f"{self._websocket_base}{_HUB_PATH}?{urllib.parse.urlencode(query)}"

    async def _handshake(self, websocket: trio_websocket.WebSocketConnection) -> list[str]:
        """Send the handshake and check the answer; returns records that followed it."""
        await websocket.send_message(encode(HANDSHAKE))
        answer: str | bytes | None = None
        with trio.move_on_after(self._server_timeout):
            answer = await websocket.get_message()
        if answer is None:
            raise _ConnectionRefused(
                f"no answer to the SignalR handshake within {self._server_timeout} s"
            )
        if isinstance(answer, bytes):
            raise _ConnectionRefused("a binary answer to the JSON SignalR handshake")
        records = split_records(answer)
        try:
            response = parse_record(records[0]) if records else None
        except MalformedFrame as exc:
            raise _ConnectionRefused(f"a malformed handshake answer: {exc.reason}") from exc
        if not isinstance(response, HandshakeResponse):
            raise _ConnectionRefused(f"a {type(response).__name__} before the handshake answer")
        if response.error is not None:
            raise _ConnectionRefused(f"Shoko refused the SignalR handshake: {response.error}")
        return records[1:]

    async def _listen(
        self, websocket: trio_websocket.WebSocketConnection, pending_records: list[str]
    ) -> _Ending:
        """Resync, then read until the connection ends, sending keep-alive Pings alongside."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._keep_alive, websocket)
            await self._resync()
            ending = await self._read(websocket, pending_records)
            nursery.cancel_scope.cancel()
        return ending

    async def _keep_alive(self, websocket: trio_websocket.WebSocketConnection) -> None:
        ping = encode(PING)
        while True:
            await trio.sleep(self._ping_interval)
            try:
                await websocket.send_message(ping)
            except trio_websocket.ConnectionClosed:
                return  # the reader sees the same closure and reports it

    async def _resync(self) -> None:
        try:
            await self._on_resync()
        except Exception:
            logger.exception("Resynchronising after connecting to Shoko failed")
            return
        self._last_resync = trio.current_time()

    async def _read(
        self, websocket: trio_websocket.WebSocketConnection, records: list[str]
    ) -> _Ending:
        """Handle records until the server closes, the socket drops, or the server goes silent.

        The silence deadline (the watchdog) only runs while waiting for the server, so time
        spent in ``on_event`` is never mistaken for a dead connection.
        """
        while True:
            for record in records:
                ending = await self._handle(record)
                if ending is not None:
                    return ending
            message: str | bytes | None = None
            with trio.move_on_after(self._server_timeout):
                try:
                    message = await websocket.get_message()
                except trio_websocket.ConnectionClosed as exc:
                    return _Ending(reason=_closed_reason(exc.reason))
            if message is None:
                return _Ending(reason=f"nothing from Shoko for {self._server_timeout} s")
            if isinstance(message, bytes):
                self._skip_malformed("a binary message, which the JSON protocol never sends")
                records = []
            else:
                records = split_records(message)

    async def _handle(self, record: str) -> _Ending | None:
        """Act on one record; returns why the connection must end, if it must."""
        try:
            message = parse_record(record)
        except MalformedFrame as exc:
            self._skip_malformed(exc.reason)
            return None
        match message:
            case Invocation():
                await self._deliver(message)
            case Close(error=error, allow_reconnect=allow_reconnect):
                return _Ending(
                    reason=f"Shoko closed the connection ({error or 'no error given'})",
                    allow_reconnect=allow_reconnect,
                )
            case HandshakeResponse():
                self._skip_malformed("a second handshake answer")
            case OtherMessage(type=message_type):
                logger.debug("Ignoring a SignalR message of type %d from Shoko", message_type)
        return None

    async def _deliver(self, invocation: Invocation) -> None:
        try:
            fact = translate_invocation(invocation)
        except MalformedFrame as exc:
            self._skip_malformed(exc.reason)
            return
        if fact is None:
            return
        self._events += 1
        try:
            await self._on_event(fact)
        except Exception:
            logger.exception("Handling the Shoko event %s failed", invocation.target)

    def _skip_malformed(self, reason: str) -> None:
        self._malformed_frames += 1
        logger.warning("Skipping a malformed SignalR record from Shoko: %s", reason)


def _closed_reason(reason: trio_websocket.CloseReason | None) -> str:
    if reason is None:
        return "the WebSocket closed"
    detail = f": {reason.reason}" if reason.reason else ""
    return f"the WebSocket closed with {reason.code} {reason.name}{detail}"


def _failure_reason(exc: Exception) -> str:
    """Describe a connection failure in a sentence for logs and status."""
    match exc:
        case trio_websocket.ConnectionRejected(status_code=status_code):
            return f"Shoko refused the WebSocket with HTTP {status_code}"
        case trio_websocket.ConnectionTimeout():
            return "opening the WebSocket timed out"
        case trio_websocket.DisconnectionTimeout():
            return "closing the WebSocket timed out"
        case trio_websocket.HandshakeError():
            return f"could not open the WebSocket: {exc.__cause__!r}"
        case trio_websocket.ConnectionClosed(reason=reason):
            return _closed_reason(reason)
        case httpx.HTTPError() | httpx.InvalidURL():
            return f"negotiate failed: {type(exc).__name__} ({transport_problem(exc)})"
    return str(exc)
