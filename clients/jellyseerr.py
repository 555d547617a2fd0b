"""Jellyseerr's (and Seerr's, Overseerr's) ``/api/v1``: every request, and a title's details.

Status enums are numbers on the wire (``reference/reconcile-apis.md`` §3.1); the records keep
them as numbers and name them with the constants below.
"""

from __future__ import annotations

import typing

import attrs
import httpx
from status_tracker.clients._arr import parse_time
from status_tracker.clients._fields import REQUIRED, WireObject
from status_tracker.clients._http import ClientError, KeyedService

_SERVICE: typing.Final = "Jellyseerr"
PAGE_SIZE: typing.Final = 100
MAX_PAGES: typing.Final = 500

# MediaRequestStatus
PENDING, APPROVED, DECLINED, FAILED, COMPLETED = 1, 2, 3, 4, 5
# MediaStatus
MEDIA_UNKNOWN, MEDIA_PENDING, MEDIA_PROCESSING, MEDIA_PARTIAL, MEDIA_AVAILABLE = 1, 2, 3, 4, 5
MEDIA_BLOCKLISTED, MEDIA_DELETED = 6, 7


@typing.final
class JellyseerrAuthError(ClientError):
    """Jellyseerr refused the API key (401/403)."""


@typing.final
@attrs.frozen(kw_only=True)
class SeerrRequest:
    """One request as ``GET /api/v1/request`` lists it (no title: see ``title_of``)."""

    id: int
    status: int
    media_type: typing.Literal["movie", "tv"]
    media_status: int
    tmdb_id: int | None
    tvdb_id: int | None
    seasons: tuple[int, ...]
    requested_by: str | None
    requested_at: float | None
    arr_id: int | None
    jellyfin_id: str | None
    season_statuses: tuple[tuple[int, int], ...] = ()
    """(season number, MediaRequestStatus) of each requested season (``seasons[].status``)."""
    media_seasons: tuple[tuple[int, int], ...] | None = None
    """(season number, MediaStatus) of the show's seasons (``media.seasons``), which only
    ``GET /api/v1/request/{id}`` gives: read for a TV request in flight whose show is processing
    or partially available (``needs_media_seasons``); None when not read."""


@typing.final
@attrs.frozen(kw_only=True)
class SeerrTitle:
    """A movie's or series' details from ``/api/v1/movie/{id}`` or ``/api/v1/tv/{id}``."""

    title: str
    year: int | None
    poster_url: str | None
    overview: str | None


def _display_name(user: WireObject | None) -> str | None:
    if user is None:
        return None
    for key in ("displayName", "username", "jellyfinUsername", "plexUsername", "email"):
        name = user.optional_text(key)
        if name:
            return name
    return None


def request_from_wire(value: object) -> SeerrRequest:
    fields = WireObject(value, service=_SERVICE, what="a request")
    media = fields.child(fields.mapping("media"), "a request's media")
    media_type = fields.text("type", REQUIRED)
    if media_type not in ("movie", "tv"):
        media_type = media.text("mediaType", REQUIRED)
    seasons = []
    statuses = []
    for item in fields.items("seasons"):
        season = fields.child(item, "a season request")
        number = season.optional_integer("seasonNumber")
        if number is not None:
            seasons.append(number)
            statuses.append((number, season.integer("status", 0, minimum=0, maximum=99)))
    user = fields.mapping("requestedBy")
    return SeerrRequest(
        id=fields.identifier("id"),
        status=fields.integer("status", REQUIRED, minimum=0, maximum=99),
        media_type="movie" if media_type == "movie" else "tv",
        media_status=media.integer("status", MEDIA_UNKNOWN, minimum=0, maximum=99),
        tmdb_id=media.optional_identifier("tmdbId"),
        tvdb_id=media.optional_identifier("tvdbId"),
        seasons=tuple(sorted(set(seasons))),
        requested_by=_display_name(fields.child(user, "a user") if user else None),
        requested_at=parse_time(fields.optional_text("createdAt")),
        arr_id=media.optional_identifier("externalServiceId"),
        jellyfin_id=media.optional_text("jellyfinMediaId") or None,
        season_statuses=tuple(sorted(set(statuses))),
    )


def media_seasons_from_wire(value: object) -> tuple[tuple[int, int], ...]:
    """(season number, MediaStatus) of ``media.seasons`` in ``GET /api/v1/request/{id}``."""
    fields = WireObject(value, service=_SERVICE, what="a request")
    media = fields.child(fields.mapping("media"), "a request's media")
    found = set()
    for item in media.items("seasons"):
        season = media.child(item, "a season")
        number = season.optional_integer("seasonNumber")
        if number is not None:
            found.add((number, season.integer("status", MEDIA_UNKNOWN, minimum=0, maximum=99)))
    return tuple(sorted(found))


def needs_media_seasons(request: SeerrRequest) -> bool:
    """Whether only the show's own seasons tell if this request is still in flight.

    A TV request pending or approved whose show is processing or partially available: that
    status is the whole show's (a season nobody asked for is enough to make it partial), and
    Jellyseerr before 2.6 keeps a finished request approved for good. Not when Seerr already
    completed each of its season requests (2.6+).
    """
    return (
        request.media_type == "tv"
        and request.status in (PENDING, APPROVED)
        and request.media_status in (MEDIA_PROCESSING, MEDIA_PARTIAL)
        and any(status != COMPLETED for _, status in request.season_statuses)
    )


