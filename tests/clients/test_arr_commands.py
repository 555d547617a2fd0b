"""A search asked of Sonarr or Radarr: the *arr answers 201 Created with the command, and the
client gives its id (reference/reconcile-apis.md §1.6)."""

from __future__ import annotations

import json

import httpx
import pytest
from status_tracker.clients import RadarrClient, SonarrClient

from tests.support.fixtures import load_fixture


@pytest.mark.parametrize("service", ["sonarr", "radarr"])
async def test_a_search_answered_201_created_gives_the_command_id(service: str) -> None:
    created = load_fixture("sonarr/api/command_post_response.json")
    sent: list[dict[str, object]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(201, json=created)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        if service == "sonarr":
            command_id = await SonarrClient("http://sonarr", "k", http=http).search_episodes([2879])
        else:
            command_id = await RadarrClient("http://radarr", "k", http=http).search_movies([7])
    assert command_id == created["id"]
    assert sent == (
        [{"name": "EpisodeSearch", "episodeIds": [2879]}]
        if service == "sonarr"
        else [{"name": "MoviesSearch", "movieIds": [7]}]
    )
