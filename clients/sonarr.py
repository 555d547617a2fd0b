"""Sonarr's v3 API: which series has a TVDB id, its episodes, and unmonitoring/deleting them."""

from __future__ import annotations

import typing
from collections.abc import Sequence

import attrs
import httpx
from status_tracker.clients._arr import ArrAuthError, ArrService
from status_tracker.clients._fields import REQUIRED, WireObject

from status_tracker import strict

_SERVICE: typing.Final = "Sonarr"


@typing.final
class SonarrAuthError(ArrAuthError):
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
    def from_wire(cls, fields: object) -> SonarrEpisode:
        """Build an episode from Sonarr's episode resource.

        Raises:
            UnexpectedResponse: an id or number is missing or not one, or a field has the wrong
                type.
        """
        episode = WireObject(fields, service=_SERVICE, what="an episode")
        return cls(
            id=episode.identifier("id"),
            season=episode.integer("seasonNumber", REQUIRED, minimum=0, maximum=strict.MAX_INT32),
            episode=episode.integer("episodeNumber", REQUIRED, minimum=0, maximum=strict.MAX_INT32),
            title=episode.optional_text("title") or None,
            tvdb_id=episode.optional_identifier("tvdbId"),
            has_file=episode.flag("hasFile"),
        )


@typing.final
class SonarrClient(ArrService):
    """Looks series and episodes up, and undoes a deletion, with an API key (``X-Api-Key``)."""

    service_name = _SERVICE
    auth_error = SonarrAuthError
    _unknown_items = "includeUnknownSeriesItems"
    _included = ("includeSeries", "includeEpisode")

    async def series_id_for_tvdb(self, tvdb_id: int) -> int | None:
        """Sonarr's id of the series with this TVDB id, or None when Sonarr does not have it."""
        body = await self._get("/api/v3/series", {"tvdbId": str(tvdb_id)})
        for fields in body:
            series = WireObject(fields, service=_SERVICE, what="a series")
            if series.optional_identifier("tvdbId") == tvdb_id:
                return series.identifier("id")
        return None

    async def episodes(self, series_id: int) -> list[SonarrEpisode]:
        """Every episode Sonarr knows for a series, specials included."""
        body = await self._get("/api/v3/episode", {"seriesId": str(series_id)})
        return [SonarrEpisode.from_wire(item) for item in body]

    async def unmonitor_episodes(self, episode_ids: Sequence[int]) -> None:
        """Tell Sonarr to stop looking for these episodes (so it does not grab them again)."""
        response = await self._send(
            "PUT",
            "/api/v3/episode/monitor",
            json={"episodeIds": list(episode_ids), "monitored": False},
            headers=self._headers,
        )
        self._check(response, allowed=(httpx.codes.OK, httpx.codes.ACCEPTED))

    async def delete_episode_files(self, episode_ids: Sequence[int]) -> int:
        """Delete the files of these episodes; returns how many files were deleted."""
        deleted = 0
        for episode_id in episode_ids:
            response = await self._send(
                "GET", f"/api/v3/episode/{episode_id}", headers=self._headers
            )
            if response.status_code == httpx.codes.NOT_FOUND:
                continue
            self._check(response)
            episode = WireObject(self._json(response, dict), service=_SERVICE, what="an episode")
            file_id = episode.optional_identifier("episodeFileId")
            if file_id is None:
                continue
            response = await self._send(
                "DELETE", f"/api/v3/episodefile/{file_id}", headers=self._headers
            )
            if response.status_code != httpx.codes.NOT_FOUND:
                self._check(response)
                deleted += 1
        return deleted

    async def search_episodes(self, episode_ids: Sequence[int]) -> int | None:
        """Ask Sonarr to search these episodes again (``EpisodeSearch``); the command id."""
        return await self._command("EpisodeSearch", episodeIds=list(episode_ids))
