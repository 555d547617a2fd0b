"""The download poller: incremental looks, adaptive interval, observations only on change.

It compares what the download client reports with each claimed download's stored row and sends
a TorrentObserved to the torrent's actor only when they differ; files are fetched only for packs
whose progress moved. A claimed torrent it has never reported and does not list is told to its
actor as not listed each poll (the actor waits out a grace period before it believes it); a
torrent the client reports removed is told to its actor even when it is no longer watched (a
finished one removed by the *arr's "remove completed"). A failed poll (unreachable, or an
answer it cannot read) or a database outage never ends it: the failure is recorded on the
client's health and polling goes on. It knows the client only through the download-client port.
"""

from __future__ import annotations

import logging
import typing
from collections.abc import Awaitable, Callable

import attrs
import trio
from status_tracker.clients import (
    ClientError,
    Download,
    DownloadClient,
    HealthState,
    TorrentNotFound,
)
from status_tracker.storage import DatabaseUnavailable, DownloadWatch, Store

from ._wakeup import Wakeup
from .envelope import Deliver
from .torrent.messages import ObservedFile, TorrentNotListed, TorrentObserved, TorrentVanished
from .torrent.state import never_reported

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
class DownloadPoller:
    """Watches every claimed, unfinished download in one download client.

    Ringing ``wakeup`` (a download was just claimed) makes it poll now.
    """

    def __init__(
        self,
        *,
        client: DownloadClient,
        store: Store,
        send: SendToTorrent,
        active_interval: float,
        idle_interval: float,
        wakeup: Wakeup,
    ) -> None:
        self._client = client
        self._store = store
        self._send = send
        self._active_interval = active_interval
        self._idle_interval = idle_interval
        self._wakeup = wakeup
        self._failures = 0
        self._polls = 0
        self._observations = 0
        self._file_listings = 0
        self._interval = idle_interval

    @property
    def source(self) -> str:
        """The timeline source of its client, e.g. ``qbittorrent``."""
        return self._client.source

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
            self._wakeup.rearm()
            try:
                busy = await self.poll_once()
            except DatabaseUnavailable:
                logger.warning(
                    "%s polling waits for the database to come back", self._client.service_name
                )
                await self._store.wait_available()
                busy = True
            self._interval = next_interval(
                busy=busy,
                failures=self._failures,
                active=self._active_interval,
                idle=self._idle_interval,
            )
            await self._wakeup.wait(self._interval)

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
        seen = await self._client.look()
        self._polls += 1
        busy = False
        for torrent_hash in sorted(seen.removed & tracked.keys()):
            await self._deliver(torrent_hash, TorrentVanished(hash=torrent_hash))
        await self._finished_removed(seen.removed - tracked.keys())
        for torrent_hash, row in tracked.items():
            download = seen.downloads.get(torrent_hash)
            if download is None:
                busy = busy or row.state in BUSY_STATES
                if torrent_hash not in seen.removed and never_reported(row):
                    await self._deliver(torrent_hash, TorrentNotListed(hash=torrent_hash))
                continue
            busy = busy or download.state in BUSY_STATES
            if _unchanged(row, download):
                continue
            files = await self._files_if_pack(row, download)
            await self._deliver(torrent_hash, observe(download, files))
        return busy

    async def _finished_removed(self, removed: typing.AbstractSet[str]) -> None:
        """Tell the actors of stored downloads no longer watched (finished) that the client
        removed their torrents."""
        if not removed:
            return
        stored = await self._store.load_downloads(sorted(removed))
        for torrent_hash, row in sorted(stored.items()):
            if row.state != "missing":
                await self._deliver(torrent_hash, TorrentVanished(hash=torrent_hash))

    async def _files_if_pack(
        self, row: DownloadWatch, download: Download
    ) -> tuple[ObservedFile, ...] | None:
        moved = round(download.progress * 100, 2) != row.progress or not row.has_files
        if row.episode_count <= 1 or not moved:
            return None
        try:
            files = await self._client.files(row.hash)
        except TorrentNotFound:
            return None
        self._file_listings += 1
        return tuple(
            ObservedFile(index=f.index, name=f.name, size=f.size, progress=f.progress)
            for f in files
        )

    async def _deliver(self, torrent_hash: str, message: object) -> None:
        self._observations += 1
        await self._send(torrent_hash, Deliver(messages=(message,), source=self._client.source))


def next_interval(*, busy: bool, failures: int, active: float, idle: float) -> float:
    """Seconds until the next poll.

    Active while something downloads, idle otherwise. After failed polls with downloads in
    flight: the active interval first, then doubled per further failure, capped at idle.
    """
    if not busy:
        return idle
    backoff = active * 2 ** min(max(failures - 1, 0), 16)
    return max(active, min(idle, backoff))


def _unchanged(row: DownloadWatch, download: Download) -> bool:
    return (
        row.progress == round(download.progress * 100, 2)
        and row.client_state == download.client_state
        and row.state == download.state
        and (row.name or "") == (download.name or row.name or "")
        and row.seeds == download.seeds
        and row.peers == download.peers
    )


def observe(download: Download, files: tuple[ObservedFile, ...] | None = None) -> TorrentObserved:
    """What the torrent's actor is told about one torrent the download client reports."""
    return TorrentObserved(
        hash=download.hash,
        name=download.name,
        state=download.state,
        client_state=download.client_state,
        progress=download.progress,
        size=download.size,
        files=files,
        speed=download.speed,
        eta_s=download.eta_s,
        size_left=download.size_left,
        seeds=download.seeds,
        peers=download.peers,
    )
