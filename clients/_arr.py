"""What Sonarr and Radarr share: how they refuse a key and answer, and for reconciliation the
paged queue, history since a date, queue removal with blocklisting, and commands (``/api/v3``,
camelCase JSON, absent means null).

The wire shapes are those of ``reference/reconcile-apis.md`` §0-§2. Records keep the *arr's own
words (state names, status messages) so the tracker can show them as they are.
"""

from __future__ import annotations

import datetime
import math
import typing
from collections.abc import Container, Mapping

import attrs
import httpx

from status_tracker import strict

from ._fields import REQUIRED, WireObject, bad_reply
from ._http import ClientError, KeyedService

QUEUE_PAGE_SIZE: typing.Final = 100
MAX_QUEUE_PAGES: typing.Final = 200


class ArrAuthError(ClientError):
    """Sonarr or Radarr refused the API key (401): a ``SonarrAuthError`` or ``RadarrAuthError``."""


@typing.final
@attrs.frozen(kw_only=True)
class ArrSeries:
    """The series a Sonarr history row is about (sent with ``includeSeries=true``)."""

    id: int
    title: str
    tvdb_id: int | None = None
    tmdb_id: int | None = None
    imdb_id: str | None = None
    year: int | None = None
    is_anime: bool = False


@typing.final
@attrs.frozen(kw_only=True)
class ArrEpisode:
    """The episode a Sonarr history or queue row is about (``includeEpisode=true``)."""

    id: int
    season: int
    episode: int
    title: str | None = None
    tvdb_id: int | None = None


@typing.final
@attrs.frozen(kw_only=True)
class ArrMovie:
    """The movie a Radarr history or queue row is about (``includeMovie=true``)."""

    id: int
    title: str
    year: int | None = None
    tmdb_id: int | None = None
    imdb_id: str | None = None
    is_anime: bool = False


@typing.final
@attrs.frozen(kw_only=True)
class ArrQueueItem:
    """One queue record: per episode for Sonarr, per download for Radarr.

    ``download_id`` is as the *arr sent it (upper-case torrent hashes); ``messages`` are the
    status messages flattened to ``"title: message; message"`` in the *arr's words.
    """

    id: int
    download_id: str | None
    title: str | None
    item_id: int | None
    season: int | None
    status: str | None
    tracked_state: str | None
    tracked_status: str | None
    messages: tuple[str, ...]
    error_message: str | None
    size: float
    size_left: float
    episode: ArrEpisode | None = None


@typing.final
@attrs.frozen(kw_only=True)
class ArrHistoryRecord:
    """One history row (per episode for Sonarr, per download for Radarr)."""

    id: int
    event_type: str
    date: float
    download_id: str | None
    source_title: str | None
    item_id: int | None
    data: Mapping[str, str | None] = attrs.field(factory=dict, eq=False)
    series: ArrSeries | None = None
    episode: ArrEpisode | None = None
    movie: ArrMovie | None = None


def parse_time(text: str | None) -> float | None:
    """An *arr or Jellyseerr UTC timestamp (``2025-06-11T09:14:03Z``, with or without
    fractions) as seconds since the epoch; None when absent or unreadable."""
    if not text:
        return None
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    seconds = moment.timestamp()
    # A time UTC cannot write (past the year 9999 once its offset is taken off) is unreadable.
    return seconds if seconds <= _LATEST else None


_LATEST = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC).timestamp()