def _version(value: object) -> tuple[object, ...] | None:
    """What changes with a request's or its media's seasons, as listed: None when unknown."""
    if not isinstance(value, dict) or not isinstance(media := value.get("media"), dict):
        return None
    stamps = (
        value.get("updatedAt"),
        media.get("updatedAt"),
        media.get("lastSeasonChange"),
        media.get("status"),
    )
    return stamps if any(isinstance(stamp, str) for stamp in stamps) else None


@typing.final
class JellyseerrClient(KeyedService):
    """Reads requests with the main API key (``X-Api-Key``, acting as the admin)."""

    service_name = _SERVICE

    def __init__(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        super().__init__(*args, **kwargs)
        self._media_seasons: dict[int, tuple[tuple[object, ...], tuple[tuple[int, int], ...]]] = {}
        """Per request id: the listed version it was read at and its media's seasons."""

    async def requests(self) -> list[SeerrRequest]:
        """Every request, page by page (newest first); for a TV request whose show is processing
        or partially available, its show's seasons too (``needs_media_seasons``): one more
        read per such request, again only when the list shows it or its media changed."""
        found: list[SeerrRequest] = []
        versions: dict[int, tuple[object, ...] | None] = {}
        for page in range(MAX_PAGES):
            body = await self._get(
                "/api/v1/request",
                {
                    "take": str(PAGE_SIZE),
                    "skip": str(page * PAGE_SIZE),
                    "filter": "all",
                    "sort": "added",
                    "sortDirection": "desc",
                },
            )
            envelope = WireObject(body, service=_SERVICE, what="a request page")
            results = envelope.items("results")
            for item in results:
                request = request_from_wire(item)
                found.append(request)
                versions[request.id] = _version(item)
            info = envelope.child(envelope.mapping("pageInfo"), "page info")
            total = info.integer("results", 0)
            if not results or len(found) >= total:
                break
        completed = [await self._with_media_seasons(r, versions.get(r.id)) for r in found]
        for request_id in set(self._media_seasons) - set(versions):
            del self._media_seasons[request_id]
        return completed

    async def _with_media_seasons(
        self, request: SeerrRequest, version: tuple[object, ...] | None
    ) -> SeerrRequest:
        """``request`` with its show's seasons when it needs them (``needs_media_seasons``),
        read from ``GET /api/v1/request/{id}`` unless read at this version already; as it is
        when the request is gone meanwhile (404)."""
        if not needs_media_seasons(request):
            self._media_seasons.pop(request.id, None)
            return request
        known = self._media_seasons.get(request.id)
        if known is not None and version is not None and known[0] == version:
            return attrs.evolve(request, media_seasons=known[1])
        response = await self._send("GET", f"/api/v1/request/{request.id}", headers=self._headers)
        self._check_auth(response)
        if response.status_code == httpx.codes.NOT_FOUND:
            return request
        seasons = media_seasons_from_wire(self._json(response, dict))
        if version is not None:
            self._media_seasons[request.id] = (version, seasons)
        return attrs.evolve(request, media_seasons=seasons)

    async def title_of(self, media_type: str, tmdb_id: int) -> SeerrTitle | None:
        """A movie's or series' title and year, or None when Jellyseerr cannot find it."""
        path = f"/api/v1/{'movie' if media_type == 'movie' else 'tv'}/{tmdb_id}"
        # Seerr answers 500 when TMDB fails to find the title: unknown, as a 404 is.
        response = await self._send(
            "GET", path, answered=(httpx.codes.INTERNAL_SERVER_ERROR,), headers=self._headers
        )
        self._check_auth(response)
        if response.status_code in (httpx.codes.NOT_FOUND, httpx.codes.INTERNAL_SERVER_ERROR):
            return None
        fields = WireObject(self._json(response, dict), service=_SERVICE, what="a title")
        title = fields.optional_text("title") or fields.optional_text("name")
        if not title:
            return None
        date = fields.optional_text("releaseDate") or fields.optional_text("firstAirDate") or ""
        poster = fields.optional_text("posterPath")
        return SeerrTitle(
            title=title,
            year=int(date[:4]) if date[:4].isdigit() else None,
            poster_url=f"https://image.tmdb.org/t/p/w600_and_h900_bestv2{poster}"
            if poster
            else None,
            overview=fields.optional_text("overview") or None,
        )

    def _check_auth(self, response: httpx.Response) -> None:
        if response.status_code in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
            raise JellyseerrAuthError(
                f"Jellyseerr at {self._shown_url} refused the API key ({response.status_code})",
                reason=f"Jellyseerr refused the API key ({response.status_code})",
            )

    async def _get(self, path: str, params: dict[str, str]) -> typing.Any:
        response = await self._send("GET", path, params=params, headers=self._headers)
        self._check_auth(response)
        return self._json(response, dict)
