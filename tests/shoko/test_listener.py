"""The Shoko listener against a fake hub over real loopback sockets: delivery, keep-alive,
reconnection and resync.

Intervals are short (pings every 0.2 s, silence limit 0.6 s); every wait is for a condition under
a ``trio.fail_after`` deadline, and fixed sleeps appear only where a test checks that nothing
happens.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import attrs
import httpx
import pytest
import trio
from status_tracker.actors.shoko_matcher.messages import ShokoFact, ShokoFileEvent
from status_tracker.ingress.shoko import ShokoListener

from tests.support.fake_shoko import HUB_PATH, FakeShokoHub, open_fake_shoko, record
from tests.support.fixtures import load_fixture

API_KEY = "api-key-that-must-never-be-logged"
PING_INTERVAL = 0.2
SERVER_TIMEOUT = 0.6
WAIT = 5.0
RESYNC = "resync"


def argument_of(name: str) -> Any:
    return load_fixture(f"shoko/{name}")["arguments"][0]


@attrs.define
class Recorder:
    """The listener's callbacks: remembers facts and resyncs in the order they came."""

    failing_events: int = 0
    failing_resyncs: int = 0
    calls: list[ShokoFact | str] = attrs.field(factory=list)

    async def on_event(self, fact: ShokoFact) -> None:
        self.calls.append(fact)
        if self.failing_events:
            self.failing_events -= 1
            raise RuntimeError("the tracker could not take this event")

    async def on_resync(self) -> None:
        self.calls.append(RESYNC)
        if self.failing_resyncs:
            self.failing_resyncs -= 1
            raise RuntimeError("reconciliation failed")

    @property
    def facts(self) -> list[ShokoFact]:
        return [call for call in self.calls if not isinstance(call, str)]

    @property
    def resyncs(self) -> int:
        return self.calls.count(RESYNC)


def make_listener(
    url: str, recorder: Recorder, *, api_key: str = API_KEY, **overrides: Any
) -> ShokoListener:
    options: dict[str, Any] = {
        "ping_interval": PING_INTERVAL,
        "server_timeout": SERVER_TIMEOUT,
        "backoff_initial": 0.05,
        "backoff_max": 0.1,
    }
    return ShokoListener(
        url, api_key, recorder.on_event, recorder.on_resync, **(options | overrides)
    )


@contextlib.asynccontextmanager
async def running(listener: ShokoListener) -> AsyncIterator[ShokoListener]:
    async with trio.open_nursery() as nursery:
        await nursery.start(listener.run)
        yield listener
        nursery.cancel_scope.cancel()


