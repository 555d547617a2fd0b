"""An in-process fake Jellyfin (10.11 wire format) for tests: library, auth, outages on demand.

Serves ``/Items``, ``/Shows/{id}/Episodes`` and ``/System/Info/Public`` over HTTP/1.1 (h11 on Trio
sockets). Like Jellyfin it ignores unknown query parameters, ``AnyProviderIdEquals`` included.
"""

from __future__ import annotations

import contextlib
import json
import typing
import urllib.parse
import uuid

import attrs

from tests.support.fake_http import open_fake_server

if typing.TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Mapping

SERVER_ID: typing.Final = "a3f1c2d4e5b64789a0b1c2d3e4f5a6b7"
SERVER_VERSION: typing.Final = "10.11.11"
_FIELDS_SENT_ONLY_ON_REQUEST: typing.Final = ("ProviderIds", "Path", "OriginalTitle")
_ITEM_ID_NAMESPACE: typing.Final = uuid.UUID("5f0c7c43-6f1a-4f43-9a43-8a3c1b7f6d10")

Dto = dict[str, typing.Any]


@typing.final
@attrs.frozen(kw_only=True)
class RecordedRequest:
    """One request the fake received, in arrival order."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    authorized: bool

    def param(self, name: str) -> str | None:
        """The first query value called ``name``, matched case-insensitively as ASP.NET does."""
        return next((value for key, value in self.query if key.lower() == name.lower()), None)


def _provider_ids(
    tmdb: str | int | None,
    tvdb: str | int | None,
    imdb: str | None,
    others: Mapping[str, str] | None,
) -> dict[str, str]:
    named = {"Tmdb": tmdb, "Imdb": imdb, "Tvdb": tvdb}
    ids = {key: str(value) for key, value in named.items() if value is not None}
    ids.update(others or {})
    return ids


def _token_from_authorization(header: str) -> str | None:
    """The ``Token`` of a ``MediaBrowser Token="...", ...`` header (None for other schemes)."""
    scheme, _, parameters = header.partition(" ")
    if scheme.lower() != "mediabrowser":
        return None
    for part in parameters.split(","):
        key, _, value = part.strip().partition("=")
        if key.lower() == "token":
            return value.strip().strip('"')
    return None


@typing.final
class FakeJellyfin:
    """The library and request log behind one fake server; build it with ``open_fake_jellyfin``.

    Items are kept with every field; ``ProviderIds``, ``Path`` and ``OriginalTitle`` are only sent
    when named in ``Fields``, as Jellyfin does. Virtual items carry no ``Path``.
    """

    def __init__(self, api_key: str, url: str) -> None:
        self.url = url
        self.requests: list[RecordedRequest] = []
        self._api_key = api_key
        self._items: dict[str, Dto] = {}
        self._down = False
        self._garbage: bytes | None = None

    def set_down(self, down: bool) -> None:
        """While down, every request is answered 503."""
        self._down = down

    def answer_garbage(self, body: bytes | str | None) -> None:
        """Answer every GET with ``body`` (200, JSON content type); None answers well again."""
        self._garbage = body.encode() if isinstance(body, str) else body

    def add_movie(
        self,
        name: str,
        year: int,
        *,
        tmdb: str | int | None = None,
        imdb: str | None = None,
        path: str | None = None,
        original_title: str | None = None,
        provider_ids: Mapping[str, str] | None = None,
    ) -> str:
        """Add a movie file; returns its id (32 lower-case hex)."""
        return self._add(
            {
                "Name": name,
                "OriginalTitle": original_title,
                "ProductionYear": year,
                "ProviderIds": _provider_ids(tmdb, None, imdb, provider_ids),
                "Path": path or f"/data/movies/{name} ({year})/{name} ({year}).mkv",
                "IsFolder": False,
                "Type": "Movie",
                "LocationType": "FileSystem",
                "MediaType": "Video",
            }
        )

    def add_series(
        self,
        name: str,
        year: int,
        *,
        tmdb: str | int | None = None,
        tvdb: str | int | None = None,
        imdb: str | None = None,
        path: str | None = None,
        original_title: str | None = None,
        provider_ids: Mapping[str, str] | None = None,
    ) -> str:
        """Add a series folder; returns its id (32 lower-case hex)."""
        return self._add(
            {
                "Name": name,
                "OriginalTitle": original_title,
                "ProductionYear": year,
                "ProviderIds": _provider_ids(tmdb, tvdb, imdb, provider_ids),
                "Path": path or f"/data/shows/{name} ({year})",
                "IsFolder": True,
                "Type": "Series",
                "LocationType": "FileSystem",
            }
        )

    def add_episode(
        self,
        series_id: str,
        season: int,
        episode: int,
        *,
        name: str | None = None,
        episode_end: int | None = None,
        tmdb: str | int | None = None,
        tvdb: str | int | None = None,
        path: str | None = None,
        location_type: str = "FileSystem",
        provider_ids: Mapping[str, str] | None = None,
    ) -> str:
        """Add an episode (and its Season item if new); returns its id (32 lower-case hex).

        ``location_type="Virtual"`` makes a missing episode: listed, but with no ``Path``.
        """
        series = self._items[series_id]
        season_item = self._season(series, season, location_type)
        on_disk = location_type != "Virtual"
        return self._add(
            {
                "Name": name or f"Episode {episode}",
                "Path": (path or f"{season_item['Path']}/S{season:02d}E{episode:02d}.mkv")
                if on_disk
                else None,
                "IndexNumber": episode,
                "IndexNumberEnd": episode_end,
                "ParentIndexNumber": season,
                "IsFolder": False,
                "Type": "Episode",
                "SeriesName": series["Name"],
                "SeriesId": series["Id"],
                "SeasonId": season_item["Id"],
                "SeasonName": season_item["Name"],
                "ProviderIds": _provider_ids(tmdb, tvdb, None, provider_ids),
                "LocationType": location_type,
                "MediaType": "Video",
            }
        )

    def _season(self, series: Dto, season: int, location_type: str) -> Dto:
        for item in self._items.values():
            if (item["Type"], item.get("SeriesId"), item.get("IndexNumber")) == (
                "Season",
                series["Id"],
                season,
            ):
                if location_type != "Virtual":
                    item["LocationType"] = "FileSystem"
                return item
        season_id = self._add(
            {
                "Name": f"Season {season}" if season else "Specials",
                "Path": f"{series['Path']}/Season {season:02d}",
                "IndexNumber": season,
                "IsFolder": True,
                "Type": "Season",
                "SeriesName": series["Name"],
                "SeriesId": series["Id"],
                "ProviderIds": {},
                "LocationType": location_type,
            }
        )
        return self._items[season_id]

    def _add(self, fields: Dto) -> str:
        item_id = uuid.uuid5(_ITEM_ID_NAMESPACE, str(len(self._items))).hex
        dto = {"Name": fields.pop("Name"), "ServerId": SERVER_ID, "Id": item_id} | fields
        self._items[item_id] = {key: value for key, value in dto.items() if value is not None}
        return item_id

    def answer(
        self, method: str, target: str, headers: Mapping[str, str], _body: bytes = b""
    ) -> tuple[int, str, bytes]:
        """Route one request; returns status, content type and body."""
        raw_path, _, raw_query = target.partition("?")
        path = urllib.parse.unquote(raw_path)
        query = tuple(urllib.parse.parse_qsl(raw_query, keep_blank_values=True))
        token = _token_from_authorization(headers.get("authorization", ""))
        request = RecordedRequest(method=method, path=path, query=query, authorized=False)
        authorized = self._api_key in (token, request.param("ApiKey"))
        self.requests.append(attrs.evolve(request, authorized=authorized))
        segments = [segment.lower() for segment in path.strip("/").split("/")]
        if self._down:
            return 503, "text/plain", b"Service Unavailable"
        if method == "POST" and authorized:
            # Library refreshes (reconciler's nudge): 204 as Jellyfin answers, 404 if unknown.
            if segments == ["library", "refresh"]:
                return 204, "text/plain", b""
            if len(segments) == 3 and segments[0] == "items" and segments[2] == "refresh":
                known = segments[1].replace("-", "") in self._items
                return (204 if known else 404), "text/plain", b""
        if method not in ("GET", "HEAD"):
            return 405, "text/plain", b""
        if self._garbage is not None:
            return 200, "application/json; charset=utf-8", self._garbage
        if segments == ["system", "info", "public"]:
            return self._json(200, self._public_info())
        if not authorized:
            return 401, "text/plain", b""
        if segments == ["items"]:
            return self._json(200, self._query_result(self._query_items(request), request))
        if len(segments) == 3 and segments[0] == "shows" and segments[2] == "episodes":
            series = self._items.get(segments[1].replace("-", ""))
            if series is None or series["Type"] != "Series":
                return 404, "text/plain; charset=utf-8", b"Series not found"
            episodes = self._episodes(series["Id"], request.param("season"))
            return self._json(200, self._query_result(episodes, request))
        return 404, "text/plain", b""

    def _query_items(self, request: RecordedRequest) -> list[Dto]:
        items: Iterable[Dto] = self._items.values()
        if ids := request.param("ids"):
            wanted_ids = {item_id.replace("-", "").lower() for item_id in ids.split(",")}
            items = (item for item in items if item["Id"] in wanted_ids)
        if types := request.param("IncludeItemTypes"):
            wanted_types = {item_type.lower() for item_type in types.split(",")}
            items = (item for item in items if item["Type"].lower() in wanted_types)
        if years := request.param("Years"):
            wanted_years = {int(year) for year in years.split(",")}
            items = (item for item in items if item.get("ProductionYear") in wanted_years)
        if term := request.param("searchTerm"):
            needle = term.lower()
            items = (
                item
                for item in items
                if needle in item["Name"].lower() or needle in item.get("OriginalTitle", "").lower()
            )
        return list(items)

    def _episodes(self, series_id: str, season: str | None) -> list[Dto]:
        episodes = [
            item
            for item in self._items.values()
            if item["Type"] == "Episode"
            and item["SeriesId"] == series_id
            and (season is None or item["ParentIndexNumber"] == int(season))
        ]
        return sorted(episodes, key=lambda item: (item["ParentIndexNumber"], item["IndexNumber"]))

    def _query_result(self, items: list[Dto], request: RecordedRequest) -> Dto:
        requested = {field.lower() for field in (request.param("Fields") or "").split(",")}
        hidden = {field for field in _FIELDS_SENT_ONLY_ON_REQUEST if field.lower() not in requested}
        return {
            "Items": [
                {key: value for key, value in item.items() if key not in hidden} for item in items
            ],
            "TotalRecordCount": len(items),
            "StartIndex": 0,
        }

    def _public_info(self) -> Dto:
        return {
            "LocalAddress": self.url,
            "ServerName": "fake-jellyfin",
            "Version": SERVER_VERSION,
            "ProductName": "Jellyfin Server",
            "OperatingSystem": "",
            "Id": SERVER_ID,
            "StartupWizardCompleted": True,
        }

    @staticmethod
    def _json(status: int, payload: Dto) -> tuple[int, str, bytes]:
        return status, "application/json; charset=utf-8", json.dumps(payload).encode()


@contextlib.asynccontextmanager
async def open_fake_jellyfin(api_key: str) -> AsyncIterator[FakeJellyfin]:
    """Serve a fake Jellyfin on 127.0.0.1 (a free port) until the block exits.

    Example::

        async with open_fake_jellyfin("key") as fake:
            movie_id = fake.add_movie("Violet Evergarden: Recollections", 2021, tmdb=1052946)
            async with JellyfinClient(fake.url, "key") as jellyfin:
                ...
    """
    fake = FakeJellyfin(api_key, "")
    async with open_fake_server(fake.answer) as url:
        fake.url = url
        yield fake
