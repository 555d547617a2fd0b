"""The qBittorrent poller: incremental sync, adaptive interval, observations only on change.

It compares what qBittorrent reports with each claimed download's stored row and sends a
TorrentObserved to the torrent's actor only when they differ; files are fetched only for packs
whose progress moved. A failed poll (unreachable, or an answer it cannot read) or a database
outage never ends it: the failure is recorded on the client's health and polling goes on.
"""

from __future__ import annotations

import logging
import typing
from collections.abc import Awaitable, Callable

import attrs
import trio
from status_tracker.clients import ClientError, HealthState
from status_tracker.clients.qbittorrent import (
    QBittorrentClient,
    TorrentNotFound,
    TorrentView,
    download_state,
)
from status_tracker.storage import DatabaseUnavailable, DownloadWatch, Store

from .envelope import Deliver
from .torrent.messages import ObservedFile, TorrentObserved, TorrentVanished

logger = logging.getLogger(__name__)

SendToTorrent = Callable[[str, Deliver], Awaitable[None]]
BUSY_STATES = ("queued", "downloading", "stalled")


@typing.final
@attrs.frozen(kw_only=True)
class PollerStatus:
    reachable: bool | None
    status: HealthState
    reason: str | None
    errors: int
    last_ok_at: str | None
    polls: int
    observations: int
    file_listings: int
    interval: float


@typing.final
class QBittorrentPoller:
    """Watches every claimed, unfinished download in qBittorrent."""

    def __init__(
        self,
        *,
        client: QBittorrentClient,
        store: Store,
        send: SendToTorrent,
        active_interval: float,
        idle_interval: float,
    ) -> None:
        self._client = client
        self._store = store
        self._send = send
        self._active_interval = active_interval
        self._idle_interval = idle_interval
        self._wake = trio.Event()
        self._failures = 0
        self._polls = 0
        self._observations = 0
        self._file_listings = 0
        self._interval = idle_interval

    @property
    def client(self) -> QBittorrentClient:
        return self._client

    def wake(self, _torrent_hash: str = "") -> None:
        """Poll now (a download was just claimed)."""
        self._wake.set()

    def status(self) -> PollerStatus:
        return PollerStatus(
            **attrs.asdict(self._client.health.status()),
            polls=self._polls,
            observations=self._observations,
            file_listings=self._file_listings,
            interval=self._interval,
        )

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        while True:
            self._wake = trio.Event()
            try:
                busy = await self.poll_once()
            except DatabaseUnavailable:
                logger.warning("qBittorrent polling waits for the database to come back")
                await self._store.wait_available()
                busy = True
            self._interval = next_interval(
                busy=busy,
                failures=self._failures,
                active=self._active_interval,
                idle=self._idle_interval,
            )
            with trio.move_on_after(self._interval):
                await self._wake.wait()

    async def poll_once(self) -> bool:
        """One poll; returns True while some download is still busy (poll fast).

        Raises:
            DatabaseUnavailable: the stored downloads could not be read.
        """
        tracked = {row.hash: row for row in await self._store.unfinished_downloads()}
        try:
            busy = await self._observe(tracked)
        except ClientError as exc:
            self._failures += 1
            self._client.health.failed(exc)
            return any(row.state in BUSY_STATES for row in tracked.values())
        self._failures = 0
        self._client.health.answered()
        return busy

    async def _observe(self, tracked: dict[str, DownloadWatch]) -> bool:
        result = await self._client.sync_maindata()
        self._polls += 1
        busy = False
        for torrent_hash in sorted(result.removed & tracked.keys()):
            await self._deliver(torrent_hash, TorrentVanished(hash=torrent_hash))
        for torrent_hash, row in tracked.items():
            view = result.torrents.get(torrent_hash)
            if view is None:
                busy = busy or row.state in BUSY_STATES
                continue
            state = download_state(view.state, view.progress)
            busy = busy or state in BUSY_STATES
            if _unchanged(row, view, state):
                continue
            files = await self._files_if_pack(row, view)
            await self._deliver(torrent_hash, observe(view, files))
        return busy

    async def _files_if_pack(
        self, row: DownloadWatch, view: TorrentView
    ) -> tuple[ObservedFile, ...] | None:
        moved = round(view.progress * 100, 2) != row.progress or not row.has_files
        if row.episode_count <= 1 or not moved:
            return None
        try:
            files = await self._client.torrent_files(row.hash)
        except TorrentNotFound:
            return None
        self._file_listings += 1
        return tuple(
            ObservedFile(index=f.index, name=f.name, size=f.size, progress=f.progress)
            for f in files
        )

    async def _deliver(self, torrent_hash: str, message: object) -> None:
        self._observations += 1
        await self._send(torrent_hash, Deliver(messages=(message,), source="qbittorrent"))


def next_interval(*, busy: bool, failures: int, active: float, idle: float) -> float:
    """Seconds until the next poll.

    Active while something downloads, idle otherwise. After failed polls with downloads in
    flight: the active interval first, then doubled per further failure, capped at idle.
    """
    if not busy:
        return idle
    backoff = active * 2 ** min(max(failures - 1, 0), 16)
    return max(active, min(idle, backoff))


def _unchanged(row: DownloadWatch, view: TorrentView, state: str) -> bool:
    return (
        row.progress == round(view.progress * 100, 2)
        and row.client_state == view.state
        and row.state == state
        and (row.name or "") == (view.name or row.name or "")
    )


def observe(view: TorrentView, files: tuple[ObservedFile, ...] | None = None) -> TorrentObserved:
    """What the torrent's actor is told about one torrent qBittorrent reports."""
    return TorrentObserved(
        hash=view.hash,
        name=view.name or None,
        state=download_state(view.state, view.progress),
        client_state=view.state,
        progress=view.progress,
        size=view.total_size or view.size or None,
        files=files,
    )
