"""Sonarr (v3 and v4) webhook body → fact.

``Download`` comes in two shapes: ``episodeFile`` (one imported file) and ``episodeFiles`` (the
"import complete" body, every file of the release, with no link from file to episode).
"""

from __future__ import annotations

import re

from status_tracker.actors.media_request.messages import (
    EpisodeFilesDeleted,
    EpisodeRef,
    EpisodesGrabbed,
    EpisodesImported,
    ImportBlocked,
    ImportedFile,
    SeriesDeleted,
    SeriesRef,
    UnhandledEvent,
    WebhookFact,
    WebhookTested,
)
from status_tracker.ingress.translate import _arr
from status_tracker.ingress.translate._fields import JsonObject, PayloadError, unless_zero

_EPISODE_MARKER = re.compile(
    r"""
    (?<![a-z0-9]) s(?P<season>[0-9]{1,4})
    (?P<episodes>
        e[0-9]{1,4}                         # S01E01
        (?: -?e[0-9]{1,4} | -[0-9]{1,4} )*  # then E02 (listed), -E02 or -02 (through)
    )
    (?![0-9])
    """,
    re.IGNORECASE | re.VERBOSE,
)
_EPISODE_STEP = re.compile(r"(?P<range>-)?e?(?P<number>[0-9]{1,4})", re.IGNORECASE)
# A name claiming more episodes than this is noise, not a multi-episode file (_named_episodes).
_MAX_EPISODES_PER_MARKER = 20

SeasonEpisode = tuple[int, int]


def translate_sonarr(body: JsonObject) -> WebhookFact:
    """Translate a Sonarr webhook body.

    Raises:
        PayloadError: a field the event needs is missing or has the wrong type.
    """
    event_type = body.text("eventType")
    match event_type:
        case "Test":
            return WebhookTested(source="sonarr")
        case "Grab":
            return EpisodesGrabbed(
                series=_series(body.child("series")),
                episodes=_episodes(body.children("episodes")),
                download_hash=_arr.download_hash(body),
                release_title=_arr.release_title(body),
                size=_arr.release_size(body),
                release=_arr.release_facts(body),
            )
        case "Download":
            return _imported(body)
        case "EpisodeFileDelete":
            return EpisodeFilesDeleted(
                series=_series(body.child("series")),
                episodes=_episodes(body.children("episodes")),
                reason=body.optional_text("deleteReason"),
            )
        case "SeriesDelete":
            return SeriesDeleted(
                series=_series(body.child("series")), deleted_files=body.flag("deletedFiles")
            )
        case "ManualInteractionRequired":
            return ImportBlocked(
                series=_series(body.child("series")),
                episodes=_episodes(body.optional_children("episodes")),
                radarr_id=None,
                tmdb_id=None,
                download_hash=_arr.download_hash(body),
                status=body.optional_text("downloadStatus"),
                messages=_arr.status_messages(body),
            )
        case _:
            return UnhandledEvent(source="sonarr", event_type=event_type)


def _imported(body: JsonObject) -> EpisodesImported:
    series = _series(body.child("series"))
    episodes = _episodes(body.children("episodes"))
    if (episode_file := body.optional_child("episodeFile")) is not None:
        every_episode = tuple((episode.season, episode.episode) for episode in episodes)
        return EpisodesImported(
            series=series,
            episodes=episodes,
            files=(_imported_file(episode_file, every_episode),),
            download_hash=_arr.download_hash(body),
            complete=False,
            is_upgrade=body.flag("isUpgrade"),
        )
    if body.raw("episodeFiles") is None:
        raise PayloadError("Download has neither episodeFile nor episodeFiles")
    episode_files = body.children("episodeFiles")
    known = {(episode.season, episode.episode) for episode in episodes}
    in_file_order = episodes if len(episodes) == len(episode_files) else None
    return EpisodesImported(
        series=series,
        episodes=episodes,
        files=tuple(
            _imported_file(
                episode_file,
                _episodes_of_file(
                    episode_file, known, in_file_order[index] if in_file_order else None
                ),
            )
            for index, episode_file in enumerate(episode_files)
        ),
        download_hash=_arr.download_hash(body),
        complete=True,
    )


