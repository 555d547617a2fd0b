"""The recovery sweeper in the running service: a stuck item gets a visible recovery entry."""

from __future__ import annotations

from tests.support.fake_jellyfin import open_fake_jellyfin
from tests.support.service import started_service

JELLYFIN_KEY = "jellyfin-test-key"


async def test_a_download_stuck_without_a_client_is_reported_by_recovery(sqlite_url: str) -> None:
    async with started_service(sqlite_url, stuck_after_s=0.3) as service:
        await service.post_fixture("radarr/grab.json", movie__tags=[])
        item = await service.wait_for_request(lambda r: r["state"] == "grabbing", what="the grab")
        found = await service.wait_for_request(
            lambda r: r["id"] == item["id"] and r["updated_at"] != item["updated_at"],
            what="a recovery entry",
        )
        (entry,) = [t for t in found["timeline"] if t["source"] == "recovery"][:1]
        assert entry["event"] == "stuck_download"
        assert "no download client configured" in entry["detail"]
        assert found["state"] == "grabbing", "recovery never moves an item backward or blindly"


async def test_an_import_jellyfin_never_announced_is_finished_by_recovery(sqlite_url: str) -> None:
    async with open_fake_jellyfin(JELLYFIN_KEY) as jellyfin:
        jellyfin.add_movie("Violet Evergarden: Recollections", 2021, tmdb="1052946")
        async with started_service(
            sqlite_url,
            jellyfin_url=jellyfin.url,
            jellyfin_api_key=JELLYFIN_KEY,
            verify_interval_s=3600,
            stuck_after_s=0.3,
        ) as service:
            await service.post_fixture("radarr/grab.json", movie__tags=[])
            await service.post_fixture("radarr/download.json", movie__tags=[])
            done = await service.wait_for_request(
                lambda r: r["state"] == "available", what="recovery to verify the movie"
            )
            events = [(t["source"], t["event"]) for t in done["timeline"]]
            assert ("verifier", "verified_available") in events
            assert ("recovery", "found_in_library") in events
