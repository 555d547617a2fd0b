"""QBittorrentClient against two real qbittorrent-nox daemons: auth, sessions, a live download.

The seeder uploads a 6 x 2 MiB "season pack" at 3 MiB/s to the downloader (sequential), so progress
moves through several intermediate values in a few seconds. Every wait is a poll with a deadline.
"""

from __future__ import annotations

import typing

import httpx
import pytest
import trio
import trio.testing
from status_tracker.clients import (
    DownloadsSeen,
    QBittorrentAuthError,
    QBittorrentClient,
    SyncResult,
    TorrentNotFound,
    TorrentView,
    download_state,
)

from tests.support.qbittorrent import (
    USERNAME,
    add_download,
    connect_peers,
    delete_torrent,
    end_session,
    seed,
)
from tests.support.torrents import make_torrent

if typing.TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.support.qbittorrent import QbtDaemon, QbtPair

pytestmark = pytest.mark.qbittorrent

MIB = 1024 * 1024
PACK_NAME = "Show.S01.1080p.WEB"
PACK_FILES = [(f"Show.S01E{number:02d}.mkv", 2 * MIB) for number in range(1, 7)]
SEEDER_UPLOAD_LIMIT = 3 * MIB
POLL_INTERVAL_S = 0.25
DOWNLOAD_DEADLINE_S = 60
UNKNOWN_HASH = "0123456789abcdef0123456789abcdef01234567"
OTHER_HASHES = [f"{number:040x}" for number in range(499)]


def client_for(
    daemon: QbtDaemon, *, password: str | None = None, **kwargs: typing.Any
) -> QBittorrentClient:
    return QBittorrentClient(daemon.url, USERNAME, password or daemon.password, **kwargs)


async def test_login_with_the_configured_password_works(qbt_pair: QbtPair) -> None:
    with trio.fail_after(15):
        async with client_for(qbt_pair.seeder) as client:
            await client.login()
            assert (await client.app_version()).startswith("v")


async def test_login_with_a_wrong_password_raises(qbt_pair: QbtPair) -> None:
    with trio.fail_after(15):
        async with client_for(qbt_pair.seeder, password="not-the-password") as client:
            with pytest.raises(QBittorrentAuthError):
                await client.login()
            with pytest.raises(QBittorrentAuthError):
                await client.torrents_info()


@pytest.fixture
def jumpable_clock() -> trio.testing.MockClock:
    """Trio time at real speed (the daemons are real), which a test can jump past a back-off."""
    return trio.testing.MockClock(rate=1.0)


async def test_a_wrong_password_reaches_qbittorrent_once_per_backoff(
    qbt_pair: QbtPair, jumpable_clock: trio.testing.MockClock
) -> None:
    daemon = qbt_pair.seeder
    answers: list[tuple[str, int]] = []

    async def record(response: httpx.Response) -> None:
        answers.append((response.request.url.path, response.status_code))

    reasons: set[str] = set()
    async with httpx.AsyncClient(event_hooks={"response": [record]}) as http:
        wrong = client_for(daemon, password="not-the-password", http=http)
        with trio.fail_after(15):
            for _ in range(7):
                with pytest.raises(QBittorrentAuthError) as caught:
                    await wrong.look()
                reasons.add(caught.value.reason)
        within_backoff = list(answers)
        jumpable_clock.jump(QBittorrentClient.FIRST_LOGIN_BACKOFF_S)
        with trio.fail_after(15):
            with pytest.raises(QBittorrentAuthError):
                await wrong.look()
            async with client_for(daemon) as right:
                seen = await right.look()

    assert within_backoff == [("/api/v2/auth/login", 200)], "qBittorrent answers 200 Fails."
    assert answers == [("/api/v2/auth/login", 200)] * 2
    assert reasons == {
        "qBittorrent rejected the username or password; no login is tried for 15 min"
    }
    assert seen.removed == frozenset()


async def test_an_ended_session_is_renewed_by_one_fresh_login(qbt_pair: QbtPair) -> None:
    daemon = qbt_pair.seeder
    answers: list[tuple[str, int]] = []

    async def record(response: httpx.Response) -> None:
        answers.append((response.request.url.path, response.status_code))

    with trio.fail_after(15):
        async with httpx.AsyncClient(event_hooks={"response": [record]}) as http:
            client = client_for(daemon, http=http)
            first = await client.sync_maindata()
            end_session(daemon, http.cookies["SID"])
            await client.torrents_info()
            after_renewal = await client.sync_maindata()

    assert first.full_update
    assert answers == [
        ("/api/v2/auth/login", 200),
        ("/api/v2/sync/maindata", 200),
        ("/api/v2/torrents/info", 403),
        ("/api/v2/auth/login", 200),
        ("/api/v2/torrents/info", 200),
        ("/api/v2/sync/maindata", 200),
    ]
    assert after_renewal.full_update, "a new session does not know the old rid"


async def test_unknown_hash_has_no_files_and_no_info(qbt_pair: QbtPair) -> None:
    with trio.fail_after(15):
        async with client_for(qbt_pair.downloader) as client:
            with pytest.raises(TorrentNotFound):
                await client.torrent_files(UNKNOWN_HASH.upper())
            assert await client.torrents_info([UNKNOWN_HASH]) == []


