"""A fake Radarr v3 API: a deletion through the tracker, and the queue, history and commands
the reconciler reads (``FakeArrCore``)."""

from __future__ import annotations

import contextlib
import time
import typing
import urllib.parse
from collections.abc import AsyncIterator, Mapping
from typing import Any

from tests.support.fake_arr import FakeArrCore
from tests.support.fake_http import open_fake_server


@typing.final
class FakeRadarr:
    """Knows some movie ids; records every deletion asked for."""

    def __init__(self, api_key: str, movie_ids: set[int]) -> None:
        self.url = ""
        self._api_key = api_key
        self.movie_ids = movie_ids
        self.deleted: list[tuple[int, dict[str, str]]] = []
        self.down = False
        self.arr = FakeArrCore("radarr")
        self._movies: dict[int, dict[str, Any]] = {}

    def add_movie(self, movie_id: int, title: str, *, year: int, tmdb_id: int) -> None:
        self._movies[movie_id] = {
            "id": movie_id,
            "title": title,
            "year": year,
            "tmdbId": tmdb_id,
            "genres": ["Science Fiction"],
            "hasFile": False,
        }

    def _include(self, record: dict[str, Any], params: Mapping[str, str]) -> dict[str, Any]:
        if params.get("includeMovie") == "true" and record.get("movieId") in self._movies:
            record["movie"] = self._movies[record["movieId"]]
        return record

    def answer(
        self, method: str, target: str, headers: Mapping[str, str], _body: bytes = b""
    ) -> tuple[int, str, bytes]:
        path, _, query = target.partition("?")
        if self.down:
            return 503, "text/plain", b"Service Unavailable"
        if headers.get("x-api-key") != self._api_key:
            return 401, "text/plain", b"Unauthorized"
        handled = self.arr.answer(
            method,
            path,
            dict(urllib.parse.parse_qsl(query)),
            _body,
            include=self._include,
            now=time.time(),
        )
        if handled is not None:
            return handled
        if method == "DELETE" and path.startswith("/api/v3/movie/"):
            movie_id = int(path.rsplit("/", 1)[1])
            if movie_id not in self.movie_ids:
                return 404, "application/json", b'{"message": "NotFound"}'
            self.movie_ids.discard(movie_id)
            self.deleted.append((movie_id, dict(urllib.parse.parse_qsl(query))))
            return 200, "application/json", b"{}"
        return 404, "text/plain", b""


@contextlib.asynccontextmanager
async def open_fake_radarr(api_key: str, movie_ids: set[int]) -> AsyncIterator[FakeRadarr]:
    fake = FakeRadarr(api_key, movie_ids)
    async with open_fake_server(fake.answer) as url:
        fake.url = url
        yield fake
