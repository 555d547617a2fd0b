"""Sonarr's v3 API: which series has a TVDB id, its episodes, and unmonitoring/deleting them."""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence

import attrs
import httpx
from status_tracker.clients._arr import ArrApi, ArrHistoryRecord, ArrQueueItem
from status_tracker.clients._fields import REQUIRED, WireObject
from status_tracker.clients._http import ClientError, KeyedService

from status_tracker import strict

_SERVICE: typing.Final = "Sonarr"


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
class SonarrClient(KeyedService):
    """Looks series and episodes up, and undoes a deletion, with an API key (``X-Api-Key``)."""

    service_name = _SERVICE

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
            self._check(response, allowed=(httpx.codes.OK,))
            episode = WireObject(self._json(response, dict), service=_SERVICE, what="an episode")
            file_id = episode.optional_identifier("episodeFileId")
            if file_id is None:
                continue
            response = await self._send(
                "DELETE", f"/api/v3/episodefile/{file_id}", headers=self._headers
            )
            if response.status_code != httpx.codes.NOT_FOUND:
                self._check(response, allowed=(httpx.codes.OK,))
                deleted += 1
        return deleted

    # -- reconciliation (issue 10) -----------------------------------------------------------

    def _arr_api(self) -> ArrApi:
        return ArrApi(
            self,
            unknown_items="includeUnknownSeriesItems",
            include={"includeSeries": "true", "includeEpisode": "true"},
        )

    async def queue(self) -> list[ArrQueueItem]:
        """Every queue record (one per episode), every page, unknown series included."""
        return await self._arr_api().queue()

    async def history_since(self, since: float) -> list[ArrHistoryRecord]:
        """History rows dated ``since`` or later, with their series and episode, oldest first."""
        return await self._arr_api().history_since(since)

    async def remove_from_queue(self, queue_id: int, *, blocklist: bool) -> bool:
        """Remove the whole download of a queue record from the client; False when gone."""
        return await self._arr_api().remove_from_queue(queue_id, blocklist=blocklist)

    async def search_episodes(self, episode_ids: Sequence[int]) -> int | None:
        """Ask Sonarr to search these episodes again (``EpisodeSearch``); the command id."""
        return await self._arr_api().command("EpisodeSearch", episodeIds=list(episode_ids))

    def _check(self, response: httpx.Response, *, allowed: tuple[int, ...]) -> None:
        if response.status_code == httpx.codes.UNAUTHORIZED:
            raise SonarrAuthError(
                f"Sonarr at {self._shown_url} refused the API key",
                reason="Sonarr refused the API key",
            )
        if response.status_code not in allowed:
            raise self._unexpected(response)

    async def _get(self, path: str, params: Mapping[str, str]) -> list[typing.Any]:
        response = await self._send("GET", path, params=params, headers=self._headers)
        self._check(response, allowed=(httpx.codes.OK,))
        return self._json(response, list)
