"""A sweep over many stalled downloads, on a real store (both backends): it reads storage and
asks the download client a fixed number of times, and finds what reading one by one finds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from status_tracker.actors.envelope import Deliver
from status_tracker.actors.recovery.stuck import RereadDownload, find_stuck
from status_tracker.actors.recovery.sweeper import RecoverySweeper
from status_tracker.clients import Download
from status_tracker.storage import SaveDownload, SaveEpisodes, SaveRequest, Store

from status_tracker.domain import DownloadLink, DownloadRow, EpisodeRow, RequestRow
from tests.support.fake_download_client import InMemoryDownloadClient

STALLED = 40
NOW = 10_000.0
STUCK_AFTER = 300.0


def torrent_hash(number: int) -> str:
    return f"{number:040x}"


def stalled_requests() -> list[Any]:
    """Movies and season packs, each with its own stalled download; some odd ones out: a
    download the store lost (relinked), a pack linked for one episode only (relinked)."""
    ops: list[Any] = []
    for number in range(1, STALLED + 1):
        pack = number % 4 == 0
        keys = tuple((1, n) for n in range(1, 4)) if pack else ()
        ops.append(
            SaveRequest(
                row=RequestRow(
                    id=number,
                    media_type="tv" if pack else "movie",
                    title=f"Stalled {number}",
                    state="downloading",
                    download_hash=None if pack else torrent_hash(number),
                    last_change_at=0.0,
                )
            )
        )
        if pack:
            ops.append(
                SaveEpisodes(
                    rows=tuple(
                        EpisodeRow(
                            request_id=number,
                            season=season,
                            episode=episode,
                            state="downloading",
                            torrent_hash=torrent_hash(number),
                        )
                        for season, episode in keys
                    )
                )
            )
        if number == 7:
            continue
        linked = keys[:1] if number == 8 else keys
        ops.append(
            SaveDownload(
                row=DownloadRow(
                    hash=torrent_hash(number),
                    state="stalled",
                    links=(DownloadLink(request_id=number, episodes=linked),),
                )
            )
        )
    return ops


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
    noted: dict[int, list[str]] = {}

    async def call_request(request_id: int, deliver: Deliver) -> None:
        noted.setdefault(request_id, []).extend(m.event for m in deliver.messages)  # type: ignore[attr-defined]

    async def send_torrent(_hash: str, _deliver: Deliver) -> None:
        pass

    sweeper = RecoverySweeper(
        source=store,
        now=lambda: NOW,
        call_request=call_request,
        send_torrent=send_torrent,
        downloads=qbittorrent,
        find_in_library=None,
        stuck_after=STUCK_AFTER,
        interval=60.0,
    )
    done = await sweeper.sweep_once()

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
    assert noted[7] == noted[8] == ["relinked", "download_reread"]
    assert noted[3] == noted[12] == ["download_missing"]
    assert noted[1] == ["download_reread"]


async def test_a_client_that_cannot_be_asked_defers_every_reread_of_the_sweep(
    store: Store,
) -> None:
    await store.commit(stalled_requests())
    qbittorrent = qbittorrent_knowing(range(1, STALLED + 1))
    qbittorrent.down = "connection refused"
    details: list[str] = []

    async def call_request(_request_id: int, deliver: Deliver) -> None:
        details.extend(f"{m.event}: {m.detail}" for m in deliver.messages)  # type: ignore[attr-defined]

    async def send_torrent(_hash: str, _deliver: Deliver) -> None:
        raise AssertionError("nothing was read from the client")

    sweeper = RecoverySweeper(
        source=store,
        now=lambda: NOW,
        call_request=call_request,
        send_torrent=send_torrent,
        downloads=qbittorrent,
        find_in_library=None,
        stuck_after=STUCK_AFTER,
        interval=60.0,
    )
    await sweeper.sweep_once()
    deferred = [d for d in details if d.startswith("recovery_deferred")]
    assert len(deferred) == STALLED
    assert set(deferred) == {"recovery_deferred: could not check: qBittorrent is down"}
