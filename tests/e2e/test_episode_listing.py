"""A TV request shows all its episodes as pending before the first grab (Sonarr configured)."""

from __future__ import annotations

from tests.support.fake_sonarr import open_fake_sonarr
from tests.support.service import started_service

SONARR_KEY = "sonarr-test-key"
HORIMIYA_TVDB = 384435


async def test_a_season_request_lists_its_episodes_as_pending_then_grabs_them(
    sqlite_url: str,
) -> None:
    async with open_fake_sonarr(SONARR_KEY) as sonarr:
        sonarr.add_series(7, "Horimiya", HORIMIYA_TVDB)
        sonarr.add_episodes(7, 0, 2, first_id=100)
        sonarr.add_episodes(7, 1, 13, first_id=200)
        sonarr.add_episodes(7, 2, 13, first_id=300)
        async with started_service(
            sqlite_url, sonarr_url=sonarr.url, sonarr_api_key=SONARR_KEY, poll_active_s=0.1
        ) as service:
            await service.post_fixture("jellyseerr/media_approved_tv.json")
            listed = await service.wait_for_request(
                lambda r: r["episode_counts"].get("pending") == 13, what="13 pending episodes"
            )
            assert listed["state"] == "approved"
            assert [(e["season"], e["episode"]) for e in listed["episodes"]] == [
                (1, n) for n in range(1, 14)
            ]
            assert listed["timeline"][-1]["event"] == "episodes_listed"

            await service.post_fixture("sonarr/grab_season_pack.json", series__id=7)
            await service.settled()
            grabbed = await service.request(listed["id"])
            assert grabbed["episode_counts"] == {"grabbing": 13}
            assert grabbed["state"] == "grabbing"


async def test_a_series_sonarr_does_not_have_yet_leaves_the_request_waiting(
    sqlite_url: str,
) -> None:
    async with (
        open_fake_sonarr(SONARR_KEY) as sonarr,
        started_service(
            sqlite_url, sonarr_url=sonarr.url, sonarr_api_key=SONARR_KEY, poll_active_s=0.1
        ) as service,
    ):
        await service.post_fixture("jellyseerr/media_approved_tv.json")
        await service.wait_for_request(lambda r: r["state"] == "approved", what="the request")
        assert service.system.lister is not None
        assert await service.system.lister.list_once() == 0
        (item,) = await service.requests()
        assert item["episode_counts"] == {}
        assert "/api/v3/series" in sonarr.paths


async def test_jellyfin_names_an_episode_by_its_own_tvdb_id_whatever_the_series_title(
    sqlite_url: str,
) -> None:
    async with started_service(sqlite_url) as service:
        await service.post_fixture("captured/sonarr-grab.json")
        await service.post_fixture("captured/sonarr-import.json")
        await service.post_fixture(
            "jellyfin/item_added_episode.json",
            SeriesName="リコリス・リコイル",
            SeasonNumber=1,
            EpisodeNumber=1,
            Provider_tvdb="8916235",
        )
        await service.settled()
        (item,) = await service.requests()
        detail = await service.request(item["id"])
        first = detail["episodes"][0]
        assert (first["episode"], first["state"]) == (1, "available")
        assert detail["episode_counts"] == {"anime_matching": 12, "available": 1}
