"""The actors that read dependencies outlive bad replies and database outages (virtual time)."""

from __future__ import annotations

import json
import logging
import math
import typing

import attrs
import httpx
import pytest
import trio
import trio.testing
from status_tracker.actors.availability_verifier import AvailabilityVerifier
from status_tracker.actors.clock import WallClock
from status_tracker.actors.download_poller import DownloadPoller, next_interval
from status_tracker.actors.envelope import Applied, Deliver
from status_tracker.actors.media_request.messages import DeletionSyncWanted
from status_tracker.actors.runtime import Wakeup
from status_tracker.actors.service_sync import ServiceSync
from status_tracker.clients import JellyfinClient, QBittorrentClient, SonarrClient
from status_tracker.storage import DatabaseUnavailable, DownloadWatch, Op, RecordDeadLetter

from status_tracker.domain import RequestRow
from tests.support.fake_jellyfin import FakeJellyfin
from tests.support.fake_qbittorrent import FakeQBittorrent
from tests.support.mock_transport import mock_transport

if typing.TYPE_CHECKING:
    from collections.abc import Mapping

HASH = "b4a1e3d27c9f0a5e6d8c1b2a3f4e5d6c7b8a9f01"
ACTIVE, IDLE = 5.0, 30.0
N_A = json.dumps({"rid": 1, "full_update": True, "torrents": {HASH: {"progress": "n/a"}}})


@attrs.define
class OutageStore:
    """The few store calls the watchers make, down (DatabaseUnavailable) until ``down_until``."""

    downloads: list[DownloadWatch] = attrs.Factory(list)
    waiting: list[RequestRow] = attrs.Factory(list)
    down_until: float = -math.inf
    commits: list[list[Op]] = attrs.Factory(list)

    async def _answer(self) -> None:
        await trio.lowlevel.checkpoint()
        if trio.current_time() < self.down_until:
            raise DatabaseUnavailable("the database is down")

    async def unfinished_downloads(self) -> list[DownloadWatch]:
        await self._answer()
        return list(self.downloads)

    async def requests_in_states(self, _states: object) -> list[RequestRow]:
        await self._answer()
        return list(self.waiting)

    async def load_episodes(self, _request_id: int) -> list[object]:
        await self._answer()
        return []

    async def mail_applied(self, _mail_id: int) -> bool:
        return False

    async def commit(self, ops: list[Op]) -> None:
        await self._answer()
        self.commits.append(ops)

    async def wait_available(self) -> None:
        await trio.sleep_until(self.down_until)


def downloading() -> DownloadWatch:
    return DownloadWatch(
        hash=HASH,
        name="Horimiya",
        progress=10.0,
        state="downloading",
        client_state="downloading",
        episode_count=1,
        has_files=False,
    )


@attrs.define
class PollerRig:
    fake: FakeQBittorrent
    store: OutageStore
    poller: DownloadPoller
    wakeup: Wakeup
    sync_times: list[float]
    sent: list[Deliver]


def poller_rig(http: httpx.AsyncClient | None, store: OutageStore) -> PollerRig:
    fake = FakeQBittorrent("admin", "pw")
    fake.add_torrent(HASH, progress=0.25)
    sync_times: list[float] = []
    sent: list[Deliver] = []

    def answer(
        method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, str, bytes]:
        if target.startswith("/api/v2/sync/maindata"):
            sync_times.append(trio.current_time())
        return fake.answer(method, target, headers, body)

    async def send(_hash: str, deliver: Deliver) -> None:
        sent.append(deliver)

    client = QBittorrentClient(
        "http://qbt.test",
        "admin",
        "pw",
        http=http or httpx.AsyncClient(transport=mock_transport(answer)),
    )
    wakeup = Wakeup()
    poller = DownloadPoller(
        client=client,
        store=store,
        send=send,
        active_interval=ACTIVE,
        idle_interval=IDLE,
        wakeup=wakeup,
    )
    return PollerRig(fake, store, poller, wakeup, sync_times, sent)


