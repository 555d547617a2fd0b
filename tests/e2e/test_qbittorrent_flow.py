"""A real qBittorrent download watched by the poller: grabbing → downloading → downloaded."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
import trio
from status_tracker.actors.torrent import state as torrent_state

from tests.support.qbittorrent import (
    USERNAME,
    QbtPair,
    add_download,
    connect_peers,
    delete_torrent,
    seed,
)
from tests.support.service import started_service, wait_until
from tests.support.torrents import make_torrent

pytestmark = pytest.mark.qbittorrent

MIB = 1024 * 1024
UPLOAD_LIMIT = 3 * MIB


async def start_transfer(qbt: QbtPair, torrent: Any) -> None:
    """Seed on one daemon and download on the other (blocking calls run off the event loop)."""
    await trio.to_thread.run_sync(
        functools.partial(seed, qbt.seeder, torrent, up_limit=UPLOAD_LIMIT)
    )
    await trio.to_thread.run_sync(add_download, qbt.downloader, torrent)
    await trio.to_thread.run_sync(connect_peers, qbt.downloader, torrent.infohash, qbt.seeder)


def qbittorrent_settings(qbt: QbtPair) -> dict[str, Any]:
    return {
        "qbittorrent_url": qbt.downloader.url,
        "qbittorrent_username": USERNAME,
        "qbittorrent_password": qbt.downloader.password,
        "poll_active_s": 0.25,
        "poll_idle_s": 0.25,
    }


async def movie_grabbed(service: Any, torrent_hash: str) -> dict[str, Any]:
    """A movie requested and grabbed as ``torrent_hash``: the one request there is."""
    await service.post_fixture("jellyseerr/media_auto_approved_movie.json")
    await service.post_fixture("radarr/grab.json", downloadId=torrent_hash.upper())
    await service.settled()
    (item,) = await service.requests()
    return item


async def test_the_poller_moves_a_movie_through_its_download(
    qbt_pair: QbtPair, sqlite_url: str, tmp_path: Path
) -> None:
    movie = make_torrent(
        tmp_path, "Violet.Evergarden.Recollections.2022.1080p", [("movie.mkv", 12 * MIB)], seed=11
    )
    async with started_service(sqlite_url, **qbittorrent_settings(qbt_pair)) as service:
        item = await movie_grabbed(service, movie.infohash)
        assert item["state"] == "grabbing"

        await start_transfer(qbt_pair, movie)
        seen_progress: set[float] = set()

        async def reached(state: str) -> bool:
            detail = await service.request(item["id"])
            if detail["state"] == "downloading":
                seen_progress.add(detail["progress"])
            return detail["state"] == state

        await wait_until(
            lambda: reached("downloading"), what="the movie to start downloading", deadline=30
        )
        await wait_until(
            lambda: reached("downloaded"), what="the movie to finish downloading", deadline=60
        )
        detail = await service.request(item["id"])
        assert detail["progress"] == 100
        (download,) = detail["downloads"]
        assert download["hash"] == movie.infohash
        assert download["release_type"] == "movie"
        assert download["progress"] == 100
        assert download["state"] in ("seeding", "completed")
        assert download["client_state"] in ("stalledUP", "uploading", "pausedUP", "queuedUP")
        assert any(0 < p < 100 for p in seen_progress), seen_progress
        steps = [t["event"] for t in detail["timeline"]]
        assert steps[-2:] == ["download_started", "download_completed"]
        assert service.system.poller is not None
        assert service.system.poller.status().reachable is True


async def test_each_episode_of_a_pack_follows_its_own_file(
    qbt_pair: QbtPair, sqlite_url: str, tmp_path: Path
) -> None:
    files = [(f"Show.S01E0{n}.1080p.WEB.mkv", 2 * MIB) for n in range(1, 7)]
    pack = make_torrent(tmp_path, "Show.S01.1080p.WEB", files, seed=12)
    episodes = [
        {"id": 900 + n, "episodeNumber": n, "seasonNumber": 1, "title": f"Episode {n}"}
        for n in range(1, 7)
    ]
    async with started_service(sqlite_url, **qbittorrent_settings(qbt_pair)) as service:
        await service.post_fixture(
            "sonarr/grab_season_pack_miniseries.json",
            downloadId=pack.infohash.upper(),
            episodes=episodes,
            release__releaseTitle="Show.S01.1080p.WEB",
        )
        await service.settled()
        (item,) = await service.requests()
        await start_transfer(qbt_pair, pack)
        snapshots: list[dict[int, tuple[str, float]]] = []

        async def all_downloaded() -> bool:
            detail = await service.request(item["id"])
            snapshots.append(
                {e["episode"]: (e["state"], e["progress"]) for e in detail["episodes"]}
            )
            return all(state == "downloaded" for state, _ in snapshots[-1].values())

        await wait_until(all_downloaded, what="every episode to be downloaded", deadline=60)
        split = [
            s
            for s in snapshots
            if s[1][0] == "downloaded" and s[6][0] in ("grabbing", "downloading")
        ]
        assert split, "never saw the first episode complete while the last was still downloading"
        assert any(len({progress for _, progress in s.values()}) > 2 for s in snapshots)
        detail = await service.request(item["id"])
        assert detail["state"] == "downloaded"
        assert detail["episode_counts"] == {"downloaded": 6}
        (download,) = detail["downloads"]
        assert download["is_season_pack"] is True
        assert download["release_type"] == "season_pack"
        assert [e["torrent_hash"] for e in detail["episodes"]] == [pack.infohash] * 6


async def download_row(service: Any, request_id: int) -> dict[str, Any]:
    (download,) = (await service.request(request_id))["downloads"]
    return download


async def test_a_hash_qbittorrent_never_had_is_missing_not_queued(
    qbt_pair: QbtPair, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(torrent_state, "NOT_REPORTED_GRACE_S", 1.0)
    never = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"
    async with started_service(sqlite_url, **qbittorrent_settings(qbt_pair)) as service:
        item = await movie_grabbed(service, never)
        download = await download_row(service, item["id"])
        assert download["reason"] != "queued in qBittorrent"

        async def missing() -> bool:
            return (await download_row(service, item["id"]))["state"] == "missing"

        await wait_until(missing, what="the unknown hash to read missing", deadline=20)
        detail = await service.request(item["id"])
        (download,) = detail["downloads"]
        assert (download["client_state"], download["progress"]) == (None, 0)
        assert download["reason"] == "qBittorrent does not have this torrent"
        assert detail["state"] == "grabbing"
        assert detail["reason"] == "qBittorrent does not have this torrent"


async def test_a_finished_torrent_removed_from_qbittorrent_reads_removed_and_holds_nothing_back(
    qbt_pair: QbtPair, sqlite_url: str, tmp_path: Path
) -> None:
    movie = make_torrent(tmp_path, "Reze.Arc.2025.1080p", [("movie.mkv", 6 * MIB)], seed=21)
    async with started_service(sqlite_url, **qbittorrent_settings(qbt_pair)) as service:
        item = await movie_grabbed(service, movie.infohash)
        await start_transfer(qbt_pair, movie)

        async def seeding() -> bool:
            return (await download_row(service, item["id"]))["state"] in ("seeding", "completed")

        await wait_until(seeding, what="the movie to finish downloading", deadline=60)
        # Radarr's "remove completed" (here before the import: the real cause must show).
        await trio.to_thread.run_sync(
            functools.partial(
                delete_torrent, qbt_pair.downloader, movie.infohash, delete_files=False
            )
        )

        async def gone() -> bool:
            return (await download_row(service, item["id"]))["state"] == "missing"

        await wait_until(gone, what="the removed torrent to read missing", deadline=20)
        detail = await service.request(item["id"])
        (download,) = detail["downloads"]
        assert download["progress"] == 100
        assert download["reason"] == "removed from qBittorrent after it finished"
        assert (download["speed"], download["seeds"], download["peers"]) == (None, None, None)
        assert detail["state"] == "downloaded", "a finished download removed holds nothing back"
        assert detail["progress"] == 100


async def test_a_freshly_added_torrent_is_not_stalled_before_its_stall_has_lasted(
    qbt_pair: QbtPair, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(torrent_state, "STALLED_AFTER_S", 4.0)
    lonely = make_torrent(tmp_path, "Nobody.Seeds.2024.1080p", [("movie.mkv", 2 * MIB)], seed=22)
    async with started_service(sqlite_url, **qbittorrent_settings(qbt_pair)) as service:
        item = await movie_grabbed(service, lonely.infohash)
        added = trio.current_time()
        # No seeder: qBittorrent calls it stalledDL at once.
        await trio.to_thread.run_sync(add_download, qbt_pair.downloader, lonely)
        seen: list[tuple[float, str, str | None, str | None]] = []

        async def stalled() -> bool:
            download = await download_row(service, item["id"])
            at = trio.current_time() - added
            seen.append((at, download["state"], download["client_state"], download["reason"]))
            return download["state"] == "stalled"

        await wait_until(stalled, what="the lonely torrent to read stalled", deadline=30)
        early = [s for s in seen if s[0] < 2.0]
        assert early, seen
        assert all(state != "stalled" for _, state, _, _ in early), seen
        assert not any((reason or "").startswith("no seeds") for _, _, _, reason in early), seen
        assert any(client == "stalledDL" for _, _, client, _ in seen), seen
        at, _, _, reason = seen[-1]
        assert at >= 4.0
        assert reason is not None
        assert reason.startswith("no seeds for "), reason
        assert reason != "no seeds for 0 s"
