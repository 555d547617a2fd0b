"""Radarr's v3 API, for what a deletion through the tracker must undo: the movie and its files."""

from __future__ import annotations

import typing
from collections.abc import Sequence

import httpx
from status_tracker.clients._arr import ArrAuthError, ArrService


@typing.final
class RadarrAuthError(ArrAuthError):
    """Radarr refused the API key (401)."""


@typing.final
class RadarrClient(ArrService):
    """Deletes movies with an API key (``X-Api-Key``)."""

    service_name = "Radarr"
    auth_error = RadarrAuthError
    _unknown_items = "includeUnknownMovieItems"
    _included = ("includeMovie",)

    async def delete_movie(self, movie_id: int) -> bool:
        """Delete the movie and its files; False when Radarr no longer had it."""
        response = await self._send(
            "DELETE",
            f"/api/v3/movie/{movie_id}",
            params={"deleteFiles": "true", "addImportExclusion": "false"},
            headers=self._headers,
        )
        if response.status_code == httpx.codes.NOT_FOUND:
            return False
        self._check(response, allowed=range(200, 300))
        return True

    async def search_movies(self, movie_ids: Sequence[int]) -> int | None:
        """Ask Radarr to search these movies again (``MoviesSearch``); the command id."""
        return await self._command("MoviesSearch", movieIds=list(movie_ids))
