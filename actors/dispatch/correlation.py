"""Which request a webhook fact belongs to: pure rules over the candidates storage found."""

from __future__ import annotations

import re
import typing
import unicodedata

import attrs

from status_tracker import strict
from status_tracker.domain import ACTIVE_STATES, RequestRow

from ..media_request import messages as m


@typing.final
@attrs.frozen
class Lookup:
    """The keys under which storage is searched for a fact's requests."""

    media_type: str
    torrent_hash: str | None = None
    jellyseerr_request_id: int | None = None
    arr_id: int | None = None
    tmdb_id: int | None = None
    tvdb_id: int | None = None
    imdb_id: str | None = None
    series_title: str | None = None
    episode_tvdb_id: int | None = None
    shoko_file_id: int | None = None


@typing.final
@attrs.frozen(kw_only=True)
class Candidates:
    """Requests storage found for a fact's keys, newest first.

    ``by_media``, ``by_title``, ``by_episode`` (an episode's own TVDB id) and
    ``by_shoko_file`` (the Shoko file Shokofin names) hold active requests only; the others
    any state.
    """

    by_hash: tuple[RequestRow, ...] = ()
    by_jellyseerr: tuple[RequestRow, ...] = ()
    by_arr: tuple[RequestRow, ...] = ()
    by_media: tuple[RequestRow, ...] = ()
    by_title: tuple[RequestRow, ...] = ()
    by_episode: tuple[RequestRow, ...] = ()
    by_shoko_file: tuple[RequestRow, ...] = ()


@typing.final
@attrs.frozen(kw_only=True)
class Route:
    """Where a fact goes: existing requests, a new one, or nowhere (with the reason)."""

    targets: tuple[int, ...] = ()
    create: bool = False
    reason: str | None = None


CREATES_REQUEST = (
    m.MediaRequested,
    m.MovieGrabbed,
    m.MovieImported,
    m.EpisodesGrabbed,
    m.EpisodesImported,
)


def lookup_for(fact: object) -> Lookup | None:
    """The keys to search for a fact, or None when the fact concerns no request."""
    match fact:
        case (
            m.MediaRequested()
            | m.RequestDeclined()
            | m.RequestFailed()
            | m.MediaReportedAvailable()
        ):
            return Lookup(
                fact.media_type,
                None,
                fact.jellyseerr_request_id,
                None,
                fact.tmdb_id,
                fact.tvdb_id,
                None,
                None,
            )
        case m.MovieGrabbed() | m.MovieImported():
            return Lookup(
                "movie",
                fact.download_hash,
                None,
                fact.radarr_id,
                fact.tmdb_id,
                None,
                fact.imdb_id,
                None,
            )
        case m.MovieDeleted():
            return Lookup("movie", arr_id=fact.radarr_id, tmdb_id=fact.tmdb_id)
        case m.EpisodesGrabbed() | m.EpisodesImported():
            return _series_lookup(fact.series, fact.download_hash)
        case m.EpisodeFilesDeleted() | m.SeriesDeleted():
            return _series_lookup(fact.series, None)
        case m.ImportBlocked():
            if fact.series is not None:
                return _series_lookup(fact.series, fact.download_hash)
            return Lookup(
                "movie", fact.download_hash, None, fact.radarr_id, fact.tmdb_id, None, None, None
            )
        case m.LibraryItemAdded():
            ids = dict(fact.provider_ids)
            shoko_file = _int(ids.get("shoko file"))
            if fact.item_type == "Movie":
                return Lookup(
                    "movie",
                    tmdb_id=_int(ids.get("tmdb")),
                    imdb_id=ids.get("imdb"),
                    shoko_file_id=shoko_file,
                )
            if fact.item_type == "Episode":
                return Lookup(
                    "tv",
                    series_title=fact.series_name,
                    episode_tvdb_id=_int(ids.get("tvdb")),
                    shoko_file_id=shoko_file,
                )
    return None


