"""Rows the service stores, as immutable records shared by every backend."""

from __future__ import annotations

import typing

import attrs

# The states of a request's lifecycle, in order, up to (not including) available.
ACTIVE_STATES = (
    "requested",
    "approved",
    "grabbing",
    "downloading",
    "downloaded",
    "importing",
    "anime_matching",
)
FINISHED_STATES = ("available", "failed", "deleted")


@typing.final
@attrs.frozen(kw_only=True)
class RequestRow:
    """One media request, owned by its RequestActor."""

    id: int
    media_type: str
    title: str
    year: int | None = None
    tmdb_id: int | None = None
    tvdb_id: int | None = None
    imdb_id: str | None = None
    jellyseerr_request_id: int | None = None
    radarr_id: int | None = None
    sonarr_id: int | None = None
    is_anime: bool = False
    state: str = "requested"
    progress: float = 0.0
    poster_url: str | None = None
    overview: str | None = None
    source: str = "jellyseerr"
    jellyfin_id: str | None = None
    requested_seasons: tuple[int, ...] = ()
    download_hash: str | None = None
    final_path: str | None = None
    shoko_file_id: int | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    available_at: float | None = None
    last_change_at: float = 0.0


@typing.final
@attrs.frozen(kw_only=True)
class EpisodeRow:
    """One episode of a TV request, owned by the request's actor."""

    request_id: int
    season: int
    episode: int
    title: str | None = None
    state: str = "pending"
    progress: float = 0.0
    torrent_hash: str | None = None
    final_path: str | None = None
    jellyfin_id: str | None = None
    sonarr_episode_id: int | None = None
    tvdb_id: int | None = None
    shoko_file_id: int | None = None
    updated_at: float = 0.0
    last_change_at: float = 0.0

    @property
    def key(self) -> tuple[int, int]:
        return (self.season, self.episode)


@typing.final
@attrs.frozen(kw_only=True)
class DownloadLink:
    """A request (and, for TV, the episodes) that a download holds."""

    request_id: int
    episodes: tuple[tuple[int, int], ...] = ()


@typing.final
@attrs.frozen(kw_only=True)
class TorrentFileRow:
    """One file inside a torrent as last observed, with the episodes it holds."""

    index: int
    name: str
    size: int
    progress: float
    episodes: tuple[tuple[int, int], ...] = ()


@typing.final
@attrs.frozen(kw_only=True)
class DownloadRow:
    """One torrent, owned by its TorrentActor."""

    hash: str
    name: str | None = None
    progress: float = 0.0
    state: str = "queued"
    client_state: str | None = None
    size: int | None = None
    release_type: str | None = None
    links: tuple[DownloadLink, ...] = ()
    files: tuple[TorrentFileRow, ...] = ()
    created_at: float = 0.0
    updated_at: float = 0.0
    last_change_at: float = 0.0

    @property
    def episode_count(self) -> int:
        return sum(len(link.episodes) for link in self.links)

    @property
    def is_season_pack(self) -> bool:
        return self.episode_count > 1


@typing.final
@attrs.frozen(kw_only=True)
class DownloadWatch:
    """What the poller compares with qBittorrent for one unfinished download."""

    hash: str
    name: str | None
    progress: float
    state: str
    client_state: str | None
    episode_count: int
    has_files: bool


@typing.final
@attrs.frozen(kw_only=True)
class TimelineEntry:
    """One line of a request's history."""

    request_id: int
    at: float
    source: str
    event: str
    from_state: str | None = None
    to_state: str | None = None
    season: int | None = None
    episode: int | None = None
    detail: str | None = None


@typing.final
@attrs.frozen(kw_only=True)
class Mail:
    """A durable message: a webhook waiting in the inbox, or a hand-off between actors."""

    id: int
    target: str
    source: str
    kind: str
    body: str
    received_at: float
    attempts: int = 0


@typing.final
@attrs.frozen(kw_only=True)
class DeadLetter:
    """A message no actor could handle, kept for a person to look at."""

    id: int
    at: float
    actor: str
    message: str
    error: str
    mail_id: int | None = None
    target: str | None = None
    source: str | None = None
    kind: str | None = None
    body: str | None = None


@typing.final
@attrs.frozen(kw_only=True)
class Accepted:
    """What storing a webhook in the inbox gave."""

    mail_id: int
    duplicate: bool


@typing.final
@attrs.frozen(kw_only=True)
class RequestQuery:
    """Filters of the request list."""

    states: tuple[str, ...] = ()
    media_type: str | None = None
    title_contains: str | None = None
    limit: int = 50
    offset: int = 0
