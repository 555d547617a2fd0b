"""The download-client port: what the tracker needs from any torrent client, in its own words.

qBittorrent (``clients.qbittorrent``) is the first adapter; Transmission or Deluge would be more,
each translating its wire format into these records.
"""

from __future__ import annotations

import typing

import attrs

from ._http import ClientError

if typing.TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from ._health import DependencyHealth

DownloadState = typing.Literal[
    "queued", "downloading", "stalled", "paused", "completed", "seeding", "missing", "error"
]
"""The tracker's word for where a download is; the client's own word travels beside it."""

FilePriority = typing.Literal["skip", "normal", "high"]


@typing.final
class TorrentNotFound(ClientError):
    """The download client does not know the torrent."""

    def __init__(self, torrent_hash: str, *, service: str) -> None:
        super().__init__(f"{service} has no torrent {torrent_hash}")
        self.torrent_hash = torrent_hash


@typing.final
@attrs.frozen(kw_only=True)
class Download:
    """One torrent as the client reports it.

    ``hash`` is lower-case hex; ``progress`` is 0-1; ``client_state`` is the client's own word
    for ``state``; ``size`` is the size of what is being downloaded, None while unknown.
    ``speed`` is bytes per second; ``eta_s`` seconds left (None when unknown or infinite);
    ``size_left`` the bytes still to download; ``seeds`` and ``peers`` the seeds and other peers
    connected now. Each is None when the client does not say.
    """

    hash: str
    name: str | None
    state: DownloadState
    client_state: str
    progress: float
    size: int | None
    speed: int | None = None
    eta_s: int | None = None
    size_left: int | None = None
    seeds: int | None = None
    peers: int | None = None


@typing.final
@attrs.frozen(kw_only=True)
class DownloadFile:
    """One file of a torrent: ``name`` is its ``/``-separated path inside the torrent."""

    index: int
    name: str
    size: int
    progress: float
    priority: FilePriority


@typing.final
@attrs.frozen(kw_only=True)
class DownloadsSeen:
    """One look at the client: every torrent it holds now, and those gone since the last look."""

    downloads: Mapping[str, Download] = attrs.field(hash=False)
    removed: frozenset[str]


class DownloadClient(typing.Protocol):
    """A download client, safe to share between Trio tasks.

    Every call raises ``ClientError`` (or a subclass) when the client cannot be asked or answers
    something unreadable.
    """

    service_name: str
    """How sentences (logs, /health, timeline details) name the client, e.g. ``qBittorrent``."""

    source: str
    """The timeline source of what it reports, e.g. ``qbittorrent``."""

    health: DependencyHealth
    """The dependency's record on /health, shared by everything that uses the client."""

    async def look(self) -> DownloadsSeen:
        """Every torrent now; incremental where the client supports it (only changes on the wire).

        ``removed`` lists the torrents seen by an earlier look and gone now.
        """
        ...

    async def downloads(self, hashes: Iterable[str]) -> Mapping[str, Download]:
        """The torrents of ``hashes`` the client still has, by lower-case hash (one gone is left
        out); in one call where the client allows."""
        ...

    async def files(self, torrent_hash: str) -> list[DownloadFile]:
        """The torrent's files (empty while its metadata is missing).

        Raises:
            TorrentNotFound: the client does not know the torrent.
        """
        ...

    async def delete(self, hashes: Iterable[str], *, with_files: bool) -> None:
        """Remove the torrents (unknown hashes are ignored), with their data if ``with_files``."""
        ...

    async def set_file_priority(
        self, torrent_hash: str, indexes: Iterable[int], priority: FilePriority
    ) -> None:
        """Download the files at ``indexes`` with ``priority`` (``skip``: not at all).

        Raises:
            TorrentNotFound: the client does not know the torrent.
        """
        ...