def _series_lookup(series: m.SeriesRef, torrent_hash: str | None) -> Lookup:
    return Lookup(
        "tv",
        torrent_hash=torrent_hash,
        arr_id=series.sonarr_id,
        tmdb_id=series.tmdb_id,
        tvdb_id=series.tvdb_id,
        imdb_id=series.imdb_id,
    )


def _int(value: str | None) -> int | None:
    """The id a provider id's text holds, or None when it holds none."""
    try:
        return strict.parse_id(value)
    except ValueError:
        return None


def route(fact: object, found: Candidates) -> Route:
    """Choose the request(s) a fact is applied to.

    Torrent hash first, then the *arr's id on active requests, then TMDB/TVDB on active
    requests (newest first); a grab or import matching nothing creates a request; a
    library item matching nothing is ignored (a scan never creates a request).
    """
    match fact:
        case m.MediaRequested():
            if found.by_jellyseerr:
                return _to(found.by_jellyseerr[:1])
            adoptable = [r for r in found.by_media if r.jellyseerr_request_id is None]
            if adoptable:
                return _to(adoptable[:1])
            return Route(create=True)
        case m.RequestDeclined() | m.RequestFailed() | m.MediaReportedAvailable():
            return _first_of(found.by_jellyseerr, found.by_media) or _nowhere("no matching request")
        case m.MovieGrabbed() | m.EpisodesGrabbed() | m.MovieImported() | m.EpisodesImported():
            if isinstance(fact, (m.MovieGrabbed, m.EpisodesGrabbed)):
                linked = _active(found.by_hash)  # a finished request is never a grab's target
            else:
                linked = [r for r in found.by_hash if r.state != "deleted"]
            if linked:
                return _to(linked)
            fallback = _first_of(_active(found.by_arr), _season_matches(fact, found.by_media))
            return fallback or Route(create=True)
        case m.MovieDeleted() | m.EpisodeFilesDeleted() | m.SeriesDeleted():
            linked = [r for r in found.by_arr if r.state != "deleted"]
            if linked:
                return _to(linked)
            return _first_of(found.by_media) or _nowhere("no matching request")
        case m.ImportBlocked():
            return _first_of(_active(found.by_hash), _active(found.by_arr)) or _nowhere(
                "no matching request"
            )
        case m.LibraryItemAdded():
            if found.by_shoko_file:
                # Shokofin names the file: it may be a movie filed as a series special.
                matches = found.by_shoko_file
            elif fact.item_type == "Movie":
                matches = found.by_media
            else:
                # An episode's Provider_tvdb is the episode's own id; the title is the fallback.
                matches = found.by_episode or found.by_title
            if matches:
                return _to(matches)
            return _nowhere("a library item nobody requested")
    return _nowhere(f"{type(fact).__name__} concerns no request")


def _to(rows: typing.Iterable[RequestRow]) -> Route:
    return Route(targets=tuple(row.id for row in rows))


def _first_of(*groups: typing.Sequence[RequestRow]) -> Route | None:
    for group in groups:
        if group:
            return _to(group[:1])
    return None


def _nowhere(reason: str) -> Route:
    return Route(reason=reason)


def _active(rows: typing.Iterable[RequestRow]) -> list[RequestRow]:
    return [row for row in rows if row.state in ACTIVE_STATES]


def _season_matches(fact: object, rows: typing.Sequence[RequestRow]) -> list[RequestRow]:
    """For TV, prefer requests whose requested seasons include the fact's episodes."""
    if not isinstance(fact, (m.EpisodesGrabbed, m.EpisodesImported)):
        return list(rows)
    seasons = {ref.season for ref in fact.episodes}
    matching = [r for r in rows if not r.requested_seasons or seasons & set(r.requested_seasons)]
    return matching


def same_title(a: str, b: str) -> bool:
    """Titles equal after case, accents, punctuation and spacing are ignored."""
    return normalise_title(a) == normalise_title(b)


def normalise_title(title: str) -> str:
    decomposed = unicodedata.normalize("NFKD", title)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return re.sub(r"[\W_]+", " ", plain).strip()
