"""A fake Sonarr v3 API (series by TVDB id, episodes of a series; queue, history and commands
through ``FakeArrCore``), in Sonarr's JSON shapes."""

from __future__ import annotations

import contextlib
import json
import time
import typing
import urllib.parse
from collections.abc import AsyncIterator, Mapping
from typing import Any

from tests.support.fake_arr import FakeArrCore
from tests.support.fake_http import open_fake_server


@typing.final
class FakeSonarr:
    """Holds series and episodes; answers ``/api/v3/series`` and ``/api/v3/episode``."""

    def __init__(self, api_key: str) -> None:
        self.url = ""
        self._api_key = api_key
        self._series: list[dict[str, Any]] = []
        self._episodes: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self._no_files = True
        self.unmonitored: list[int] = []
        self.deleted_files: list[int] = []
        self.arr = FakeArrCore("sonarr")

    def add_series(
        self,
        series_id: int,
        title: str,
        tvdb_id: int,
        *,
        tmdb_id: int | None = None,
        year: int | None = None,
        anime: bool = False,
    ) -> None:
        series = {
            "id": series_id,
            "title": title,
            "tvdbId": tvdb_id,
            "seriesType": "anime" if anime else "standard",
        }
        if tmdb_id is not None:
            series["tmdbId"] = tmdb_id
        if year is not None:
            series["year"] = year
        self._series.append(series)

    def episode_ids(self, series_id: int, season: int) -> list[int]:
        return [
            e["id"]
            for e in self._episodes
            if e["seriesId"] == series_id and e["seasonNumber"] == season
        ]

    def _include(self, record: dict[str, Any], params: Mapping[str, str]) -> dict[str, Any]:
        if params.get("includeSeries") == "true" and "seriesId" in record:
            found = [s for s in self._series if s["id"] == record["seriesId"]]
            if found:
                record["series"] = found[0]
        if params.get("includeEpisode") == "true" and "episodeId" in record:
            found = [e for e in self._episodes if e["id"] == record["episodeId"]]
            if found:
                record["episode"] = found[0]
        return record

    def add_episodes(
        self, series_id: int, season: int, count: int, *, first_id: int, with_files: bool = False
    ) -> None:
        self._no_files = not with_files
        for number in range(1, count + 1):
            self._episodes.append(
                {
                    "seriesId": series_id,
                    "tvdbId": 8_000_000 + first_id + number,
                    "episodeFileId": 0 if self._no_files else 40_000 + first_id + number,
                    "seasonNumber": season,
                    "episodeNumber": number,
                    "title": f"Episode {number}",
                    "hasFile": False,
                    "monitored": True,
                    "id": first_id + number,
                }
            )

    def answer(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, str, bytes]:
        path, _, query = target.partition("?")
        params = dict(urllib.parse.parse_qsl(query))
        self.paths.append(path)
        if headers.get("x-api-key") != self._api_key:
            return 401, "text/plain", b"Unauthorized"
        handled = self.arr.answer(
            method, path, params, body, include=self._include, now=time.time()
        )
        if handled is not None:
            return handled
        if method == "PUT" and path == "/api/v3/episode/monitor":
            request = json.loads(body)
            if request.get("monitored") is False:
                self.unmonitored.extend(request["episodeIds"])
            return 202, "application/json", b"[]"
        if method == "DELETE" and path.startswith("/api/v3/episodefile/"):
            self.deleted_files.append(int(path.rsplit("/", 1)[1]))
            return 200, "application/json", b"{}"
        if method != "GET":
            return 405, "text/plain", b""
        if path.startswith("/api/v3/episode/"):
            episode_id = int(path.rsplit("/", 1)[1])
            found = [e for e in self._episodes if e["id"] == episode_id]
            if not found:
                return 404, "text/plain", b""
            return 200, "application/json", json.dumps(found[0]).encode()
        if path == "/api/v3/series":
            found = [s for s in self._series if str(s["tvdbId"]) == params.get("tvdbId")]
            return 200, "application/json", json.dumps(found).encode()
        if path == "/api/v3/episode":
            found = [e for e in self._episodes if str(e["seriesId"]) == params.get("seriesId")]
            return 200, "application/json", json.dumps(found).encode()
        return 404, "text/plain", b""


@contextlib.asynccontextmanager
async def open_fake_sonarr(api_key: str) -> AsyncIterator[FakeSonarr]:
    fake = FakeSonarr(api_key)
    async with open_fake_server(fake.answer) as url:
        fake.url = url
        yield fake
