"""Radarr webhook body → fact (one ``Download`` per imported movie file; no import-complete)."""

from __future__ import annotations

import attrs
from status_tracker.actors.media_request.messages import (
    ImportBlocked,
    ImportedFile,
    MovieDeleted,
    MovieGrabbed,
    MovieImported,
    UnhandledEvent,
    WebhookFact,
    WebhookTested,
)
from status_tracker.ingress.translate import _arr
from status_tracker.ingress.translate._fields import JsonObject, PayloadError, unless_zero


@attrs.frozen(kw_only=True)
class _Movie:
    """What every movie event says about the movie: ``movie``, gaps filled from ``remoteMovie``.

    The field names are those of MovieGrabbed and MovieImported, which take them as they are.
    """

    radarr_id: int | None
    tmdb_id: int | None
    imdb_id: str | None
    title: str
    year: int | None
    is_anime: bool


def translate_radarr(body: JsonObject) -> WebhookFact:
    """Translate a Radarr webhook body.

    Raises:
        PayloadError: a field the event needs is missing or has the wrong type.
    """
    event_type = body.text("eventType")
    match event_type:
        case "Test":
            return WebhookTested(source="radarr")
        case "Grab":
            return MovieGrabbed(
                **attrs.asdict(_movie(body)),
                download_hash=_arr.download_hash(body),
                release_title=_arr.release_title(body),
                poster_url=_arr.poster_url(body.child("movie")),
                overview=body.child("movie").optional_text("overview"),
                size=_arr.release_size(body),
                release=_arr.release_facts(body),
            )
        case "Download":
            movie_file = body.child("movieFile")
            return MovieImported(
                **attrs.asdict(_movie(body)),
                download_hash=_arr.download_hash(body),
                file=ImportedFile(
                    path=movie_file.text("path"),
                    relative_path=movie_file.optional_text("relativePath"),
                    source_path=movie_file.optional_text("sourcePath"),
                ),
                is_upgrade=body.flag("isUpgrade"),
            )
        case "MovieDelete" | "MovieFileDelete":
            movie = _movie(body)
            file_only = event_type == "MovieFileDelete"
            return MovieDeleted(
                radarr_id=movie.radarr_id,
                tmdb_id=movie.tmdb_id,
                file_only=file_only,
                reason=body.optional_text("deleteReason") if file_only else None,
            )
        case "ManualInteractionRequired":
            movie = _movie(body)
            return ImportBlocked(
                series=None,
                episodes=(),
                radarr_id=movie.radarr_id,
                tmdb_id=movie.tmdb_id,
                download_hash=_arr.download_hash(body),
                status=body.optional_text("downloadStatus"),
                messages=_arr.status_messages(body),
            )
        case _:
            return UnhandledEvent(source="radarr", event_type=event_type)


def _movie(body: JsonObject) -> _Movie:
    movie = body.child("movie")
    remote = body.optional_child("remoteMovie") or JsonObject({}, "remoteMovie")
    title = movie.optional_text("title") or remote.optional_text("title")
    if title is None:
        raise PayloadError("movie.title is missing")
    return _Movie(
        radarr_id=movie.optional_id("id"),
        tmdb_id=unless_zero(movie.optional_id("tmdbId"))
        or unless_zero(remote.optional_id("tmdbId")),
        imdb_id=movie.optional_text("imdbId") or remote.optional_text("imdbId"),
        title=title,
        year=unless_zero(movie.optional_integer("year"))
        or unless_zero(remote.optional_integer("year")),
        is_anime=any(tag.casefold() == "anime" for tag in movie.strings("tags")),
    )