async def eventually(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` until it holds; the caller's ``fail_after`` bounds the wait."""
    while True:
        if condition():
            return
        await trio.sleep(0.01)


@pytest.fixture
async def hub() -> AsyncIterator[FakeShokoHub]:
    async with open_fake_shoko(API_KEY, ping_interval=PING_INTERVAL) as fake:
        yield fake


async def test_it_negotiates_handshakes_resyncs_then_delivers_events_in_order(
    hub: FakeShokoHub,
) -> None:
    recorder = Recorder()
    async with running(make_listener(hub.url, recorder)) as listener:
        with trio.fail_after(WAIT):
            await hub.wait_connected()
            for name, target in [
                ("file_detected.json", "ShokoEvent:FileDetected"),
                ("file_hashed.json", "ShokoEvent:FileHashed"),
                ("file_matched.json", "ShokoEvent:FileMatched"),
            ]:
                await hub.send_event(target, argument_of(name))
            await eventually(lambda: len(recorder.facts) == 3)
        status = listener.status()
    assert recorder.calls[0] == RESYNC
    kinds = [fact.kind for fact in recorder.facts if isinstance(fact, ShokoFileEvent)]
    assert kinds == ["detected", "hashed", "matched"]
    assert hub.handshake_requests == [{"protocol": "json", "version": 1}]
    negotiate, upgrade = hub.requests
    assert negotiate.method == "POST"
    assert negotiate.query == {"negotiateVersion": "1", "feeds": "shoko"}
    assert negotiate.headers["apikey"] == API_KEY
    assert upgrade.path == HUB_PATH
    assert upgrade.query["feeds"] == "shoko"
    assert upgrade.query["id"]
    assert upgrade.headers["apikey"] == API_KEY
    assert "apikey" not in upgrade.query
    assert status.state == "connected"
    assert status.connected_since is not None
    assert status.last_resync is not None
    assert (status.events, status.malformed_frames, status.reconnects) == (3, 0, 0)
    assert status.last_error is None


async def test_one_message_holding_three_records_delivers_both_events(hub: FakeShokoHub) -> None:
    recorder = Recorder()
    async with running(make_listener(hub.url, recorder)) as listener:
        with trio.fail_after(WAIT):
            await hub.wait_connected()
            await hub.send_raw(load_fixture("shoko/ws_text_message_multi_frame.json")["raw"])
            await eventually(lambda: len(recorder.facts) == 2)
        assert listener.status().malformed_frames == 0
    hashed, matched = recorder.facts
    assert isinstance(hashed, ShokoFileEvent)
    assert isinstance(matched, ShokoFileEvent)
    assert (hashed.kind, hashed.has_cross_references) == ("hashed", False)
    assert (matched.kind, matched.has_cross_references) == ("matched", True)


async def test_pings_flow_both_ways_and_keep_an_idle_connection_up(hub: FakeShokoHub) -> None:
    recorder = Recorder()
    async with running(make_listener(hub.url, recorder)) as listener:
        with trio.fail_after(WAIT):
            await hub.wait_connected()
            await hub.wait_for(lambda: hub.pings_received >= 3 and hub.pings_sent >= 3)
        # Only pings cross for several silence limits; the connection must survive them.
        await trio.sleep(3 * SERVER_TIMEOUT)
        assert (hub.handshakes, hub.disconnections) == (1, 0)
        assert listener.status().state == "connected"
        assert hub.other_messages == []


async def test_malformed_records_are_counted_and_skipped_on_a_live_connection(
    hub: FakeShokoHub,
) -> None:
    recorder = Recorder()
    async with running(make_listener(hub.url, recorder)) as listener:
        with trio.fail_after(WAIT):
            await hub.wait_connected()
            await hub.send_raw("not json\x1e")
            await hub.send_raw(
                record(
                    {
                        "type": 1,
                        "target": "ShokoEvent:FileMatched",
                        "arguments": [{"RelativePath": "/a.mkv", "FileID": "51208"}],
                    }
                )
            )
            await hub.send_raw('[1, 2]\x1e{"type": 6}\x1e')
            await hub.send_event("ShokoEvent:FileHashed", argument_of("file_hashed.json"))
            await eventually(lambda: len(recorder.facts) == 1)
        assert (hub.handshakes, hub.disconnections) == (1, 0)
        status = listener.status()
    assert (status.malformed_frames, status.events) == (3, 1)


async def test_an_oversized_message_closes_with_1009_and_reconnects(hub: FakeShokoHub) -> None:
    recorder = Recorder()
    async with running(make_listener(hub.url, recorder, max_message_size=1024)) as listener:
        with trio.fail_after(WAIT):
            await hub.wait_connected()
            await hub.send_event("ShokoEvent:FileDetected", {"RelativePath": "/" + "x" * 2000})
            await hub.wait_connected(2)
            await eventually(lambda: recorder.resyncs == 2)
        status = listener.status()
    assert hub.close_codes[0] == 1009
    assert "1009" in (status.last_error or "")
    assert recorder.facts == []


async def test_a_server_close_reconnects_and_resyncs_again(hub: FakeShokoHub) -> None:
    recorder = Recorder()
    async with running(make_listener(hub.url, recorder)) as listener:
        with trio.fail_after(WAIT):
            await hub.wait_connected()
            await hub.close_from_server("Connection closed with an error.", allow_reconnect=True)
            await hub.wait_connected(2)
            await eventually(lambda: recorder.resyncs == 2)
            await hub.send_event("ShokoEvent:FileHashed", argument_of("file_hashed.json"))
            await eventually(lambda: len(recorder.facts) == 1)
        status = listener.status()
    assert recorder.calls == [RESYNC, RESYNC, *recorder.facts]
    assert hub.negotiate_requests == 2
    assert status.reconnects == 1
    assert status.state == "connected"
    assert "Connection closed with an error." in (status.last_error or "")


async def test_a_close_forbidding_reconnect_waits_for_the_longest_backoff(
    hub: FakeShokoHub,
) -> None:
    recorder = Recorder()
    listener = make_listener(hub.url, recorder, backoff_initial=0.01, backoff_max=0.5)
    async with running(listener):
        with trio.fail_after(WAIT):
            await hub.wait_connected()
            closed_at = trio.current_time()
            await hub.close_from_server("Server is shutting down.", allow_reconnect=False)
            await hub.wait_connected(2)
        # The jitter never shortens a delay below half of it.
        assert trio.current_time() - closed_at >= 0.25


async def test_a_dropped_connection_reconnects_and_resyncs(hub: FakeShokoHub) -> None:
    recorder = Recorder()
    async with running(make_listener(hub.url, recorder)) as listener:
        with trio.fail_after(WAIT):
            await hub.wait_connected()
            await hub.drop_connection()
            await hub.wait_connected(2)
            await eventually(lambda: recorder.resyncs == 2)
        status = listener.status()
    assert "1006" in (status.last_error or "")
    assert status.reconnects == 1


async def test_a_silent_server_is_recycled_by_the_watchdog(hub: FakeShokoHub) -> None:
    recorder = Recorder()
    async with running(make_listener(hub.url, recorder)) as listener:
        with trio.fail_after(WAIT):
            await hub.wait_connected()
            hub.silent = True
            silenced_at = trio.current_time()
            await hub.wait_disconnected()
        recycled_at = trio.current_time()
        assert hub.last_sent_at is not None
        assert recycled_at - hub.last_sent_at >= SERVER_TIMEOUT
        assert recycled_at - silenced_at <= SERVER_TIMEOUT + PING_INTERVAL
        with trio.fail_after(WAIT):
            await eventually(lambda: listener.status().last_error is not None)
        assert "nothing from Shoko" in (listener.status().last_error or "")
        hub.silent = False
        with trio.fail_after(WAIT):
            await hub.wait_connected(2)
            await eventually(lambda: recorder.resyncs == 2)


async def test_a_server_that_never_answers_the_handshake_is_retried(hub: FakeShokoHub) -> None:
    hub.silent = True
    recorder = Recorder()
    async with running(make_listener(hub.url, recorder)) as listener:
        with trio.fail_after(WAIT):
            await eventually(lambda: listener.status().reconnects >= 1)
        assert "no answer to the SignalR handshake" in (listener.status().last_error or "")
        assert recorder.resyncs == 0
        hub.silent = False
        with trio.fail_after(WAIT):
            await hub.wait_connected()
            await eventually(lambda: recorder.resyncs == 1)


async def test_a_refused_handshake_is_retried_without_resync(hub: FakeShokoHub) -> None:
    hub.handshake_error = "Requested protocol is not available."
    recorder = Recorder()
    async with running(make_listener(hub.url, recorder)) as listener:
        with trio.fail_after(WAIT):
            await eventually(lambda: listener.status().reconnects >= 2)
        assert listener.status().last_error == (
            "Shoko refused the SignalR handshake: Requested protocol is not available."
        )
        assert recorder.resyncs == 0
        hub.handshake_error = None
        with trio.fail_after(WAIT):
            await hub.wait_connected()


async def test_without_negotiate_it_connects_directly(hub: FakeShokoHub) -> None:
    hub.negotiate_enabled = False
    hub.require_negotiate = False
    recorder = Recorder()
    async with running(make_listener(hub.url, recorder)):
        with trio.fail_after(WAIT):
            await hub.wait_connected()
            await eventually(lambda: recorder.resyncs == 1)
    negotiate, upgrade = hub.requests
    assert negotiate.path == f"{HUB_PATH}/negotiate"
    assert upgrade.path == HUB_PATH
    assert "id" not in upgrade.query


async def test_an_exception_from_on_event_is_logged_and_the_connection_stays(
    hub: FakeShokoHub, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder(failing_events=1)
    async with running(make_listener(hub.url, recorder)) as listener:
        with trio.fail_after(WAIT):
            await hub.wait_connected()
            await hub.send_event("ShokoEvent:FileHashed", argument_of("file_hashed.json"))
            await hub.send_event("ShokoEvent:FileMatched", argument_of("file_matched.json"))
            await eventually(lambda: len(recorder.facts) == 2)
        assert listener.status().events == 2
        assert (hub.handshakes, hub.disconnections) == (1, 0)
    assert "Handling the Shoko event ShokoEvent:FileHashed failed" in caplog.text


async def test_a_failing_resync_is_logged_and_events_still_flow(hub: FakeShokoHub) -> None:
    recorder = Recorder(failing_resyncs=1)
    async with running(make_listener(hub.url, recorder)) as listener:
        with trio.fail_after(WAIT):
            await hub.wait_connected()
            await hub.send_event("ShokoEvent:FileHashed", argument_of("file_hashed.json"))
            await eventually(lambda: len(recorder.facts) == 1)
        assert listener.status().last_resync is None
        assert hub.disconnections == 0


async def test_it_starts_at_once_and_reports_a_shoko_that_is_down() -> None:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    await listeners[0].aclose()
    recorder = Recorder()
    async with running(make_listener(f"http://127.0.0.1:{port}", recorder)) as listener:
        assert listener.status().state == "connecting"
        with trio.fail_after(WAIT):
            await eventually(lambda: listener.status().reconnects >= 2)
        status = listener.status()
    assert status.state in ("connecting", "disconnected")
    assert status.connected_since is None
    assert (status.last_error or "").startswith("negotiate failed: ConnectError")


async def test_a_wrong_api_key_is_reported_and_retried(hub: FakeShokoHub) -> None:
    recorder = Recorder()
    async with running(make_listener(hub.url, recorder, api_key="wrong")) as listener:
        with trio.fail_after(WAIT):
            await eventually(lambda: listener.status().reconnects >= 1)
        assert listener.status().last_error == "negotiate answered HTTP 401"
    assert hub.handshakes == 0


async def test_the_api_key_never_reaches_logs_or_status(
    hub: FakeShokoHub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    recorder = Recorder()
    async with running(make_listener(hub.url, recorder)) as listener:
        with trio.fail_after(WAIT):
            await hub.wait_connected()
            await hub.drop_connection()
            await hub.wait_connected(2)
            await hub.close_from_server("bye")
            await hub.wait_connected(3)
        status = listener.status()
    assert caplog.records
    assert API_KEY not in caplog.text
    assert API_KEY not in repr(status)


async def test_reconnect_delays_double_with_jitter_up_to_the_maximum(
    autojump_clock: trio.testing.MockClock,
) -> None:
    attempts: list[float] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(trio.current_time())
        raise httpx.ConnectError("connection refused", request=request)

    recorder = Recorder()
    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        listener = make_listener(
            "http://shoko.invalid:8111", recorder, backoff_initial=1.0, backoff_max=8.0, http=http
        )
        async with running(listener):
            await trio.sleep(60)
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    ceilings = [min(8.0, 2.0**failure) for failure in range(len(gaps))]
    assert len(gaps) >= 8
    assert all(ceiling / 2 <= gap <= ceiling for gap, ceiling in zip(gaps, ceilings, strict=True))
    assert len(set(gaps[4:])) > 1  # jittered, not a fixed 8 s


def test_the_base_url_must_be_http_or_https() -> None:
    recorder = Recorder()
    with pytest.raises(ValueError, match="http:// or https://"):
        ShokoListener("ws://shoko:8111", API_KEY, recorder.on_event, recorder.on_resync)
