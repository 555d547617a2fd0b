"""Radarr's v3 API, for what a deletion through the tracker must undo: the movie and its files."""

from __future__ import annotations

import typing
from collections.abc import Sequence

import httpx
from status_tracker.clients._arr import ArrApi, ArrHistoryRecord, ArrQueueItem
from status_tracker.clients._http import ClientError, KeyedService


@typing.final
class RadarrAuthError(ClientError):
    """Radarr refused the API key (401)."""


@typing.final
class RadarrClient(KeyedService):
    """Deletes movies with an API key (``X-Api-Key``)."""

    service_name = "Radarr"

    async def delete_movie(self, movie_id: int) -> bool:
        """Delete the movie and its files; False when Radarr no longer had it."""
        response = await self._send(
            "DELETE",
            f"/api/v3/movie/{movie_id}",
            params={"deleteFiles": "true", "addImportExclusion": "false"},
            headers=self._headers,
        )
        if response.status_code == httpx.codes.UNAUTHORIZED:
            raise RadarrAuthError(
                f"Radarr at {self._shown_url} refused the API key",
                reason="Radarr refused the API key",
            )
        if response.status_code == httpx.codes.NOT_FOUND:
            return False
        if response.status_code >= 300:
            raise self._unexpected(response)
        return True

    # -- reconciliation (issue 10) -----------------------------------------------------------

    def _arr_api(self) -> ArrApi:
        return ArrApi(
            self, unknown_items="includeUnknownMovieItems", include={"includeMovie": "true"}
        )

    async def queue(self) -> list[ArrQueueItem]:
        """Every queue record (one per download), every page, unknown movies included."""
        return await self._arr_api().queue()

    async def history_since(self, since: float) -> list[ArrHistoryRecord]:
        """History rows dated ``since`` or later, with their movie, oldest first."""
        return await self._arr_api().history_since(since)

    async def remove_from_queue(self, queue_id: int, *, blocklist: bool) -> bool:
        """Remove a download from the client (and blocklist it); False when no longer queued."""
        return await self._arr_api().remove_from_queue(queue_id, blocklist=blocklist)

    async def search_movies(self, movie_ids: Sequence[int]) -> int | None:
        """Ask Radarr to search these movies again (``MoviesSearch``); the command id."""
        return await self._arr_api().command("MoviesSearch", movieIds=list(movie_ids))