def format_time(seconds: float) -> str:
    """Seconds since the epoch as the UTC ``yyyy-MM-ddTHH:mm:ssZ`` the *arr expects (a time
    after the year 9999 as its last second)."""
    moment = datetime.datetime.fromtimestamp(math.floor(min(seconds, _LATEST)), datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _number(key: str, raw: Mapping[str, object]) -> float:
    value = raw.get(key)
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad_reply(f"a queue record's {key} is not a number", value)
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else 0.0


def _flatten_messages(fields: WireObject) -> tuple[str, ...]:
    flattened = []
    for item in fields.items("statusMessages"):
        message = fields.child(item, "a status message")
        title = message.text("title")
        texts = [
            strict.storable(text)
            for text in message.items("messages")
            if isinstance(text, str) and text
        ]
        if title and texts:
            flattened.append(f"{title}: {'; '.join(texts)}")
        elif title or texts:
            flattened.append(title or "; ".join(texts))
    return tuple(flattened)


def _episode(fields: WireObject) -> ArrEpisode | None:
    raw = fields.mapping("episode")
    if not raw:
        return None
    episode = fields.child(raw, "an episode")
    return ArrEpisode(
        id=episode.identifier("id"),
        season=episode.integer("seasonNumber", REQUIRED, minimum=0, maximum=strict.MAX_INT32),
        episode=episode.integer("episodeNumber", REQUIRED, minimum=0, maximum=strict.MAX_INT32),
        title=episode.optional_text("title") or None,
        tvdb_id=episode.optional_identifier("tvdbId"),
    )


def _series(fields: WireObject) -> ArrSeries | None:
    raw = fields.mapping("series")
    if not raw:
        return None
    series = fields.child(raw, "a series")
    return ArrSeries(
        id=series.identifier("id"),
        title=series.text("title", REQUIRED),
        tvdb_id=series.optional_identifier("tvdbId"),
        tmdb_id=series.optional_identifier("tmdbId"),
        imdb_id=series.optional_text("imdbId") or None,
        year=series.optional_integer("year") or None,
        is_anime=(series.optional_text("seriesType") or "").lower() == "anime",
    )


def _movie(fields: WireObject) -> ArrMovie | None:
    raw = fields.mapping("movie")
    if not raw:
        return None
    movie = fields.child(raw, "a movie")
    genres = [g for g in movie.items("genres") if isinstance(g, str)]
    return ArrMovie(
        id=movie.identifier("id"),
        title=movie.text("title", REQUIRED),
        year=movie.optional_integer("year") or None,
        tmdb_id=movie.optional_identifier("tmdbId"),
        imdb_id=movie.optional_text("imdbId") or None,
        is_anime="Anime" in genres,
    )


def queue_item_from_wire(value: object, *, service: str) -> ArrQueueItem:
    fields = WireObject(value, service=service, what="a queue record")
    raw = typing.cast("dict[str, object]", value)
    item_key = "episodeId" if service == "Sonarr" else "movieId"
    status = fields.optional_text("status")
    return ArrQueueItem(
        id=fields.identifier("id"),
        download_id=fields.optional_text("downloadId") or None,
        title=fields.optional_text("title"),
        item_id=fields.optional_identifier(item_key),
        season=fields.optional_integer("seasonNumber"),
        status=status.lower() if status else None,
        tracked_state=fields.optional_text("trackedDownloadState"),
        tracked_status=fields.optional_text("trackedDownloadStatus"),
        messages=_flatten_messages(fields),
        error_message=fields.optional_text("errorMessage") or None,
        size=_number("size", raw),
        size_left=_number("sizeleft", raw),
        episode=_episode(fields),
    )


def history_record_from_wire(value: object, *, service: str) -> ArrHistoryRecord:
    fields = WireObject(value, service=service, what="a history record")
    item_key = "episodeId" if service == "Sonarr" else "movieId"
    data: dict[str, str | None] = {}
    for key, item in fields.mapping("data").items():
        if isinstance(item, str):
            data[key] = strict.storable(item)
        elif item is None:
            data[key] = None
    date = parse_time(fields.text("date", REQUIRED))
    if date is None:
        raise bad_reply(f"{service} answered a history record with an unreadable date", value)
    return ArrHistoryRecord(
        id=fields.identifier("id"),
        event_type=fields.text("eventType", REQUIRED),
        date=date,
        download_id=fields.optional_text("downloadId") or None,
        source_title=fields.optional_text("sourceTitle"),
        item_id=fields.optional_identifier(item_key),
        data=data,
        series=_series(fields),
        episode=_episode(fields),
        movie=_movie(fields),
    )


class ArrService(KeyedService):
    """Sonarr or Radarr: an API key it refuses is ``auth_error``, any other answer but those
    allowed is an ``UnexpectedResponse``; and the reconciliation calls, alike in both."""

    auth_error: typing.ClassVar[type[ArrAuthError]]
    _unknown_items: typing.ClassVar[str]
    """The queue's parameter that lists downloads of titles the *arr does not know too."""
    _included: typing.ClassVar[tuple[str, ...]]
    """What the queue and the history send along with each record (its series, episode...)."""

    def _check(
        self, response: httpx.Response, *, allowed: Container[int] = (httpx.codes.OK,)
    ) -> None:
        if response.status_code == httpx.codes.UNAUTHORIZED:
            raise self.auth_error(
                f"{self.service_name} at {self.shown_url} refused the API key",
                reason=f"{self.service_name} refused the API key",
            )
        if response.status_code not in allowed:
            raise self._unexpected(response)

    async def _get(
        self, path: str, params: Mapping[str, str], *, expected: type[list] | type[dict] = list
    ) -> typing.Any:
        response = await self._send("GET", path, params=params, headers=self._headers)
        self._check(response)
        return self._json(response, expected)

    @property
    def _include_params(self) -> dict[str, str]:
        return dict.fromkeys(self._included, "true")

    async def queue(self) -> list[ArrQueueItem]:
        """Every record of the queue (one per episode in Sonarr, per download in Radarr), every
        page, unknown items included."""
        records: list[ArrQueueItem] = []
        page = 1
        while page <= MAX_QUEUE_PAGES:
            params = {
                "page": str(page),
                "pageSize": str(QUEUE_PAGE_SIZE),
                "sortKey": "timeleft",
                "sortDirection": "ascending",
                self._unknown_items: "true",
                **self._include_params,
            }
            body = await self._get("/api/v3/queue", params, expected=dict)
            envelope = WireObject(body, service=self.service_name, what="a queue page")
            answered_page = envelope.integer("page", 1)
            if answered_page != page:
                break  # past the end: the *arr answers an earlier page again
            items = envelope.items("records")
            records.extend(queue_item_from_wire(item, service=self.service_name) for item in items)
            total = envelope.integer("totalRecords", 0)
            if not items or page * QUEUE_PAGE_SIZE >= total:
                break
            page += 1
        return records

    async def history_since(self, since: float) -> list[ArrHistoryRecord]:
        """History rows dated at or after ``since``, with what they are about, oldest first."""
        params = {"date": format_time(since), **self._include_params}
        body = await self._get("/api/v3/history/since", params)
        records = [history_record_from_wire(item, service=self.service_name) for item in body]
        return sorted(records, key=lambda record: (record.date, record.id))

    async def remove_from_queue(self, queue_id: int, *, blocklist: bool) -> bool:
        """Remove the whole download of a queue record from the client (and blocklist it);
        False when no longer queued."""
        response = await self._send(
            "DELETE",
            f"/api/v3/queue/{queue_id}",
            params={
                "removeFromClient": "true",
                "blocklist": "true" if blocklist else "false",
                "skipRedownload": "false",
            },
            headers=self._headers,
        )
        if response.status_code == httpx.codes.NOT_FOUND:
            return False
        self._check(response)
        return True

    async def _command(self, name: str, **body: object) -> int | None:
        """Start a command (``EpisodeSearch``, ``MoviesSearch``...); returns its id (the *arr
        answers 201 Created with the command)."""
        response = await self._send(
            "POST", "/api/v3/command", json={"name": name, **body}, headers=self._headers
        )
        started = (httpx.codes.OK, httpx.codes.CREATED)
        self._check(response, allowed=started)
        body = self._json(response, dict, statuses=started)
        command = WireObject(body, service=self.service_name, what="a command")
        return command.optional_identifier("id")
