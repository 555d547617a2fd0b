"""Facts the outside world reports about a media request, as the RequestActor receives them.

Ingress translates each webhook body into exactly one of these; nothing here knows HTTP.
"""

from __future__ import annotations

import typing

import attrs

from status_tracker.domain import ReleaseFacts

MediaType = typing.Literal["movie", "tv"]


@typing.final
@attrs.frozen(kw_only=True)
class SeriesRef:
    """A Sonarr series as its webhooks describe it."""

    sonarr_id: int | None
    tvdb_id: int | None
    tmdb_id: int | None
    imdb_id: str | None
    title: str
    year: int | None
    is_anime: bool
    poster_url: str | None = None
    path: str | None = None
    title_slug: str | None = None
    """Names the series' page in Sonarr's web UI (``/series/{titleSlug}``)."""


@typing.final
@attrs.frozen(kw_only=True)
class EpisodeRef:
    """One episode named by a Sonarr webhook (season/episode as Sonarr numbers them)."""

    season: int
    episode: int
    title: str | None = None
    sonarr_episode_id: int | None = None
    tvdb_id: int | None = None


@typing.final
@attrs.frozen(kw_only=True)
class ImportedFile:
    """A file an *arr imported into the library, with the episodes it holds (empty for movies)."""

    path: str
    relative_path: str | None = None
    source_path: str | None = None
    episodes: tuple[tuple[int, int], ...] = ()


@typing.final
@attrs.frozen(kw_only=True)
class MediaRequested:
    """Jellyseerr reported a new request (pending) or its approval (approved)."""

    media_type: MediaType
    approved: bool
    tmdb_id: int | None
    tvdb_id: int | None
    title: str
    year: int | None
    poster_url: str | None
    overview: str | None
    jellyseerr_request_id: int | None
    requested_seasons: tuple[int, ...] = ()
    requested_by: str | None = None


@typing.final
@attrs.frozen(kw_only=True)
class RequestDeclined:
    """Jellyseerr reported that an admin declined the request."""

    media_type: MediaType
    tmdb_id: int | None
    tvdb_id: int | None
    jellyseerr_request_id: int | None


@typing.final
@attrs.frozen(kw_only=True)
class RequestFailed:
    """Jellyseerr reported that sending the request to Radarr/Sonarr failed."""

    media_type: MediaType
    tmdb_id: int | None
    tvdb_id: int | None
    jellyseerr_request_id: int | None
    reason: str | None = None


@typing.final
@attrs.frozen(kw_only=True)
class MediaReportedAvailable:
    """Jellyseerr saw the media in Jellyfin: a movie becomes available; for TV it is recorded
    only, since the verifier checks each episode."""

    media_type: MediaType
    tmdb_id: int | None
    tvdb_id: int | None
    jellyseerr_request_id: int | None


@typing.final
@attrs.frozen(kw_only=True)
class MovieGrabbed:
    """Radarr sent a release of a movie to the download client."""

    radarr_id: int | None
    tmdb_id: int | None
    imdb_id: str | None
    title: str
    year: int | None
    is_anime: bool
    download_hash: str | None
    release_title: str | None
    poster_url: str | None = None
    overview: str | None = None
    size: int | None = None
    release: ReleaseFacts | None = None


@typing.final
@attrs.frozen(kw_only=True)
class MovieImported:
    """Radarr imported a movie file into the library."""

    radarr_id: int | None
    tmdb_id: int | None
    imdb_id: str | None
    title: str
    year: int | None
    is_anime: bool
    download_hash: str | None
    file: ImportedFile
    is_upgrade: bool = False


@typing.final
@attrs.frozen(kw_only=True)
class MovieDeleted:
    """Radarr removed the movie (or only its file, when ``file_only``)."""

    radarr_id: int | None
    tmdb_id: int | None
    file_only: bool
    reason: str | None = None


@typing.final
@attrs.frozen(kw_only=True)
class EpisodesGrabbed:
    """Sonarr sent one release, holding these episodes, to the download client."""

    series: SeriesRef
    episodes: tuple[EpisodeRef, ...]
    download_hash: str | None
    release_title: str | None
    size: int | None = None
    release: ReleaseFacts | None = None


@typing.final
@attrs.frozen(kw_only=True)
class EpisodesImported:
    """Sonarr imported files for these episodes.

    ``complete`` is true for the "import complete" body (every file of the release), false for a
    per-file import.
    """

    series: SeriesRef
    episodes: tuple[EpisodeRef, ...]
    files: tuple[ImportedFile, ...]
    download_hash: str | None
    complete: bool
    is_upgrade: bool = False


@typing.final
@attrs.frozen(kw_only=True)
class EpisodeFilesDeleted:
    """Sonarr deleted the file of these episodes."""

    series: SeriesRef
    episodes: tuple[EpisodeRef, ...]
    reason: str | None = None


@typing.final
@attrs.frozen(kw_only=True)
class SeriesDeleted:
    """Sonarr removed the whole series."""

    series: SeriesRef
    deleted_files: bool


@typing.final
@attrs.frozen(kw_only=True)
class ImportBlocked:
    """Sonarr/Radarr need a person to import a download (ManualInteractionRequired)."""

    series: SeriesRef | None
    episodes: tuple[EpisodeRef, ...]
    radarr_id: int | None
    tmdb_id: int | None
    download_hash: str | None
    status: str | None
    messages: tuple[str, ...] = ()


