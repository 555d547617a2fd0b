"""The records the decisions read and return: requests, episodes, downloads, timeline,
notices, and recovery's wait for a replacement grab."""

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
    sonarr_slug: str | None = None
    """The series' ``titleSlug`` in Sonarr's webhooks: its page in Sonarr's web UI."""
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
    requested_by: str | None = None
    """Jellyseerr's display name of who asked for it (never an e-mail address)."""
    requested_at: float | None = None
    known_seasons: tuple[int, ...] = ()
    """Seasons whose whole episode list is known: listed by Sonarr's API, grabbed as a pack, or
    reported available by Jellyseerr. A requested season not known keeps a request that has
    every known episode available at ``partially_available``."""
    check_requested_at: float | None = None
    """When someone last asked to check it again now (``POST /api/requests/{id}/check``)."""


@typing.final
@attrs.frozen(kw_only=True)
class ReleaseFacts:
    """What Sonarr or Radarr said about the release it grabbed (None/empty when not sent)."""

    quality: str | None = None
    release_group: str | None = None
    indexer: str | None = None
    languages: tuple[str, ...] = ()
    custom_formats: tuple[str, ...] = ()


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
    speed: int | None = None
    """Bytes per second now."""
    eta_s: int | None = None
    """Seconds left, None when unknown or infinite."""
    size_left: int | None = None
    seeds: int | None = None
    peers: int | None = None
    stalled_since: float | None = None
    """Since when it has been stalled (or without a seed), None while it moves."""
    release: ReleaseFacts | None = None

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


@typing.final
@attrs.frozen(kw_only=True)
class ReplacementWait:
    """A download recovery removed and blocklisted in Sonarr or Radarr, waiting for the *arr to
    grab a replacement for its items (the *arr's episode or movie ids).

    ``outcome`` stays None while it waits; then ``replaced`` (every item was grabbed again),
    ``searched`` (recovery asked the *arr to search ``searched_ids``) or ``searched_recently``
    (none followed, but every item had a search within the period), at ``settled_at``.
    """

    service: str
    download_id: str
    title: str | None
    item_ids: tuple[int, ...]
    removed_at: float
    grabbed_ids: tuple[int, ...] = ()
    searched_ids: tuple[int, ...] = ()
    outcome: str | None = None
    settled_at: float | None = None


@typing.final
@attrs.frozen(kw_only=True)
class Notice:
    """One thing that happened to a request (or one of its episodes), worth telling.

    ``season``/``episode`` are None for the request as a whole. ``dedupe_key`` set means the
    outbox keeps only the first notice with that key.
    """

    request_id: int
    kind: str
    media_type: str
    title: str
    year: int | None = None
    season: int | None = None
    episode: int | None = None
    detail: str | None = None
    requested_by: str | None = None
    jellyfin_id: str | None = None
    dedupe_key: str | None = None


@typing.final
@attrs.frozen(kw_only=True)
class WaitingItems:
    """How many active movies or episodes wait alike, as /health counts them: the same media
    type and state, matched by Shoko or not, and unchanged for ``stuck_after`` or not."""

    media_type: str
    state: str
    shoko_matched: bool
    stale: bool
    count: int
