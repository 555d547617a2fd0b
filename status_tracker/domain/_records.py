"""The records the decisions read and return: a request, its episodes, downloads, timeline."""

from __future__ import annotations

import typing

import attrs


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
