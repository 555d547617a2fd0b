"""A real qBittorrent download watched by the poller: grabbing → downloading → downloaded."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
import trio

from tests.support.qbittorrent import USERNAME, QbtPair, add_download, connect_peers, seed
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


async def test_the_poller_moves_a_movie_through_its_download(
    qbt_pair: QbtPair, sqlite_url: str, tmp_path: Path
) -> None:
    movie = make_torrent(
        tmp_path, "Violet.Evergarden.Recollections.2022.1080p", [("movie.mkv", 12 * MIB)], seed=11
    )
    async with started_service(sqlite_url, **qbittorrent_settings(qbt_pair)) as service:
        await service.post_fixture("jellyseerr/media_auto_approved_movie.json")
        await service.post_fixture("radarr/grab.json", downloadId=movie.infohash.upper())
        await service.settled()
        (item,) = await service.requests()
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
