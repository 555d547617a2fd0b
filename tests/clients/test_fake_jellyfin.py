"""The fake Jellyfin behaves like the real one where the verifier depends on it, over real HTTP."""

from __future__ import annotations

import contextlib
import typing

import httpx
import pytest
import trio
from status_tracker.clients import (
    JellyfinAuthError,
    JellyfinClient,
    JellyfinItemNotFound,
    ServiceUnavailable,
    match_provider_id,
)

from tests.support.fake_jellyfin import FakeJellyfin, open_fake_jellyfin

if typing.TYPE_CHECKING:
    from collections.abc import AsyncIterator

API_KEY = "fake-jellyfin-api-key"
AUTH_HEADER = {"Authorization": f'MediaBrowser Token="{API_KEY}"'}


@contextlib.asynccontextmanager
async def fake_jellyfin() -> AsyncIterator[FakeJellyfin]:
    """A fake server for one test, with a deadline on everything done inside the block."""
    with trio.fail_after(10):
        async with open_fake_jellyfin(API_KEY) as fake:
            yield fake


async def test_any_provider_id_equals_is_ignored_so_the_client_matches_ids_itself() -> None:
    async with fake_jellyfin() as fake:
        violet = fake.add_movie("Violet Evergarden: Recollections", 2021, tmdb=1052946)
        fake.add_movie("Chainsaw Man - The Movie: Reze Arc", 2025, tmdb=1218925)
        async with httpx.AsyncClient(base_url=fake.url, headers=AUTH_HEADER) as http:
            response = await http.get(
                "/Items",
                params={
                    "Recursive": "true",
                    "IncludeItemTypes": "Movie",
                    "AnyProviderIdEquals": "Tmdb.1052946",
                },
            )
        assert response.status_code == 200
        assert response.json()["TotalRecordCount"] == 2

        async with JellyfinClient(fake.url, API_KEY) as jellyfin:
            movies = await jellyfin.search_items("", ["Movie"])
        assert [item.id for item in match_provider_id(movies, "Tmdb", 1052946)] == [violet]


async def test_api_key_is_required_by_header_or_query() -> None:
    async with fake_jellyfin() as fake:
        fake.add_movie("Violet Evergarden: Recollections", 2021)
        async with httpx.AsyncClient(base_url=fake.url) as http:
            assert (await http.get("/Items")).status_code == 401
            wrong = {"Authorization": 'MediaBrowser Token="nope"'}
            assert (await http.get("/Items", headers=wrong)).status_code == 401
            assert (await http.get("/Items", params={"ApiKey": API_KEY})).status_code == 200
            assert (await http.get("/Items", headers=AUTH_HEADER)).status_code == 200
            assert (await http.get("/System/Info/Public")).status_code == 200
        assert [request.authorized for request in fake.requests] == [
            False,
            False,
            True,
            True,
            False,
        ]

        async with JellyfinClient(fake.url, "wrong-key") as jellyfin:
            assert await jellyfin.ping() == "10.11.11"
            with pytest.raises(JellyfinAuthError):
                await jellyfin.search_items("Violet", ["Movie"])


async def test_search_matches_name_or_original_title_and_filters_type_and_year() -> None:
    async with fake_jellyfin() as fake:
        movie = fake.add_movie("Violet Evergarden: Recollections", 2021, original_title="劇場版")
        series = fake.add_series("Violet Evergarden", 2018, tvdb=330139)
        fake.add_movie("Horimiya: The Missing Pieces", 2023)
        async with JellyfinClient(fake.url, API_KEY) as jellyfin:
            by_name = await jellyfin.search_items("violet EVERGARDEN", ["Movie", "Series"])
            by_original = await jellyfin.search_items("劇場", ["Movie"])
            series_only = await jellyfin.search_items("violet", ["Series"])
            in_2021 = await jellyfin.search_items("violet", ["Movie", "Series"], years=[2021])
        assert [item.id for item in by_name] == [movie, series]
        assert [(item.id, item.original_title) for item in by_original] == [(movie, "劇場版")]
        assert [(item.id, item.type, item.year) for item in series_only] == [
            (series, "Series", 2018)
        ]
        assert series_only[0].provider_ids == {"tvdb": "330139"}
        assert [item.id for item in in_2021] == [movie]


async def test_items_carry_provider_ids_and_path_only_when_requested() -> None:
    async with fake_jellyfin() as fake:
        fake.add_movie("Violet Evergarden: Recollections", 2021, tmdb=1052946, imdb="tt25041020")
        async with httpx.AsyncClient(base_url=fake.url, headers=AUTH_HEADER) as http:
            bare = (await http.get("/Items", params={"Recursive": "true"})).json()
            rich = (await http.get("/Items", params={"Fields": "ProviderIds,Path"})).json()
    assert bare.keys() == {"Items", "TotalRecordCount", "StartIndex"}
    assert "ProviderIds" not in bare["Items"][0]
    assert "Path" not in bare["Items"][0]
    assert rich["Items"][0]["ProviderIds"] == {"Tmdb": "1052946", "Imdb": "tt25041020"}
    assert "OriginalTitle" not in rich["Items"][0]


async def test_episodes_by_season_include_virtual_ones() -> None:
    async with fake_jellyfin() as fake:
        series = fake.add_series("Link Click", 2021, tvdb=403179)
        second = fake.add_episode(series, 3, 2, location_type="Virtual")
        first = fake.add_episode(series, 3, 1, tvdb=10712001)
        double = fake.add_episode(series, 3, 3, episode_end=4)
        fake.add_episode(series, 1, 1)
        async with JellyfinClient(fake.url, API_KEY) as jellyfin:
            season_3 = await jellyfin.show_episodes(series, season=3)
            every_season = await jellyfin.show_episodes(series)
            no_such_season = await jellyfin.show_episodes(series, season=9)
            with pytest.raises(JellyfinItemNotFound):
                await jellyfin.show_episodes("0" * 32)
        assert [item.id for item in season_3] == [first, second, double]
        assert [(item.is_on_disk, item.path is None) for item in season_3] == [
            (True, False),
            (False, True),
            (True, False),
        ]
        assert season_3[0].provider_ids == {"tvdb": "10712001"}
        assert (season_3[2].episode, season_3[2].episode_end) == (3, 4)
        assert {(item.series_id, item.series_name) for item in season_3} == {(series, "Link Click")}
        assert [(item.season, item.episode) for item in every_season] == [
            (1, 1),
            (3, 1),
            (3, 2),
            (3, 3),
        ]
        assert no_such_season == []


async def test_get_items_accepts_hyphenated_ids() -> None:
    async with fake_jellyfin() as fake:
        movie = fake.add_movie("Violet Evergarden: Recollections", 2021)
        hyphenated = f"{movie[:8]}-{movie[8:12]}-{movie[12:16]}-{movie[16:20]}-{movie[20:]}".upper()
        async with JellyfinClient(fake.url, API_KEY) as jellyfin:
            (item,) = await jellyfin.get_items([hyphenated])
        assert item.id == movie


async def test_a_down_server_answers_503_until_it_is_back() -> None:
    async with fake_jellyfin() as fake:
        fake.add_movie("Violet Evergarden: Recollections", 2021)
        async with JellyfinClient(fake.url, API_KEY) as jellyfin:
            fake.set_down(True)
            with pytest.raises(ServiceUnavailable) as caught:
                await jellyfin.search_items("Violet", ["Movie"])
            assert caught.value.status_code == 503
            fake.set_down(False)
            assert len(await jellyfin.search_items("Violet", ["Movie"])) == 1
