"""Deleting through the API: the request and episodes are deleted, and so are Radarr/Sonarr's."""

from __future__ import annotations

import httpx

from tests.support.fake_radarr import open_fake_radarr
from tests.support.fake_sonarr import open_fake_sonarr
from tests.support.service import API_TOKEN, RunningService, started_service, wait_until

ARR_KEY = "arr-test-key"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


async def delete(service: RunningService, path: str, **kwargs: object) -> httpx.Response:
    return await service.http.request("DELETE", path, headers=AUTH, **kwargs)  # type: ignore[arg-type]


async def synced(service: RunningService, request_id: int) -> dict:
    async def recorded() -> bool:
        detail = await service.request(request_id)
        return any(t["event"] == "services_synced" for t in detail["timeline"])

    await wait_until(recorded, what="the service sync to be recorded")
    return await service.request(request_id)


async def test_deleting_a_movie_deletes_it_in_radarr_with_its_files(sqlite_url: str) -> None:
    async with (
        open_fake_radarr(ARR_KEY, {51}) as radarr,
        started_service(sqlite_url, radarr_url=radarr.url, radarr_api_key=ARR_KEY) as service,
    ):
        await service.post_fixture("radarr/grab.json")
        await service.settled()
        (item,) = await service.requests()
        response = await delete(service, f"/api/requests/{item['id']}")
        assert response.status_code == 202
        detail = await synced(service, item["id"])
        assert detail["state"] == "deleted"
        assert radarr.deleted == [(51, {"deleteFiles": "true", "addImportExclusion": "false"})]
        entry = next(t for t in detail["timeline"] if t["event"] == "services_synced")
        assert entry["detail"] == "deleted in Radarr with its files (movie 51)"
        again = await delete(service, f"/api/requests/{item['id']}")
        assert again.status_code == 409


async def test_deleting_episodes_unmonitors_them_and_deletes_their_files_in_sonarr(
    sqlite_url: str,
) -> None:
    async with open_fake_sonarr(ARR_KEY) as sonarr:
        sonarr.add_series(7, "Horimiya", 384435)
        sonarr.add_episodes(7, 1, 13, first_id=200, with_files=True)
        async with started_service(
            sqlite_url, sonarr_url=sonarr.url, sonarr_api_key=ARR_KEY
        ) as service:
            episodes = [
                {"id": 200 + n, "episodeNumber": n, "seasonNumber": 1, "title": f"E{n}"}
                for n in range(1, 14)
            ]
            await service.post_fixture("sonarr/grab_season_pack.json", episodes=episodes)
            await service.settled()
            (item,) = await service.requests()
            response = await delete(
                service,
                f"/api/requests/{item['id']}/episodes",
                json={"episodes": [{"season": 1, "episode": 12}, {"season": 1, "episode": 13}]},
            )
            assert response.status_code == 202
            detail = await synced(service, item["id"])
            assert detail["episode_counts"] == {"deleted": 2, "grabbing": 11}
            assert detail["state"] == "grabbing"
            assert sorted(sonarr.unmonitored) == [212, 213]
            assert sorted(sonarr.deleted_files) == [40_212, 40_213]


async def test_without_the_services_configured_the_timeline_says_what_was_not_synced(
    service: RunningService,
) -> None:
    await service.post_fixture("radarr/grab.json")
    await service.settled()
    (item,) = await service.requests()
    assert (await delete(service, f"/api/requests/{item['id']}")).status_code == 202
    detail = await synced(service, item["id"])
    entry = next(t for t in detail["timeline"] if t["event"] == "services_synced")
    assert entry["detail"].startswith("not deleted in Radarr")


async def test_bad_deletions_are_refused_and_change_nothing(service: RunningService) -> None:
    await service.post_fixture("sonarr/grab_season_pack.json")
    await service.settled()
    (item,) = await service.requests()
    unknown = await delete(service, "/api/requests/999")
    assert unknown.status_code == 404
    missing = await delete(
        service,
        f"/api/requests/{item['id']}/episodes",
        json={"episodes": [{"season": 9, "episode": 1}]},
    )
    assert missing.status_code == 400
    assert "S09E01" in missing.json()["error"]
    malformed = await delete(
        service, f"/api/requests/{item['id']}/episodes", json={"episodes": "all"}
    )
    assert malformed.status_code == 400
    no_token = await service.http.request("DELETE", f"/api/requests/{item['id']}")
    assert no_token.status_code == 401
    await service.settled()
    assert (await service.request(item["id"]))["episode_counts"] == {"grabbing": 13}
