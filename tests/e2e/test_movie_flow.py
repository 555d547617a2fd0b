"""The regular movie journey end to end over real HTTP, and correlation of repeated titles."""

from __future__ import annotations

import pytest

from tests.support.service import RunningService, started_service

VIOLET_HASH = "327cce10156316f79c005b0e953b9e8498e066eb"


async def test_a_movie_goes_from_request_to_available(service: RunningService) -> None:
    await service.post_fixture("jellyseerr/media_auto_approved_movie.json")
    await service.post_fixture("radarr/grab.json", movie__tags=[])
    await service.post_fixture("radarr/download.json", movie__tags=[])
    await service.settled()
    (item,) = await service.requests()
    assert item["is_anime"] is False
    assert item["state"] == "importing"
    await service.post_fixture("jellyfin/item_added_movie.json")
    await service.settled()

    detail = await service.request(item["id"])
    assert detail["title"] == "Violet Evergarden: Recollections"
    assert detail["year"] == 2021
    assert detail["tmdb_id"] == 1052946
    assert detail["jellyseerr_request_id"] == 71
    assert detail["poster_url"].endswith("/mQ5ZK6bFsCZvR4N7bSXkx1cQvA2.jpg")
    assert detail["overview"].startswith("A compilation film")
    assert detail["state"] == "available"
    assert detail["progress"] == 100
    assert detail["jellyfin_id"] == "0f8e7d6c5b4a49382716a5b4c3d2e1f0"
    assert detail["available_at"] is not None
    assert detail["downloads"][0]["hash"] == VIOLET_HASH
    assert detail["downloads"][0]["is_season_pack"] is False
    steps = [(t["source"], t["event"], t["to_state"]) for t in detail["timeline"]]
    assert steps == [
        ("jellyseerr", "approved", "approved"),
        ("radarr", "grabbed", "grabbing"),
        ("radarr", "imported", "importing"),
        ("jellyfin", "added_to_library", "available"),
    ]


async def test_an_anime_movie_waits_for_matching_after_import(service: RunningService) -> None:
    await service.post_fixture("radarr/grab.json")
    await service.post_fixture("radarr/download.json")
    await service.settled()
    (item,) = await service.requests()
    assert item["is_anime"] is True
    assert item["source"] == "radarr"
    assert item["state"] == "anime_matching"


async def test_a_new_request_for_an_available_movie_starts_a_new_lifecycle(
    service: RunningService,
) -> None:
    await service.post_fixture("radarr/grab_anime.json")
    await service.post_fixture(
        "jellyfin/item_added_movie.json",
        Name="Chainsaw Man - The Movie: Reze Arc",
        Provider_tmdb="1218925",
        Provider_imdb="",
    )
    await service.settled()
    (old,) = await service.requests()
    assert old["state"] == "available"

    await service.post_fixture(
        "jellyseerr/media_auto_approved_movie.json",
        subject="Chainsaw Man - The Movie: Reze Arc (2025)",
        media__tmdbId="1218925",
        request__request_id="90",
    )
    await service.post_fixture(
        "radarr/grab_anime.json", downloadId="ABCDEF0123456789ABCDEF0123456789ABCDEF01"
    )
    await service.settled()

    newest, oldest = await service.requests()
    assert oldest["id"] == old["id"]
    assert oldest["state"] == "available"
    assert newest["jellyseerr_request_id"] == 90
    assert newest["state"] == "grabbing"
    new_detail = await service.request(newest["id"])
    assert [d["hash"] for d in new_detail["downloads"]] == [
        "abcdef0123456789abcdef0123456789abcdef01"
    ]
    old_detail = await service.request(old["id"])
    assert [t["event"] for t in old_detail["timeline"]].count("grabbed") == 1


async def test_a_library_item_nobody_requested_creates_nothing(service: RunningService) -> None:
    await service.post_fixture(
        "jellyfin/item_added_movie.json",
        Name="Solo Leveling -ReAwakening-",
        Provider_tmdb="1325734",
    )
    await service.settled()
    assert await service.requests() == []


async def test_a_grab_before_its_request_is_adopted_by_the_request(service: RunningService) -> None:
    await service.post_fixture("radarr/grab.json")
    await service.post_fixture("jellyseerr/media_auto_approved_movie.json")
    await service.settled()
    (item,) = await service.requests()
    assert item["jellyseerr_request_id"] == 71
    assert item["state"] == "grabbing"
    assert item["poster_url"].startswith("https://image.tmdb.org/")


async def test_a_second_request_joins_the_movie_already_downloading(
    service: RunningService,
) -> None:
    await service.post_fixture("jellyseerr/media_auto_approved_movie.json")
    await service.post_fixture("radarr/grab.json")
    await service.post_fixture(
        "jellyseerr/media_auto_approved_movie.json", request__request_id="72"
    )
    await service.settled()
    second, first = await service.requests()
    assert first["jellyseerr_request_id"] == 71
    assert second["jellyseerr_request_id"] == 72
    assert second["state"] == "grabbing"
    detail = await service.request(second["id"])
    assert [d["hash"] for d in detail["downloads"]] == [VIOLET_HASH]


@pytest.mark.postgresql
async def test_the_movie_flow_on_postgresql(postgres_url: str) -> None:
    async with started_service(postgres_url) as service:
        await service.post_fixture("jellyseerr/media_auto_approved_movie.json")
        await service.post_fixture("radarr/grab.json")
        await service.post_fixture("radarr/download.json")
        await service.post_fixture("jellyfin/item_added_movie.json")
        await service.settled()
        (item,) = await service.requests()
        assert item["state"] == "available"
        detail = await service.request(item["id"])
        assert [t["to_state"] for t in detail["timeline"]] == [
            "approved",
            "grabbing",
            "anime_matching",
            "available",
        ]