def _episodes_of_file(
    episode_file: JsonObject, known: set[SeasonEpisode], at_same_position: EpisodeRef | None
) -> tuple[SeasonEpisode, ...]:
    """Guess which episodes of an import-complete body one of its files holds.

    Sonarr does not link them. Use the S01E01 marker in the file's relative path (or path) when
    it names episodes of the body; else the episode at the file's position, when there are as
    many episodes as files; else none.
    """
    for path_key in ("relativePath", "path"):
        path = episode_file.optional_text(path_key)
        # With no episodes in the body no marker can name one of them: skip reading the names.
        if path and known:
            named = tuple(pair for pair in _named_episodes(path) if pair in known)
            if named:
                return named
    if at_same_position is not None:
        return ((at_same_position.season, at_same_position.episode),)
    return ()


def _named_episodes(path: str) -> tuple[SeasonEpisode, ...]:
    """The (season, episode) pairs an S01E01-style marker in the file name of ``path`` names.

    Multi-episode files are understood in every Sonarr style: ``S01E01E02``, ``S01E01-E02``,
    ``S01E01-02``, ``S01E01-02-03`` (a ``-`` means "through"). The last marker in the name wins.
    Each episode is named once, in the order the marker first names it.

    A marker whose numbers and ranges add up to more than ``_MAX_EPISODES_PER_MARKER`` (20)
    episodes names none, as a name without a marker does. A real multi-episode file names a
    handful (a two-part finale, a kids' show's five shorts, an anime batch of eight). A release
    that is one file holding a whole season loses nothing by it: the media-request actor gives
    a lone file every episode of its body. The cap bounds the work and the pairs per file, so
    translating thousands of ``S1E1-9999`` files costs, and yields, in proportion to the body.
    """
    file_name = re.split(r"[/\\]", path)[-1]
    markers = list(_EPISODE_MARKER.finditer(file_name))
    if not markers:
        return ()
    marker = markers[-1]
    season = int(marker["season"])
    numbers: dict[int, None] = {}  # an ordered set
    named = 0
    last: int | None = None
    for step in _EPISODE_STEP.finditer(marker["episodes"]):
        number = int(step["number"])
        if step["range"] and last is not None and number > last:
            through = range(last + 1, number + 1)
        elif number in numbers:
            continue
        else:
            through = range(number, number + 1)
        # Counted before expanding, so a wide range costs nothing; overlaps count again.
        named += len(through)
        if named > _MAX_EPISODES_PER_MARKER:
            return ()
        numbers.update(dict.fromkeys(through))
        last = number
    return tuple((season, number) for number in numbers)


def _imported_file(episode_file: JsonObject, episodes: tuple[SeasonEpisode, ...]) -> ImportedFile:
    return ImportedFile(
        path=episode_file.text("path"),
        relative_path=episode_file.optional_text("relativePath"),
        source_path=episode_file.optional_text("sourcePath"),
        episodes=episodes,
    )


def _series(series: JsonObject) -> SeriesRef:
    return SeriesRef(
        sonarr_id=series.optional_id("id"),
        tvdb_id=unless_zero(series.optional_id("tvdbId")),
        tmdb_id=unless_zero(series.optional_id("tmdbId")),
        imdb_id=series.optional_text("imdbId"),
        title=series.text("title"),
        year=unless_zero(series.optional_integer("year")),
        is_anime=series.optional_text("type") == "anime",
        poster_url=_arr.poster_url(series),
        path=series.optional_text("path"),
        title_slug=series.optional_text("titleSlug"),
    )


def _episodes(episodes: tuple[JsonObject, ...]) -> tuple[EpisodeRef, ...]:
    return tuple(
        EpisodeRef(
            season=episode.integer("seasonNumber"),
            episode=episode.integer("episodeNumber"),
            title=episode.optional_text("title"),
            sonarr_episode_id=episode.optional_id("id"),
            tvdb_id=unless_zero(episode.optional_id("tvdbId")),
        )
        for episode in episodes
    )
