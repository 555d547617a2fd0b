"""Anime through Shoko: file events on the timeline, verifying on a match, resync on reconnect."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator
from typing import Any

import trio

from tests.support.fake_jellyfin import FakeJellyfin, open_fake_jellyfin
from tests.support.fake_shoko import FakeShokoHub, open_fake_shoko
from tests.support.fixtures import load_fixture
from tests.support.service import RunningService, started_service, wait_until

JELLYFIN_KEY = "jellyfin-test-key"
SHOKO_KEY = "shoko-test-key"
LYCORIS = "/data/anime/shows/Lycoris Recoil/Season 1/"


def file_event(kind: str, relative_path: str, file_id: int, *, matched: bool = True) -> Any:
    event = copy.deepcopy(load_fixture("shoko/file_matched_movie.json")["arguments"][0])
    event.update(RelativePath=relative_path, FileID=file_id)
    if not matched:
        event["CrossReferences"] = []
    return f"ShokoEvent:{kind}", event


@contextlib.asynccontextmanager
async def shoko_and_jellyfin(
    sqlite_url: str, *, verify_interval_s: float
) -> AsyncIterator[tuple[FakeShokoHub, FakeJellyfin, RunningService]]:
    """The service following a fake Shoko and verifying against a fake Jellyfin."""
    async with (
        open_fake_shoko(SHOKO_KEY) as shoko,
        open_fake_jellyfin(JELLYFIN_KEY) as jellyfin,
        started_service(
            sqlite_url,
            shoko_url=shoko.url,
            shoko_api_key=SHOKO_KEY,
            jellyfin_url=jellyfin.url,
            jellyfin_api_key=JELLYFIN_KEY,
            verify_interval_s=verify_interval_s,
        ) as service,
    ):
        yield shoko, jellyfin, service


async def state_of(service: RunningService, request_id: int) -> str:
    return (await service.request(request_id))["state"]


async def test_an_anime_movie_is_matched_by_shoko_then_verified(sqlite_url: str) -> None:
    async with shoko_and_jellyfin(sqlite_url, verify_interval_s=3600) as (shoko, jellyfin, service):
        with trio.fail_after(10):
            await shoko.wait_connected()
        await service.post_fixture("radarr/grab.json")
        await service.post_fixture("radarr/download.json")
        await service.settled()
        (item,) = await service.requests()
        assert item["state"] == "anime_matching"
        # Only now does Jellyfin have it, and the verifier's own round is an hour away:
        # the match is what sends the movie to be verified.
        movie_id = jellyfin.add_movie("Violet Evergarden: Recollections", 2021, tmdb=1052946)
        hashed = load_fixture("shoko/file_matched_movie.json")["arguments"][0]
        await shoko.send_event("ShokoEvent:FileHashed", {**hashed, "CrossReferences": []})
        await shoko.send_event("ShokoEvent:FileMatched", hashed)

        async def available() -> bool:
            return await state_of(service, item["id"]) == "available"

        await wait_until(available, what="the match to be verified in Jellyfin")
        detail = await service.request(item["id"])
        shoko_entries = [t["event"] for t in detail["timeline"] if t["source"] == "shoko"]
        assert shoko_entries == ["shoko_file_hashed", "shoko_file_matched"]
        assert detail["jellyfin_id"] == movie_id
        health = (await service.http.get("/health")).json()
        assert health["dependencies"]["shoko"]["reachable"] is True
        assert health["dependencies"]["shoko"]["matched_events"] == 2


async def test_anime_tv_episodes_reach_available_through_shoko_and_shokofin(
    sqlite_url: str,
) -> None:
    async with (
        open_fake_shoko(SHOKO_KEY) as shoko,
        started_service(sqlite_url, shoko_url=shoko.url, shoko_api_key=SHOKO_KEY) as service,
    ):
        await service.post_fixture("captured/sonarr-grab.json")
        await service.post_fixture("captured/sonarr-import.json")
        await service.settled()
        (item,) = await service.requests()
        with trio.fail_after(10):
            await shoko.wait_connected()
        for number in range(1, 14):
            await shoko.send_event(
                *file_event(
                    "FileMatched",
                    f"/Lycoris Recoil/Season 1/Lycoris.Recoil.S01E{number:02d}.mkv",
                    60_000 + number,
                )
            )

        async def all_matched() -> bool:
            detail = await service.request(item["id"])
            return sum(t["event"] == "shoko_file_matched" for t in detail["timeline"]) == 13

        await wait_until(all_matched, what="13 Shoko matches on the timeline")
        for number in range(1, 14):
            await service.post_fixture(
                "jellyfin/item_added_episode_shokofin.json",
                SeriesName="Lycoris Recoil",
                SeasonNumber=1,
                EpisodeNumber=number + 100,  # Shokofin may number differently: the file decides
                ItemId=f"{number:032x}",
                **{"Provider_shoko file": str(60_000 + number)},
            )
        await service.settled()
        detail = await service.request(item["id"])
        assert detail["state"] == "available"
        assert detail["episode_counts"] == {"available": 13}
        assert [e["jellyfin_id"] for e in detail["episodes"]] == [f"{n:032x}" for n in range(1, 14)]


async def test_a_file_shoko_reports_that_we_do_not_track_changes_nothing(sqlite_url: str) -> None:
    async with (
        open_fake_shoko(SHOKO_KEY) as shoko,
        started_service(sqlite_url, shoko_url=shoko.url, shoko_api_key=SHOKO_KEY) as service,
    ):
        await service.post_fixture("radarr/grab.json")
        await service.post_fixture("radarr/download.json")
        await service.settled()
        with trio.fail_after(10):
            await shoko.wait_connected()
        await shoko.send_event(*file_event("FileMatched", "/Other Show/Other.Show.S01E01.mkv", 1))

        async def counted() -> bool:
            health = (await service.http.get("/health")).json()
            return health["dependencies"]["shoko"]["unmatched_events"] == 1

        await wait_until(counted, what="the unmatched event to be counted")
        (item,) = await service.requests()
        detail = await service.request(item["id"])
        assert not [t for t in detail["timeline"] if t["source"] == "shoko"]


async def test_a_shoko_disconnect_during_matching_is_followed_by_a_resync(sqlite_url: str) -> None:
    async with shoko_and_jellyfin(sqlite_url, verify_interval_s=3600) as (shoko, jellyfin, service):
        await service.post_fixture("radarr/grab.json")
        await service.post_fixture("radarr/download.json")
        await service.settled()
        (item,) = await service.requests()
        with trio.fail_after(10):
            await shoko.wait_connected()
        # Shoko matched the file and Jellyfin has it, but the event was lost with the link.
        jellyfin.add_movie("Violet Evergarden: Recollections", 2021, tmdb=1052946)
        await shoko.drop_connection()
        with trio.fail_after(20):
            await shoko.wait_connected(count=2)

        async def available() -> bool:
            return await state_of(service, item["id"]) == "available"

        await wait_until(available, what="the resync to verify the waiting movie")
        assert service.system.shoko_matcher is not None
        assert service.system.shoko_matcher.resyncs >= 2


async def test_link_click_filed_by_shokofin_as_its_own_series_reaches_available(
    sqlite_url: str,
) -> None:
    """Sonarr's S03E01-E06 are Shokofin's "Link Click Season 3" episodes 1-6: the files decide."""
    async with shoko_and_jellyfin(sqlite_url, verify_interval_s=0.2) as (shoko, jellyfin, service):
        with trio.fail_after(10):
            await shoko.wait_connected()
        jellyfin.add_series("Link Click", 2021, tvdb=403179)
        season_three = jellyfin.add_series("Link Click Season 3", 2025)
        file_names = {
            n: f"Link.Click.S03E{n:02d}.1080p.BILI.WEB-DL.AAC2.0.H.264-VARYG.mkv"
            for n in range(1, 7)
        }
        for number, file_name in file_names.items():
            episode = [
                {
                    "id": 1000 + number,
                    "episodeNumber": number,
                    "seasonNumber": 3,
                    "title": f"E{number}",
                }
            ]
            await service.post_fixture(
                "sonarr/grab_single_episode.json", episodes=episode, downloadId=f"{number:040X}"
            )
            await service.post_fixture(
                "sonarr/download_single.json",
                episodes=episode,
                downloadId=f"{number:040X}",
                episodeFile__path=f"/data/anime/shows/Link Click/Season 03/{file_name}",
                episodeFile__relativePath=f"Season 03/{file_name}",
            )
        await service.settled()
        for number, file_name in file_names.items():
            await shoko.send_event(
                *file_event("FileMatched", f"/Link Click/Season 03/{file_name}", 70_000 + number)
            )
            jellyfin.add_episode(
                season_three,
                1,
                number,
                path=f"/vfs/shokofin/[Shoko File={70_000 + number}].mkv",
                provider_ids={"Shoko File": str(70_000 + number)},
            )
        done = await service.wait_for_request(
            lambda r: r["episode_counts"] == {"available": 6},
            what="all six Link Click episodes verified",
        )
        assert done["state"] == "available"
        assert done["episode_counts"] == {"available": 6}
        assert len({e["torrent_hash"] for e in done["episodes"]}) == 6
