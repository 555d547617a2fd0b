"""A fake Jellyseerr/Seerr ``/api/v1``: the paged request list, one request, title details, on
the wire.

As Seerr sends them (reference/reconcile-apis.md §3): numeric status enums, ISO dates with
milliseconds, ``null`` kept, ``X-Api-Key`` or 403. The list leaves ``media.seasons`` out; one
request (``/api/v1/request/{id}``) has it. Records every call.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import typing
import urllib.parse
from collections.abc import AsyncIterator, Mapping
from typing import Any

from tests.support.fake_http import open_fake_server


def _iso(seconds: float) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@typing.final
class FakeJellyseerr:
    def __init__(self, api_key: str) -> None:
        self.url = ""
        self._api_key = api_key
        self.requests: list[dict[str, Any]] = []
        self.media_seasons: dict[int, list[dict[str, Any]]] = {}
        """Per request id: its media's ``seasons`` (only ``/api/v1/request/{id}`` has them)."""
        self.titles: dict[tuple[str, int], dict[str, Any]] = {}
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.tmdb_failing: set[tuple[str, int]] = set()
        """Titles whose details Seerr cannot get from TMDB: it answers 500."""

    def add_request(
        self,
        request_id: int,
        *,
        media_type: str,
        tmdb_id: int,
        title: str,
        year: int,
        tvdb_id: int | None = None,
        status: int = 2,
        media_status: int = 3,
        seasons: tuple[int, ...] = (),
        requested_by: str = "alice",
        at: float = 1_749_600_000.0,
        external_service_id: int | None = None,
        season_statuses: Mapping[int, int] | None = None,
        media_seasons: Mapping[int, int] | None = None,
    ) -> None:
        """A request as Seerr lists it.

        ``season_statuses``: each requested season's own MediaRequestStatus (default: the
        request's status; Seerr 2.6+ completes each season on its own, older versions never);
        ``media_seasons``: the show's seasons' MediaStatus (``media.seasons``).
        """
        own = season_statuses or {}
        self.media_seasons[request_id] = [
            {
                "id": 300 + 10 * request_id + number,
                "seasonNumber": number,
                "status": status,
                "status4k": 1,
                "createdAt": _iso(at),
                "updatedAt": _iso(at),
            }
            for number, status in sorted((media_seasons or {}).items())
        ]
        self.requests.append(
            {
                "id": request_id,
                "status": status,
                "createdAt": _iso(at),
                "updatedAt": _iso(at),
                "type": media_type,
                "is4k": False,
                "serverId": 0,
                "profileId": 4,
                "rootFolder": "/data/media",
                "languageProfileId": None,
                "tags": None,
                "isAutoRequest": False,
                "media": {
                    "downloadStatus": [],
                    "downloadStatus4k": [],
                    "id": 1000 + request_id,
                    "mediaType": media_type,
                    "tmdbId": tmdb_id,
                    "tvdbId": tvdb_id,
                    "imdbId": None,
                    "status": media_status,
                    "status4k": 1,
                    "serviceId": 0,
                    "externalServiceId": external_service_id,
                    "jellyfinMediaId": None,
                },
                "seasons": [
                    {"id": 500 + n, "seasonNumber": n, "status": own.get(n, status)}
                    for n in seasons
                ],
                "requestedBy": {
                    "permissions": 32,
                    "warnings": [],
                    "id": 7,
                    "email": f"{requested_by}@example.com",
                    "jellyfinUsername": requested_by,
                    "username": None,
                    "userType": 3,
                    "displayName": requested_by,
                    "requestCount": 1,
                },
                "modifiedBy": None,
                "seasonCount": len(seasons),
            }
        )
        key = "title" if media_type == "movie" else "name"
        date_key = "releaseDate" if media_type == "movie" else "firstAirDate"
        self.titles[(media_type, tmdb_id)] = {
            "id": tmdb_id,
            key: title,
            date_key: f"{year}-01-01",
            "overview": f"About {title}.",
            "posterPath": f"/{tmdb_id}.jpg",
        }

    def accept_key(self, api_key: str) -> None:
        """Take ``api_key`` from now on (the key was changed in Seerr's settings)."""
        self._api_key = api_key

    def set_status(self, request_id: int, status: int) -> None:
        for request in self.requests:
            if request["id"] == request_id:
                request["status"] = status

    def delete(self, request_id: int) -> None:
        self.requests = [r for r in self.requests if r["id"] != request_id]

    def answer(
        self, method: str, target: str, headers: Mapping[str, str], _body: bytes = b""
    ) -> tuple[int, str, bytes]:
        path, _, text = target.partition("?")
        params = dict(urllib.parse.parse_qsl(text))
        self.calls.append((path, params))
        if headers.get("x-api-key") != self._api_key:
            error = {"status": 403, "error": "You do not have permission to access this endpoint"}
            return 403, "application/json", json.dumps(error).encode()
        if method == "GET" and path == "/api/v1/request":
            take = int(params.get("take", "10"))
            skip = int(params.get("skip", "0"))
            ordered = sorted(self.requests, key=lambda r: r["id"], reverse=True)
            page = ordered[skip : skip + take]
            body = {
                "pageInfo": {
                    "pages": -(-len(ordered) // take),
                    "pageSize": take,
                    "results": len(ordered),
                    "page": -(-skip // take) + 1,
                },
                "results": page,
                "serviceErrors": {"radarr": [], "sonarr": []},
            }
            return 200, "application/json", json.dumps(body).encode()
        prefix = "/api/v1/request/"
        if method == "GET" and path.startswith(prefix) and path[len(prefix) :].isdigit():
            request_id = int(path[len(prefix) :])
            for request in self.requests:
                if request["id"] == request_id:
                    one = json.loads(json.dumps(request))
                    one["media"]["seasons"] = self.media_seasons.get(request_id, [])
                    return 200, "application/json", json.dumps(one).encode()
            return 404, "application/json", b'{"message": "Request not found."}'
        for media_type in ("movie", "tv"):
            prefix = f"/api/v1/{media_type}/"
            if method == "GET" and path.startswith(prefix) and path[len(prefix) :].isdigit():
                key = (media_type, int(path[len(prefix) :]))
                if key in self.tmdb_failing:
                    failed = b'{"message": "Unable to retrieve series."}'
                    if media_type == "movie":
                        failed = b'{"message": "Unable to retrieve movie."}'
                    return 500, "application/json", failed
                found = self.titles.get(key)
                if found is None:
                    return 404, "application/json", b'{"message": "Unable to retrieve movie."}'
                return 200, "application/json", json.dumps(found).encode()
        return 404, "application/json", b'{"message": "Not Found"}'


@contextlib.asynccontextmanager
async def open_fake_jellyseerr(api_key: str) -> AsyncIterator[FakeJellyseerr]:
    fake = FakeJellyseerr(api_key)
    async with open_fake_server(fake.answer) as url:
        fake.url = url
        yield fake
