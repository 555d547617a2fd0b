"""Anime the library files differently: the verifier's fallbacks finish it anyway."""

from __future__ import annotations

from typing import Any

from tests.support.fake_jellyfin import FakeJellyfin, open_fake_jellyfin
from tests.support.service import started_service

JELLYFIN_KEY = "jellyfin-test-key"
RECOLLECTIONS_FILE = "Violet.Evergarden.Recollections.2022.1080p.NF.WEB-DL.AAC2.0.x264-GST.mkv"


async def verified(
    jellyfin: FakeJellyfin, sqlite_url: str, webhooks: list[tuple[str, dict]]
) -> dict:
    async with started_service(
        sqlite_url, jellyfin_url=jellyfin.url, jellyfin_api_key=JELLYFIN_KEY, verify_interval_s=0.1
    ) as service:
        for fixture, replace in webhooks:
            await service.post_fixture(fixture, **replace)
        return await service.wait_for_request(
            lambda r: r["state"] == "available", what="the verifier to finish the request"
        )


def last_verification(detail: dict[str, Any]) -> dict[str, Any]:
    return [t for t in detail["timeline"] if t["event"] == "verified_available"][-1]


async def test_a_compilation_movie_filed_as_a_series_special_is_found_by_title(
    sqlite_url: str,
) -> None:
    async with open_fake_jellyfin(JELLYFIN_KEY) as jellyfin:
        series = jellyfin.add_series("Violet Evergarden", 2018, provider_ids={"AniDB": "12138"})
        special = jellyfin.add_episode(
            series, 0, 3, name="Recollections", path="/vfs/shokofin/Violet Evergarden/S00E03.mkv"
        )
        detail = await verified(
            jellyfin, sqlite_url, [("radarr/grab.json", {}), ("radarr/download.json", {})]
        )
    assert detail["jellyfin_id"] == special
    assert last_verification(detail)["detail"] == "matched by title"


async def test_a_special_named_otherwise_is_found_by_its_file(sqlite_url: str) -> None:
    async with open_fake_jellyfin(JELLYFIN_KEY) as jellyfin:
        series = jellyfin.add_series("Violet Evergarden", 2018)
        special = jellyfin.add_episode(
            series,
            0,
            7,
            name="Special 7",
            path=f"/media/anime/Violet Evergarden/{RECOLLECTIONS_FILE}",
        )
        detail = await verified(
            jellyfin, sqlite_url, [("radarr/grab.json", {}), ("radarr/download.json", {})]
        )
    assert detail["jellyfin_id"] == special
    assert last_verification(detail)["detail"] == "matched by file"


async def test_a_movie_under_its_tmdb_id_is_still_preferred_to_a_same_named_special(
    sqlite_url: str,
) -> None:
    async with open_fake_jellyfin(JELLYFIN_KEY) as jellyfin:
        series = jellyfin.add_series("Violet Evergarden", 2018)
        jellyfin.add_episode(series, 0, 3, name="Recollections")
        movie = jellyfin.add_movie("Violet Evergarden: Recollections", 2021, tmdb=1052946)
        detail = await verified(
            jellyfin, sqlite_url, [("radarr/grab.json", {}), ("radarr/download.json", {})]
        )
    assert detail["jellyfin_id"] == movie
    assert last_verification(detail)["detail"] == "movie matched by provider id"


async def test_anime_episodes_without_tvdb_ids_are_verified_one_by_one(sqlite_url: str) -> None:
    async with open_fake_jellyfin(JELLYFIN_KEY) as jellyfin:
        series = jellyfin.add_series("Horimiya", 2021, provider_ids={"Shoko Series": "1874"})
        for number in range(1, 14):
            jellyfin.add_episode(
                series, 1, number, provider_ids={"Shoko Episode": str(28730 + number)}
            )
        detail = await verified(
            jellyfin,
            sqlite_url,
            [("sonarr/grab_season_pack.json", {}), ("sonarr/import_complete_season_pack.json", {})],
        )
    assert detail["episode_counts"] == {"available": 13}
    assert all(e["jellyfin_id"] for e in detail["episodes"])


async def test_absolutely_numbered_episodes_are_matched_by_position(sqlite_url: str) -> None:
    episodes = [
        {"id": 500 + n, "episodeNumber": n, "seasonNumber": 2, "title": f"Episode {n}"}
        for n in range(1, 7)
    ]
    async with open_fake_jellyfin(JELLYFIN_KEY) as jellyfin:
        series = jellyfin.add_series("Horimiya", 2021)
        ids = [jellyfin.add_episode(series, 1, 13 + n) for n in range(1, 7)]
        detail = await verified(
            jellyfin,
            sqlite_url,
            [
                ("sonarr/grab_season_pack.json", {"episodes": episodes}),
                (
                    "sonarr/import_complete_season_pack.json",
                    {"episodes": episodes, "episodeFiles": []},
                ),
            ],
        )
    assert [e["jellyfin_id"] for e in detail["episodes"]] == ids


async def test_episodes_missing_from_the_library_stay_waiting(sqlite_url: str) -> None:
    async with open_fake_jellyfin(JELLYFIN_KEY) as jellyfin:
        series = jellyfin.add_series("Horimiya", 2021)
        for number in range(1, 13):
            jellyfin.add_episode(series, 1, number)
        jellyfin.add_episode(series, 1, 13, location_type="Virtual")
        async with started_service(
            sqlite_url,
            jellyfin_url=jellyfin.url,
            jellyfin_api_key=JELLYFIN_KEY,
            verify_interval_s=0.1,
        ) as service:
            await service.post_fixture("sonarr/grab_season_pack.json")
            await service.post_fixture("sonarr/import_complete_season_pack.json")
            detail = await service.wait_for_request(
                lambda r: r["episode_counts"].get("available") == 12, what="12 verified episodes"
            )
            assert detail["state"] == "anime_matching"
            reasons = [
                t["detail"] for t in detail["timeline"] if t["event"] == "availability_unconfirmed"
            ]
            assert "1 episode(s) not in Jellyfin yet" in reasons