@typing.final
@attrs.frozen(kw_only=True)
class LibraryItemAdded:
    """Jellyfin's webhook plugin reported a new library item (ItemAdded).

    ``provider_ids`` keys are lower-cased as the plugin sends them (``tmdb``, ``tvdb``, ``imdb``,
    ``shoko episode``...). For an episode they are the episode's ids, not the series'.
    """

    item_id: str
    item_type: str
    name: str
    year: int | None
    series_name: str | None = None
    series_id: str | None = None
    season: int | None = None
    episode: int | None = None
    episode_end: int | None = None
    provider_ids: tuple[tuple[str, str], ...] = ()


@typing.final
@attrs.frozen(kw_only=True)
class WebhookTested:
    """A service sent its test notification: accepted, changes nothing."""

    source: str


@typing.final
@attrs.frozen(kw_only=True)
class UnhandledEvent:
    """A known service sent an event type we do not act on: recorded, changes nothing."""

    source: str
    event_type: str


WebhookFact = (
    MediaRequested
    | RequestDeclined
    | RequestFailed
    | MediaReportedAvailable
    | MovieGrabbed
    | MovieImported
    | MovieDeleted
    | EpisodesGrabbed
    | EpisodesImported
    | EpisodeFilesDeleted
    | SeriesDeleted
    | ImportBlocked
    | LibraryItemAdded
    | WebhookTested
    | UnhandledEvent
)


@typing.final
@attrs.frozen(kw_only=True)
class EpisodeProgress:
    """How far one episode's own file(s) inside a download are."""

    season: int
    episode: int
    progress: float
    complete: bool


@typing.final
@attrs.frozen(kw_only=True)
class DownloadProgressed:
    """The TorrentActor saw its download change (progress 0-100, our state word).

    ``episodes`` has each episode's own file progress, where files are known; ``linked`` the
    episodes the download held when this was written (a later link is not in it).
    """

    hash: str
    name: str | None
    state: str
    client_state: str | None
    progress: float
    episodes: tuple[EpisodeProgress, ...] = ()
    linked: tuple[tuple[int, int], ...] = ()


@typing.final
@attrs.frozen(kw_only=True)
class DownloadJoined:
    """This request shares a download another request already tracks (same release).

    ``name`` is the release's title when the sender knows it: as for a grab, it tells a season
    pack (its season known whole) from a multi-episode release. Without one, several episodes of
    a season in the download are read as a pack.
    """

    hash: str
    name: str | None
    episodes: tuple[EpisodeRef, ...] = ()


@typing.final
@attrs.frozen(kw_only=True)
class AvailabilityConfirmed:
    """Jellyfin holds the item (or these episodes of it), found by ``by``."""

    by: str
    jellyfin_id: str | None
    episodes: tuple[tuple[int, int, str | None], ...] = ()
    detail: str | None = None


@typing.final
@attrs.frozen(kw_only=True)
class AvailabilityUnconfirmed:
    """The verifier looked in Jellyfin and could not find the item yet."""

    reason: str


@typing.final
@attrs.frozen(kw_only=True)
class DeletionSyncWanted:
    """Hand-off to the service sync: remove what a deletion through the API covers.

    A movie is deleted in Radarr with its files; episodes are unmonitored in Sonarr and their
    files deleted (never the whole series: other seasons may be wanted).
    """

    request_id: int
    media_type: MediaType
    radarr_id: int | None
    sonarr_episode_ids: tuple[int, ...] = ()


@typing.final
@attrs.frozen(kw_only=True)
class DeletionRequested:
    """A person asked (through the API) to delete the request, or only these episodes."""

    episodes: tuple[tuple[int, int], ...] = ()


@typing.final
@attrs.frozen(kw_only=True)
class EpisodesListed:
    """Sonarr's API lists these episodes for the request's seasons (known before any grab)."""

    sonarr_id: int
    episodes: tuple[EpisodeRef, ...]


@typing.final
@attrs.frozen(kw_only=True)
class ShokoFileReported:
    """Shoko reported an event about the file of this request's movie (or these episodes).

    ``event`` is Shoko's word without its prefix: detected, hashed, matched, not_matched,
    deleted, renamed or moved.
    """

    event: str
    file_id: int | None
    relative_path: str
    has_cross_references: bool
    episodes: tuple[tuple[int, int], ...] = ()


@typing.final
@attrs.frozen(kw_only=True)
class ActionRecorded:
    """Something acted on this request (or these episodes of it): the sweeper on a stuck item,
    or the service sync after a deletion. Recorded on the timeline, changes no state."""

    event: str
    detail: str
    episodes: tuple[tuple[int, int], ...] = ()


@typing.final
@attrs.frozen(kw_only=True)
class CheckRequested:
    """A person asked (``POST /api/requests/{id}/check``) to look at this request again now."""

    by: str = "api"


@typing.final
@attrs.frozen(kw_only=True)
class RequestWithdrawn:
    """The request was deleted in Jellyseerr (seen by the reconciler): a request nothing was
    grabbed for yet is deleted; one already on its way goes on, noted."""

    detail: str


RequestMessage = (
    WebhookFact
    | DownloadProgressed
    | DownloadJoined
    | AvailabilityConfirmed
    | AvailabilityUnconfirmed
    | DeletionRequested
    | EpisodesListed
    | ShokoFileReported
    | ActionRecorded
    | CheckRequested
    | RequestWithdrawn
)
