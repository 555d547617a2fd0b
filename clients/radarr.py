"""Radarr's v3 API, for what a deletion through the tracker must undo: the movie and its files."""

from __future__ import annotations

import typing

import httpx
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