async def sync_until(
    client: QBittorrentClient, condition: Callable[[SyncResult], bool]
) -> SyncResult:
    """Sync every POLL_INTERVAL_S until ``condition`` holds for the result."""
    while True:
        result = await client.sync_maindata()
        if condition(result):
            return result
        await trio.sleep(POLL_INTERVAL_S)


async def poll_until_complete(
    client: QBittorrentClient, infohash: str
) -> tuple[list[SyncResult], list[list[float]]]:
    """Sync (and read per-file progress) every POLL_INTERVAL_S until the torrent is complete."""
    results: list[SyncResult] = []
    file_progress: list[list[float]] = []
    while True:
        result = await client.sync_maindata()
        results.append(result)
        view = result.torrents.get(infohash)
        if view is not None and view.progress >= 1.0:
            return results, file_progress
        if view is not None and view.progress > 0:
            file_progress.append([f.progress for f in await client.torrent_files(infohash)])
        await trio.sleep(POLL_INTERVAL_S)


async def test_a_real_download_is_followed_from_zero_to_complete_and_removal(
    qbt_pair: QbtPair, tmp_path: Path
) -> None:
    pack = make_torrent(tmp_path, PACK_NAME, PACK_FILES, seed=2024)
    seed(qbt_pair.seeder, pack, up_limit=SEEDER_UPLOAD_LIMIT)

    async with client_for(qbt_pair.downloader) as client:
        with trio.fail_after(DOWNLOAD_DEADLINE_S):
            before = await client.sync_maindata()
            add_download(qbt_pair.downloader, pack, sequential=True)
            connect_peers(qbt_pair.downloader, pack.infohash, qbt_pair.seeder)
            results, file_progress = await poll_until_complete(client, pack.infohash)
            files = await client.torrent_files(pack.infohash)

            delete_torrent(qbt_pair.downloader, pack.infohash)
            removal = await sync_until(client, lambda result: pack.infohash in result.removed)

    assert before.full_update
    assert pack.infohash not in before.torrents

    views: list[TorrentView | None] = [before.torrents.get(pack.infohash)]
    for result in results:
        assert not result.full_update
        view = result.torrents.get(pack.infohash)
        assert (pack.infohash in result.changed) == (view != views[-1])
        views.append(view)
    progress = [view.progress for view in views if view is not None]
    assert progress == sorted(progress), "progress never goes back"
    assert len({p for p in progress if 0 < p < 1}) >= 2, f"too few intermediate values: {progress}"
    assert progress[-1] == 1.0

    final = views[-1]
    assert final is not None
    assert (final.name, final.total_size, final.amount_left) == (PACK_NAME, 12 * MIB, 0)
    assert final.content_path.endswith(PACK_NAME)
    assert download_state(final.state, final.progress) in {"seeding", "completed"}

    assert any(snapshot[0] == 1.0 and snapshot[-1] == 0.0 for snapshot in file_progress), (
        f"never saw E01 complete while E06 was untouched: {file_progress}"
    )
    assert [(f.index, f.name, f.size, f.progress) for f in files] == [
        (index, f"{PACK_NAME}/{name}", size, 1.0) for index, (name, size) in enumerate(PACK_FILES)
    ]

    assert not removal.full_update
    assert pack.infohash not in removal.torrents


async def test_skipped_files_and_a_deletion_through_the_port_reach_qbittorrent(
    qbt_pair: QbtPair, tmp_path: Path
) -> None:
    pack = make_torrent(tmp_path, PACK_NAME, PACK_FILES, seed=2025)
    async with client_for(qbt_pair.downloader) as client:
        with trio.fail_after(DOWNLOAD_DEADLINE_S):
            await client.look()
            add_download(qbt_pair.downloader, pack)
            await client.set_file_priority(pack.infohash.upper(), [1, 4], "skip")
            priorities = [f.priority for f in await client.files(pack.infohash)]
            seen = await client.look()
            # 500 hashes (20 kB of query) in one torrents/info: what a sweep of stalled ones asks.
            asked = await client.downloads([*OTHER_HASHES, pack.infohash.upper()])
            await client.delete([pack.infohash], with_files=True)
            removal = await look_until(client, lambda seen: pack.infohash in seen.removed)
            with pytest.raises(TorrentNotFound):
                await client.set_file_priority(pack.infohash, [0], "normal")

    assert priorities == ["normal", "skip", "normal", "normal", "skip", "normal"]
    assert seen.downloads[pack.infohash].name == PACK_NAME
    assert asked.keys() == {pack.infohash}
    assert asked[pack.infohash].name == PACK_NAME
    assert pack.infohash not in removal.downloads
    assert qbt_pair.downloader.torrent_fields(pack.infohash) is None


async def look_until(
    client: QBittorrentClient, condition: Callable[[DownloadsSeen], bool]
) -> DownloadsSeen:
    """Look every POLL_INTERVAL_S until ``condition`` holds for what was seen."""
    while True:
        seen = await client.look()
        if condition(seen):
            return seen
        await trio.sleep(POLL_INTERVAL_S)
