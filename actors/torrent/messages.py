"""What a TorrentActor receives: claims from requests and observations from the poller."""

from __future__ import annotations

import typing

import attrs

from status_tracker.domain import ReleaseFacts


@typing.final
@attrs.frozen(kw_only=True)
class DownloadClaimed:
    """A request holds these episodes (none for a movie) of the download ``hash``."""

    hash: str
    request_id: int
    name: str | None
    episodes: tuple[tuple[int, int], ...] = ()
    release: ReleaseFacts | None = None
    """What the *arr said about the release it grabbed, when the claim comes from a grab."""


@typing.final
@attrs.frozen(kw_only=True)
class ObservedFile:
    """One file of a torrent as qBittorrent reports it (progress 0-1)."""

    index: int
    name: str
    size: int
    progress: float


@typing.final
@attrs.frozen(kw_only=True)
class TorrentObserved:
    """The poller saw this torrent change; ``files`` only when it fetched them."""

    hash: str
    name: str | None
    state: str
    client_state: str | None
    progress: float
    size: int | None = None
    files: tuple[ObservedFile, ...] | None = None
    speed: int | None = None
    eta_s: int | None = None
    size_left: int | None = None
    seeds: int | None = None
    peers: int | None = None


@typing.final
@attrs.frozen(kw_only=True)
class TorrentVanished:
    """qBittorrent no longer has this torrent (it reported it removed, or a re-read found it
    gone)."""

    hash: str


@typing.final
@attrs.frozen(kw_only=True)
class TorrentNotListed:
    """qBittorrent's full list of torrents does not hold this claimed torrent it never reported
    (it may be on its way there: see ``state.NOT_REPORTED_GRACE_S``)."""

    hash: str
