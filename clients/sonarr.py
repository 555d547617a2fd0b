"""Sonarr's v3 API, read-only: which series has a TVDB id, and which episodes it has."""

from __future__ import annotations

import typing
from collections.abc import Mapping

import attrs
import httpx

from clients._http import ClientError, HttpService


@typing.final
class SonarrAuthError(ClientError):
    """Sonarr refused the API key (401)."""


@typing.final
@attrs.frozen(kw_only=True)
class SonarrEpisode:
    """One episode as Sonarr's ``/api/v3/episode`` lists it."""

    id: int
    season: int
    episode: int
    title: str | None = None
    tvdb_id: int | None = None
    has_file: bool = False

    @classmethod
    def from_wire(cls, fields: Mapping[str, typing.Any]) -> SonarrEpisode:
        return cls(
            id=int(fields["id"]),
            season=int(fields["seasonNumber"]),
            episode=int(fields["episodeNumber"]),
            title=fields.get("title") or None,
            tvdb_id=fields.get("tvdbId") or None,
            has_file=bool(fields.get("hasFile")),
        )


@typing.final
class SonarrClient(HttpService):
    """Looks series and episodes up with an API key (``X-Api-Key``)."""

    service_name = "Sonarr"

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(base_url, http=http, timeout=timeout)
        self._headers = {"X-Api-Key": api_key}

    def __repr__(self) -> str:
        return f"SonarrClient({self._base_url!r})"

    async def series_id_for_tvdb(self, tvdb_id: int) -> int | None:
        """Sonarr's id of the series with this TVDB id, or None when Sonarr does not have it."""
        body = await self._get("/api/v3/series", {"tvdbId": str(tvdb_id)})
        for series in body:
            if isinstance(series, dict) and series.get("tvdbId") == tvdb_id and "id" in series:
                return int(series["id"])
        return None

    async def episodes(self, series_id: int) -> list[SonarrEpisode]:
        """Every episode Sonarr knows for a series, specials included."""
        body = await self._get("/api/v3/episode", {"seriesId": str(series_id)})
        return [SonarrEpisode.from_wire(item) for item in body if isinstance(item, dict)]

    async def _get(self, path: str, params: Mapping[str, str]) -> list[typing.Any]:
        response = await self._send("GET", path, params=params, headers=self._headers)
        if response.status_code == httpx.codes.UNAUTHORIZED:
            raise SonarrAuthError(f"Sonarr at {self._base_url} refused the API key")
        return self._json(response, list)
