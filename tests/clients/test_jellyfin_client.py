"""JellyfinClient against captured REST bodies (httpx.MockTransport): requests and parsing."""

from __future__ import annotations

import contextlib
import typing

import httpx
import pytest
from status_tracker.clients import (
    JellyfinAuthError,
    JellyfinClient,
    JellyfinItem,
    JellyfinItemNotFound,
    ServiceUnavailable,
    match_provider_id,
)

from tests.support.fixtures import load_fixture

if typing.TYPE_CHECKING:
    from collections.abc import AsyncIterator

API_KEY = "0123456789abcdef0123456789abcdef"
LINK_CLICK_SERIES = "6b5a4c3d2e1f40a9b8c7d6e5f4a3b2c1"


@contextlib.asynccontextmanager
async def recording_client(
    response: httpx.Response,
) -> AsyncIterator[tuple[JellyfinClient, list[httpx.Request]]]:
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return response

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        yield JellyfinClient("http://jellyfin.test:8096/", API_KEY, http=http), requests


async def test_search_items_sends_the_verifier_query_and_parses_a_movie() -> None:
    body = load_fixture("jellyfin/items_query_movie.json")
    async with recording_client(httpx.Response(200, json=body)) as (jellyfin, requests):
        items = await jellyfin.search_items("Violet Evergarden", ["Movie"], years=[2021, 2022])

    (request,) = requests
    assert request.url.path == "/Items"
    assert request.headers["authorization"] == f'MediaBrowser Token="{API_KEY}"'
    params = request.url.params
    assert params["Recursive"] == "true"
    assert params["IncludeItemTypes"] == "Movie"
    assert {"ProviderIds", "Path"} <= set(params["Fields"].split(","))
    assert params["searchTerm"] == "Violet Evergarden"
    assert params["Years"] == "2021,2022"
    assert items == [
        JellyfinItem(
            id="0f8e7d6c5b4a49382716a5b4c3d2e1f0",
            name="Violet Evergarden: Recollections",
            type="Movie",
            year=2021,
            provider_ids={"tmdb": "1052946", "imdb": "tt25041020"},
            path="/data/anime/movies/Violet Evergarden - Recollections (2021)/"
            "Violet.Evergarden.Recollections.2022.1080p.NF.WEB-DL.AAC2.0.x264-GST.mkv",
            location_type="FileSystem",
        )
    ]
    assert items[0].is_on_disk


async def test_show_episodes_asks_for_one_season_and_flags_virtual_episodes() -> None:
    body = load_fixture("jellyfin/shows_episodes.json")
    hyphenated = "6B5A4C3D-2E1F-40A9-B8C7-D6E5F4A3B2C1"
    async with recording_client(httpx.Response(200, json=body)) as (jellyfin, requests):
        episode_1, episode_2 = await jellyfin.show_episodes(hyphenated, season=3)

    assert requests[0].url.path == f"/Shows/{LINK_CLICK_SERIES}/Episodes"
    assert requests[0].url.params["season"] == "3"
    assert (episode_1.season, episode_1.episode, episode_1.episode_end) == (3, 1, None)
    assert episode_1.series_id == LINK_CLICK_SERIES
    assert episode_1.series_name == "Link Click"
    assert episode_1.provider_ids == {"tvdb": "10712001", "tmdb": "6305544"}
    assert episode_1.is_on_disk
    assert episode_1.path is not None
    assert (episode_2.episode, episode_2.location_type, episode_2.path) == (2, "Virtual", None)
    assert not episode_2.is_on_disk


async def test_show_episodes_without_season_sends_no_season_parameter() -> None:
    body = load_fixture("jellyfin/shows_episodes.json")
    async with recording_client(httpx.Response(200, json=body)) as (jellyfin, requests):
        await jellyfin.show_episodes(LINK_CLICK_SERIES)
    assert "season" not in requests[0].url.params


def test_item_ids_are_normalised_and_provider_keys_lower_cased() -> None:
    item = JellyfinItem.from_wire(
        {
            "Id": "0F8E7D6C-5B4A-4938-2716-A5B4C3D2E1F0",
            "Name": "Horimiya",
            "Type": "Episode",
            "SeriesId": "6B5A4C3D-2E1F-40A9-B8C7-D6E5F4A3B2C1",
            "IndexNumber": 1,
            "IndexNumberEnd": 2,
            "ParentIndexNumber": 1,
            "ProviderIds": {"Shoko Episode": "1234", "AniDB": 5678},
        }
    )
    assert item.id == "0f8e7d6c5b4a49382716a5b4c3d2e1f0"
    assert item.series_id == LINK_CLICK_SERIES
    assert (item.episode, item.episode_end) == (1, 2)
    assert item.provider_ids == {"shoko episode": "1234", "anidb": "5678"}
    assert item.is_on_disk


def test_match_provider_id_compares_keys_case_insensitively_and_values_as_strings() -> None:
    movie = JellyfinItem(id="a", name="A", type="Movie", provider_ids={"Tmdb": "1052946"})
    other = JellyfinItem(id="b", name="B", type="Movie", provider_ids={"tmdb": "1218925"})
    bare = JellyfinItem(id="c", name="C", type="Movie")
    assert match_provider_id([movie, other, bare], "TMDB", 1052946) == [movie]
    assert match_provider_id([movie, other, bare], "tmdb", "1218925") == [other]
    assert match_provider_id([movie, other, bare], "Imdb", "tt1") == []


async def test_get_items_looks_up_normalised_ids_and_skips_the_call_when_empty() -> None:
    body = load_fixture("jellyfin/items_query_movie.json")
    async with recording_client(httpx.Response(200, json=body)) as (jellyfin, requests):
        assert await jellyfin.get_items([]) == []
        (item,) = await jellyfin.get_items(["0F8E7D6C-5B4A-4938-2716-A5B4C3D2E1F0"])
    (request,) = requests
    assert request.url.params["ids"] == "0f8e7d6c5b4a49382716a5b4c3d2e1f0"
    assert item.id == "0f8e7d6c5b4a49382716a5b4c3d2e1f0"


async def test_ping_returns_the_server_version() -> None:
    info = {"ServerName": "jf", "Version": "10.11.11", "Id": "a3f1c2d4e5b64789a0b1c2d3e4f5a6b7"}
    async with recording_client(httpx.Response(200, json=info)) as (jellyfin, requests):
        assert await jellyfin.ping() == "10.11.11"
    assert requests[0].url.path == "/System/Info/Public"


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(401), JellyfinAuthError),
        (httpx.Response(404, text="Series not found"), JellyfinItemNotFound),
        (httpx.Response(503), ServiceUnavailable),
    ],
)
async def test_error_statuses_raise_typed_errors(response: httpx.Response, error: type) -> None:
    async with recording_client(response) as (jellyfin, _):
        with pytest.raises(error):
            await jellyfin.show_episodes(LINK_CLICK_SERIES)


async def test_api_key_is_not_shown() -> None:
    async with recording_client(httpx.Response(401)) as (jellyfin, _):
        with pytest.raises(JellyfinAuthError) as caught:
            await jellyfin.search_items("x", ["Movie"])
    assert API_KEY not in repr(jellyfin)
    assert API_KEY not in str(caught.value)