def warnings_about(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


async def test_the_poller_survives_rounds_of_garbage_logs_once_and_recovers(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    rig = poller_rig(None, OutageStore(downloads=[downloading()]))
    rig.fake.answer_garbage(N_A)
    async with trio.open_nursery() as nursery:
        await nursery.start(rig.poller.run)
        await trio.sleep(1000)
        status = rig.poller.status()
        assert (status.reachable, status.status) == (False, "degraded")
        assert status.reason == "qBittorrent answered a torrent whose progress is not a number"
        assert status.errors == len(rig.sync_times) >= 30
        assert len(warnings_about(caplog, "qBittorrent is degraded")) == 1

        rig.fake.answer_garbage(None)
        rig.wakeup.ring()
        await trio.testing.wait_all_tasks_blocked()
        status = rig.poller.status()
        assert (status.reachable, status.status, status.reason) == (True, "ok", None)
        assert status.last_ok_at is not None
        assert len(warnings_about(caplog, "qBittorrent answers well again")) == 1
        assert [d.messages[0].progress for d in rig.sent] == [0.25]  # type: ignore[attr-defined]
        nursery.cancel_scope.cancel()


async def test_after_failed_polls_a_busy_client_is_retried_fast_then_backs_off(
    autojump_clock: trio.testing.MockClock,
) -> None:
    rig = poller_rig(None, OutageStore(downloads=[downloading()]))
    rig.fake.answer_garbage("<html>502</html>")
    async with trio.open_nursery() as nursery:
        await nursery.start(rig.poller.run)
        await trio.sleep(100)
        nursery.cancel_scope.cancel()
    assert rig.sync_times == [0.0, 5.0, 15.0, 35.0, 65.0, 95.0]


async def test_failed_polls_with_nothing_downloading_wait_the_idle_interval(
    autojump_clock: trio.testing.MockClock,
) -> None:
    rig = poller_rig(None, OutageStore())
    rig.fake.answer_garbage("null")
    async with trio.open_nursery() as nursery:
        await nursery.start(rig.poller.run)
        await trio.sleep(70)
        nursery.cancel_scope.cancel()
    assert rig.sync_times == [0.0, 30.0, 60.0]


@pytest.mark.parametrize(
    ("busy", "failures", "expected"),
    [
        (False, 0, IDLE),
        (False, 3, IDLE),
        (True, 0, ACTIVE),
        (True, 1, ACTIVE),
        (True, 2, 10.0),
        (True, 4, IDLE),
        (True, 1000, IDLE),
    ],
)
def test_next_interval(busy: bool, failures: int, expected: float) -> None:
    assert next_interval(busy=busy, failures=failures, active=ACTIVE, idle=IDLE) == expected


async def test_the_poller_waits_out_a_database_outage_and_goes_on(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    rig = poller_rig(None, OutageStore(downloads=[downloading()], down_until=100.0))
    async with trio.open_nursery() as nursery:
        await nursery.start(rig.poller.run)
        await trio.sleep(110)
        nursery.cancel_scope.cancel()
    assert rig.sync_times == [100.0 + ACTIVE]
    assert len(warnings_about(caplog, "waits for the database")) == 1
    assert rig.poller.status().status == "ok"


def verifier_rig(
    transport: httpx.MockTransport, store: OutageStore, calls: list[Deliver]
) -> AvailabilityVerifier:
    async def call_request(_request_id: int, deliver: Deliver) -> object:
        calls.append(deliver)
        return Applied(changed=True)

    http = httpx.AsyncClient(transport=transport)
    return AvailabilityVerifier(
        client=JellyfinClient("http://jellyfin.test", "key", http=http),
        store=store,
        call_request=call_request,
        interval=30.0,
    )


VIOLET = RequestRow(
    id=1,
    media_type="movie",
    title="Violet Evergarden: Recollections",
    tmdb_id=1052946,
    year=2021,
    state="importing",
)


@pytest.mark.parametrize("waiting", [[], [VIOLET]], ids=["nothing waiting", "a movie waiting"])
async def test_the_verifier_survives_garbage_and_reports_it_truthfully(
    autojump_clock: trio.testing.MockClock,
    caplog: pytest.LogCaptureFixture,
    waiting: list[RequestRow],
) -> None:
    caplog.set_level(logging.INFO)
    fake = FakeJellyfin("key", "http://jellyfin.test")
    calls: list[Deliver] = []
    verifier = verifier_rig(mock_transport(fake.answer), OutageStore(waiting=waiting), calls)
    assert verifier.status().status == "unknown"
    fake.answer_garbage(b'{"Items": [{"Id": 7}], "Version": 10}')
    async with trio.open_nursery() as nursery:
        await nursery.start(verifier.run)
        await trio.sleep(30 * 50 + 1)
        status = verifier.status()
        assert (status.reachable, status.status, status.errors) == (False, "degraded", 50)
        assert (status.reason or "").startswith("Jellyfin answered")
        assert len(warnings_about(caplog, "Jellyfin is degraded")) == 1
        assert calls == []

        fake.answer_garbage(None)
        fake.add_movie("Violet Evergarden: Recollections", 2021, tmdb=1052946)
        await trio.sleep(30)
        status = verifier.status()
        assert (status.reachable, status.status) == (True, "ok")
        assert len(calls) == len(waiting)
        nursery.cancel_scope.cancel()


async def test_a_jellyfin_nobody_listens_on_is_not_reachable(
    autojump_clock: trio.testing.MockClock,
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    verifier = verifier_rig(httpx.MockTransport(refuse), OutageStore(), [])
    await verifier.verify_once()
    status = verifier.status()
    assert (status.reachable, status.status) == (False, "degraded")
    assert status.reason == "unreachable: connection refused"


async def test_a_sonarr_failure_during_a_deletion_is_a_dead_letter_not_a_crash() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>maintenance</html>")

    sonarr = SonarrClient(
        "http://sonarr.test", "key", http=httpx.AsyncClient(transport=httpx.MockTransport(down))
    )
    store = OutageStore()
    sync = ServiceSync(store=store, clock=WallClock(), radarr=None, sonarr=sonarr)  # type: ignore[arg-type]
    wanted = DeletionSyncWanted(
        request_id=7, media_type="tv", radarr_id=None, sonarr_episode_ids=(101, 102)
    )
    reply = await sync.handle(Deliver(messages=(wanted,), source="api", mail_id=3))
    assert reply == Applied(changed=True)
    [ops] = store.commits
    [letter] = [op for op in ops if isinstance(op, RecordDeadLetter)]
    assert (letter.mail_id, letter.target, letter.kind) == (3, "services", "DeletionSyncWanted")
    assert sonarr.health.status().status == "degraded"
