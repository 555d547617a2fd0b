"""What Jellyseerr reports against what the files say, end to end over real HTTP.

An imported file reads 100 %; Jellyseerr's "available" finishes a TV request's imported
episodes; a request declined in Jellyseerr after its grab still follows its files, and its
page says it was declined. Each test reads back what a user sees in ``GET /api/requests/{id}``.
"""

from __future__ import annotations

from typing import Any

import pytest
from status_tracker.actors.envelope import Deliver
from status_tracker.actors.torrent.messages import TorrentObserved

from tests.support.service import RunningService

VIOLET_HASH = "327cce10156316f79c005b0e953b9e8498e066eb"
HORIMIYA = {
    "subject": "Horimiya (2021)",
    "media__media_type": "tv",
    "media__tmdbId": "110316",
    "media__tvdbId": "384435",
    "request__request_id": "72",
}
"""Overrides turning the movie MEDIA_AVAILABLE fixture into Horimiya's (request 72, season 1)."""


async def only_request(service: RunningService) -> dict[str, Any]:
    (item,) = await service.requests()
    return await service.request(item["id"])


async def poll_violet(service: RunningService, progress: float) -> None:
    """What the qBittorrent poller would hand Violet's torrent: still downloading (0-1)."""
    seen = TorrentObserved(
        hash=VIOLET_HASH,
        name="Violet Evergarden Recollections",
        state="downloading",
        client_state="downloading",
        progress=progress,
        files=None,
    )
    await service.system.call_torrent(VIOLET_HASH, Deliver(messages=(seen,), source="qbittorrent"))
    await service.settled()


@pytest.mark.parametrize(
    ("tags", "expected"), [([], "importing"), (["anime"], "anime_matching")], ids=["movie", "anime"]
)
async def test_an_imported_movie_reads_100_percent_whatever_a_later_poll_says(
    service: RunningService, tags: list[str], expected: str
) -> None:
    await service.post_fixture("jellyseerr/media_auto_approved_movie.json")
    await service.post_fixture("radarr/grab.json", movie__tags=tags)
    await service.settled()
    await poll_violet(service, 0.4)
    assert (await only_request(service))["progress"] == 40

    await service.post_fixture("radarr/download.json", movie__tags=tags)
    await service.settled()
    detail = await only_request(service)
    assert (detail["state"], detail["progress"]) == (expected, 100)

    await poll_violet(service, 0.4)
    detail = await only_request(service)
    assert (detail["state"], detail["progress"]) == (expected, 100)


async def test_jellyseerr_available_finishes_a_tv_request_whose_episodes_are_imported(
    service: RunningService,
) -> None:
    await service.post_fixture("jellyseerr/media_approved_tv.json")
    await service.post_fixture("sonarr/grab_season_pack.json")
    await service.post_fixture("sonarr/import_complete_season_pack.json")
    await service.settled()
    detail = await only_request(service)
    assert (detail["state"], detail["episode_counts"]) == ("anime_matching", {"anime_matching": 13})

    await service.post_fixture("jellyseerr/media_available_movie.json", **HORIMIYA)
    await service.settled()

    detail = await only_request(service)
    assert detail["state"] == "available"
    assert detail["episode_counts"] == {"available": 13}
    assert detail["progress"] == 100
    assert detail["available_at"] is not None
    assert detail["reason"] is None
    reported = [t for t in detail["timeline"] if t["event"] == "reported_available"]
    assert [(t["source"], t["episode"], t["to_state"]) for t in reported] == [
        *(("jellyseerr", n, "available") for n in range(1, 14)),
        ("jellyseerr", None, None),
    ]


async def test_jellyseerr_available_for_a_tv_request_with_no_episodes_makes_it_available(
    service: RunningService,
) -> None:
    await service.post_fixture("jellyseerr/media_approved_tv.json")
    await service.post_fixture("jellyseerr/media_available_movie.json", **HORIMIYA)
    await service.settled()
    detail = await only_request(service)
    assert (detail["state"], detail["progress"], detail["episodes"]) == ("available", 100, [])
    assert detail["timeline"][-1]["event"] == "reported_available"


async def test_a_library_episode_of_an_asked_season_shows_before_anything_was_grabbed(
    service: RunningService,
) -> None:
    await service.post_fixture("jellyseerr/media_approved_tv.json")
    await service.post_fixture(
        "jellyfin/item_added_episode.json",
        Name="A Tiny Happenstance",
        SeriesName="Horimiya",
        SeasonNumber=1,
        EpisodeNumber=1,
        Provider_tvdb="8170001",
        Provider_tmdb="",
    )
    await service.settled()
    detail = await only_request(service)
    assert detail["state"] == "partially_available"
    assert [(e["season"], e["episode"], e["state"]) for e in detail["episodes"]] == [
        (1, 1, "available")
    ]
    assert detail["episodes"][0]["jellyfin_id"] == "e1d2c3b4a5f64e7d8c9b0a1f2e3d4c5b"


@pytest.mark.parametrize(
    ("notification", "said"),
    [("MEDIA_DECLINED", "declined in Jellyseerr"), ("MEDIA_FAILED", "failed in Jellyseerr")],
    ids=["declined", "failed"],
)
async def test_a_movie_declined_after_its_grab_still_becomes_available_and_says_it_was_declined(
    service: RunningService, notification: str, said: str
) -> None:
    await service.post_fixture("jellyseerr/media_auto_approved_movie.json")
    await service.post_fixture("radarr/grab.json", movie__tags=[])
    await service.post_fixture(
        "jellyseerr/media_available_movie.json", notification_type=notification
    )
    await service.post_fixture("radarr/download.json", movie__tags=[])
    await service.settled()
    detail = await only_request(service)
    assert (detail["state"], detail["progress"]) == ("importing", 100)

    await service.post_fixture("jellyfin/item_added_movie.json")
    await service.settled()
    detail = await only_request(service)
    assert detail["state"] == "available"
    steps = [(t["source"], t["event"], t["from_state"], t["to_state"]) for t in detail["timeline"]]
    assert steps == [
        ("jellyseerr", "approved", None, "approved"),
        ("radarr", "grabbed", "approved", "grabbing"),
        ("jellyseerr", "transition_refused", "grabbing", "failed"),
        ("radarr", "imported", "grabbing", "importing"),
        ("jellyfin", "added_to_library", "importing", "available"),
    ]
    refused = detail["timeline"][2]["detail"]
    assert refused == f"{said}, but Radarr already has it (grabbing): its files are still followed"
    status, health = await service.system.health()
    assert (status, health["refused_transitions"]) == (200, 1)
