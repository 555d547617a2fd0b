"""A sweep over many stalled downloads, on a real store (both backends): it reads storage and
asks the download client a fixed number of times, and finds what reading one by one finds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import pytest
from status_tracker.actors.envelope import Deliver
from status_tracker.actors.media_request.messages import ActionRecorded
from status_tracker.actors.recovery.stuck import RereadDownload, find_stuck
from status_tracker.actors.recovery.sweeper import RecoverySweeper
from status_tracker.clients import Download
from status_tracker.storage import Store

from tests.support.fake_download_client import InMemoryDownloadClient
from tests.support.stalled import stalled, torrent_hash

STALLED = 40
Noted = list[tuple[int, ActionRecorded]]
NOW = 10_000.0
STUCK_AFTER = 300.0


def stalled_requests() -> list[Any]:
    """Movies and season packs, each with its own stalled download; some odd ones out: a
    download the store lost (relinked), a pack linked for one episode only (relinked)."""
    ops: list[Any] = []
    for number in range(1, STALLED + 1):
        world = stalled(number, pack_episodes=3 if number % 4 == 0 else 0)
        if number == 7:
            world = attrs.evolve(world, download=None)
        if number == 8:
            assert world.download is not None
            link = attrs.evolve(world.download.links[0], episodes=((1, 1),))
            world = attrs.evolve(world, download=attrs.evolve(world.download, links=(link,)))
        ops.extend(world.ops())
    return ops


def sweeper_on(store: Store, qbittorrent: InMemoryDownloadClient, noted: Noted) -> RecoverySweeper:
    async def call_request(request_id: int, deliver: Deliver) -> None:
        for message in deliver.messages:
            assert isinstance(message, ActionRecorded)
            noted.append((request_id, message))

    async def send_torrent(_hash: str, _deliver: Deliver) -> None:
        pass

    return RecoverySweeper(
        source=store,
        now=lambda: NOW,
        call_request=call_request,
        send_torrent=send_torrent,
        downloads=qbittorrent,
        find_in_library=None,
        stuck_after=STUCK_AFTER,
        interval=60.0,
    )


def qbittorrent_knowing(numbers: Sequence[int]) -> InMemoryDownloadClient:
    client = InMemoryDownloadClient(service_name="qBittorrent", source="qbittorrent")
    for number in numbers:
        client.torrents[torrent_hash(number)] = Download(
            hash=torrent_hash(number),
            name=f"Stalled {number}",
            state="stalled",
            client_state="stalledDL",
            progress=0.1,
            size=None,
            seeds=0,
        )
    return client


async def test_a_sweep_of_many_stalled_downloads_reads_them_at_once_and_finds_the_same(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.commit(stalled_requests())
    reads: list[str] = []
    fetch = store.fetch

    async def counted_fetch(sql: str, *args: Any, **kwargs: Any) -> Any:
        reads.append(sql)
        return await fetch(sql, *args, **kwargs)

    monkeypatch.setattr(store, "fetch", counted_fetch)
    gone = {3, 12}
    qbittorrent = qbittorrent_knowing([n for n in range(1, STALLED + 1) if n not in gone])
    noted: Noted = []
    done = await sweeper_on(store, qbittorrent, noted).sweep_once()

    assert len(reads) == 3, "active requests, their episodes, their downloads"
    assert qbittorrent.download_calls == 1
    monkeypatch.undo()
    requests = await store.active_requests()
    episodes = await store.episodes_by_request([r.id for r in requests])
    hashes = {torrent_hash(n) for n in range(1, STALLED + 1)}
    one_by_one = {h: row for h in hashes if (row := await store.load_download(h)) is not None}
    expected = find_stuck(requests, episodes, one_by_one, now=NOW, stuck_after=STUCK_AFTER)
    assert done == expected
    assert sum(isinstance(action, RereadDownload) for action in done) == STALLED
    events: dict[int, list[str]] = {}
    for request_id, entry in noted:
        events.setdefault(request_id, []).append(entry.event)
    assert events[7] == events[8] == ["relinked", "download_reread"]
    assert events[3] == events[12] == ["download_missing"]
    assert events[1] == ["download_reread"]


async def test_a_client_that_cannot_be_asked_defers_every_reread_of_the_sweep(
    store: Store,
) -> None:
    await store.commit(stalled_requests())
    qbittorrent = qbittorrent_knowing(range(1, STALLED + 1))
    qbittorrent.down = "connection refused"
    noted: Noted = []
    await sweeper_on(store, qbittorrent, noted).sweep_once()
    deferred = [f"{e.event}: {e.detail}" for _, e in noted if e.event == "recovery_deferred"]
    assert len(deferred) == STALLED
    assert set(deferred) == {"recovery_deferred: could not check: qBittorrent is down"}
