"""The TV failures DESIGN.md lists, replayed end to end over real HTTP and read back from the API.

Each test sends what Jellyseerr, Sonarr, qBittorrent (through the TorrentActor, as the poller
would) and Jellyfin send, then checks what a user sees in ``GET /api/requests/{id}``.
"""

from __future__ import annotations

import copy
import functools
from collections import Counter
from typing import Any

import pytest
import trio
from status_tracker.actors.envelope import Deliver
from status_tracker.actors.torrent.messages import ObservedFile, TorrentObserved

from tests.support.fixtures import load_fixture
from tests.support.packs import (
    HORIMIYA_FOLDER,
    horimiya_files,
    lycoris_episodes_added_to_jellyfin,
)
from tests.support.service import RunningService

CHERNOBYL_HASH = "D2C4E6F8A0B1C3D5E7F9A1B3C5D7E9F0A2B4C6D8"
HORIMIYA_HASH = "B4A1E3D27C9F0A5E6D8C1B2A3F4E5D6C7B8A9F01"
LYCORIS_HASH = "3F92992E2FBEB6EBB251304236BF5E0B600A91C3"
ABANDONS_HASH = "7A0B1C2D3E4F5061728394A5B6C7D8E9F0A1B2C3"


# -- helpers ------------------------------------------------------------------------------------


def sonarr_episode(number: int, *, season: int = 1, series_id: int, title: str) -> dict[str, Any]:
    """One entry of a Sonarr webhook's ``episodes[]``."""
    return {
        "id": series_id * 100 + season * 10 + number,
        "episodeNumber": number,
        "seasonNumber": season,
        "title": title,
        "seriesId": series_id,
        "tvdbId": series_id * 100_000 + number,
    }


def single_episode_grab(template: str, number: int, *, season: int) -> dict[str, Any]:
    """A Sonarr Grab body from ``template`` narrowed to one of its (or a new) episode."""
    body = load_fixture(template)
    series_id = body["series"]["id"]
    known = {e["episodeNumber"]: e for e in body["episodes"] if e["seasonNumber"] == season}
    episode = copy.deepcopy(known.get(number)) or sonarr_episode(
        number, season=season, series_id=series_id, title=f"Episode {number}"
    )
    episode["episodeNumber"] = number
    episode["seasonNumber"] = season
    body["episodes"] = [episode]
    return body


async def post_sonarr(service: RunningService, body: dict[str, Any]) -> None:
    response = await service.post_webhook("sonarr", body)
    assert response.status_code == 200, response.text
    assert response.json()["duplicate"] is False


async def post_all_at_once(service: RunningService, bodies: list[dict[str, Any]]) -> None:
    """Send every Sonarr body concurrently, like Sonarr's parallel workers do."""
    async with trio.open_nursery() as nursery:
        for body in bodies:
            nursery.start_soon(functools.partial(post_sonarr, service, body))


async def observe_torrent(
    service: RunningService,
    torrent_hash: str,
    *,
    progress: float,
    state: str,
    client_state: str,
    name: str | None = None,
    files: tuple[ObservedFile, ...] | None = None,
) -> None:
    """Deliver to the torrent's actor what the qBittorrent poller would, and wait for it."""
    seen = TorrentObserved(
        hash=torrent_hash.lower(),
        name=name,
        state=state,
        client_state=client_state,
        progress=progress,
        files=files,
    )
    await service.system.call_torrent(
        torrent_hash.lower(), Deliver(messages=(seen,), source="qbittorrent")
    )
    await service.settled()


async def only_request(service: RunningService) -> dict[str, Any]:
    (item,) = await service.requests()
    return await service.request(item["id"])


def episode_numbers(detail: dict[str, Any]) -> list[int]:
    return [e["episode"] for e in detail["episodes"]]


def by_episode(detail: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {e["episode"]: e for e in detail["episodes"]}


def assert_all_linked_to_one_pack(detail: dict[str, Any], torrent_hash: str, count: int) -> None:
    assert episode_numbers(detail) == list(range(1, count + 1))
    assert [e["torrent_hash"] for e in detail["episodes"]] == [torrent_hash.lower()] * count
    (download,) = detail["downloads"]
    assert download["hash"] == torrent_hash.lower()
    assert download["is_season_pack"] is True
    assert detail["episode_counts"] == {"grabbing": count}
    assert detail["state"] == "grabbing"


def the_abandons_grab(number: int) -> dict[str, Any]:
    """A Sonarr Grab for one episode of The Abandons' 7-episode season pack."""
    body = load_fixture("sonarr/grab_season_pack_miniseries.json")
    body["series"].update(
        id=77,
        title="The Abandons",
        titleSlug="the-abandons",
        path="/data/tv/The Abandons (2025) {tvdb-449123}",
        tvdbId=449123,
        tmdbId=243356,
        imdbId="tt15473982",
        year=2025,
        genres=["Drama", "Western"],
    )
    body["episodes"] = [sonarr_episode(number, series_id=77, title=f"Episode {number}")]
    body["release"]["releaseTitle"] = "The.Abandons.S01.1080p.NF.WEB-DL.DDP5.1.Atmos.H.264-FLUX"
    body["downloadId"] = ABANDONS_HASH
    return body


# -- Chernobyl / The Abandons: every episode of a grab is linked to its download ----------------


async def test_chernobyl_five_concurrent_grabs_of_one_pack_link_every_episode(
    service: RunningService,
) -> None:
    bodies = [
        single_episode_grab("sonarr/grab_season_pack_miniseries.json", n, season=1)
        for n in range(1, 6)
    ]
    await post_all_at_once(service, bodies)
    await service.settled()

    (item,) = await service.requests()
    detail = await service.request(item["id"])
    assert detail["title"] == "Chernobyl"
    assert_all_linked_to_one_pack(detail, CHERNOBYL_HASH, 5)


async def test_chernobyl_season_pack_grab_links_all_five_episodes_at_once(
    service: RunningService,
) -> None:
    await service.post_fixture("sonarr/grab_season_pack_miniseries.json")
    await service.settled()

    detail = await only_request(service)
    assert detail["title"] == "Chernobyl"
    assert_all_linked_to_one_pack(detail, CHERNOBYL_HASH, 5)
    grabbed = [t for t in detail["timeline"] if t["event"] == "grabbed"]
    assert sorted(t["episode"] for t in grabbed) == [1, 2, 3, 4, 5]


async def test_the_abandons_seven_concurrent_grabs_of_one_pack_link_every_episode(
    service: RunningService,
) -> None:
    await post_all_at_once(service, [the_abandons_grab(n) for n in range(1, 8)])
    await service.settled()

    (item,) = await service.requests()
    detail = await service.request(item["id"])
    assert detail["title"] == "The Abandons"
    assert detail["tvdb_id"] == 449123
    assert_all_linked_to_one_pack(detail, ABANDONS_HASH, 7)


# -- a second request for a season already downloading -----------------------------------------


async def test_a_second_request_for_a_season_joins_the_pack_already_downloading(
    service: RunningService,
) -> None:
    await service.post_fixture("jellyseerr/media_approved_tv.json")
    await service.post_fixture("sonarr/grab_season_pack.json")
    await service.settled()
    await service.post_fixture("jellyseerr/media_approved_tv.json", request__request_id="95")
    await service.settled()

    second, first = await service.requests()
    assert (first["jellyseerr_request_id"], second["jellyseerr_request_id"]) == (72, 95)
    a = await service.request(first["id"])
    b = await service.request(second["id"])
    assert episode_numbers(b) == list(range(1, 14))
    assert [e["torrent_hash"] for e in b["episodes"]] == [HORIMIYA_HASH.lower()] * 13
    assert [e["state"] for e in b["episodes"]] == [e["state"] for e in a["episodes"]]
    assert b["state"] == a["state"] == "grabbing"
    assert [d["hash"] for d in b["downloads"]] == [HORIMIYA_HASH.lower()]

    await observe_torrent(
        service, HORIMIYA_HASH, progress=0.4, state="downloading", client_state="downloading"
    )
    for request_id in (first["id"], second["id"]):
        detail = await service.request(request_id)
        assert detail["state"] == "downloading", request_id
        assert detail["progress"] == 40, request_id
        assert detail["episode_counts"] == {"downloading": 13}, request_id
        assert detail["downloads"][0]["progress"] == 40, request_id


async def test_a_second_request_joining_mid_download_shows_each_episode_progress_at_once(
    service: RunningService,
) -> None:
    await service.post_fixture("jellyseerr/media_approved_tv.json")
    await service.post_fixture("sonarr/grab_season_pack.json")
    await service.settled()
    files = horimiya_files(HORIMIYA_FILE_PROGRESS)
    await observe_torrent(
        service,
        HORIMIYA_HASH,
        progress=0.6,
        state="downloading",
        client_state="downloading",
        name=HORIMIYA_FOLDER,
        files=files,
    )

    await service.post_fixture("jellyseerr/media_approved_tv.json", request__request_id="95")
    await service.settled()

    second, first = await service.requests()
    a = await service.request(first["id"])
    b = await service.request(second["id"])
    assert b["jellyseerr_request_id"] == 95
    assert [(e["state"], e["progress"]) for e in b["episodes"]] == [
        (e["state"], e["progress"]) for e in a["episodes"]
    ]
    assert b["episode_counts"] == {"downloaded": 3, "downloading": 10}
    assert (b["state"], b["progress"]) == (a["state"], a["progress"])


# -- two seasons, two requests -------------------------------------------------------------------

HORIMIYA_S2_HASH = "C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8"


def season_request(jellyseerr_id: int, season: int, user: str) -> dict[str, Any]:
    """Jellyseerr's approval of a request by ``user`` for one season of Horimiya."""
    body = load_fixture("jellyseerr/media_approved_tv.json")
    body["request"]["request_id"] = str(jellyseerr_id)
    body["request"]["requestedBy_username"] = user
    body["extra"] = [{"name": "Requested Seasons", "value": str(season)}]
    return body


def season_pack_grab(season: int) -> dict[str, Any]:
    """Sonarr's Grab of Horimiya's pack for ``season`` (season 2 re-numbers season 1's)."""
    body = load_fixture("sonarr/grab_season_pack.json")
    if season == 2:
        for episode in body["episodes"]:
            episode.update(id=episode["id"] + 1000, seasonNumber=2, tvdbId=episode["tvdbId"] + 1000)
        body["downloadId"] = HORIMIYA_S2_HASH
        body["release"]["releaseTitle"] = body["release"]["releaseTitle"].replace(
            "Season 1", "Season 2"
        )
    return body


SEASON_ORDERS = {
    # The usual order: each request comes before its season's grab, the second from another
    # user after the first season's pack already gave the first request Sonarr's series id.
    "request-grab-request-grab": [
        ("jellyseerr", season_request(72, 1, "izumi")),
        ("sonarr", season_pack_grab(1)),
        ("jellyseerr", season_request(95, 2, "kyouko")),
        ("sonarr", season_pack_grab(2)),
    ],
    "both-requests-then-season-two-first": [
        ("jellyseerr", season_request(72, 1, "izumi")),
        ("jellyseerr", season_request(95, 2, "kyouko")),
        ("sonarr", season_pack_grab(2)),
        ("sonarr", season_pack_grab(1)),
    ],
}


@pytest.mark.parametrize("bodies", SEASON_ORDERS.values(), ids=SEASON_ORDERS.keys())
async def test_each_season_request_gets_its_own_season_pack(
    service: RunningService, bodies: list[tuple[str, dict[str, Any]]]
) -> None:
    for source, body in bodies:
        response = await service.post_webhook(source, body)
        assert response.status_code == 200, response.text
        await service.settled()

    items = {item["jellyseerr_request_id"]: item for item in await service.requests()}
    assert sorted(items) == [72, 95], "one request per Jellyseerr request, no other"
    for jellyseerr_id, season, pack in ((72, 1, HORIMIYA_HASH), (95, 2, HORIMIYA_S2_HASH)):
        detail = await service.request(items[jellyseerr_id]["id"])
        assert detail["requested_seasons"] == [season]
        assert [(e["season"], e["episode"]) for e in detail["episodes"]] == [
            (season, number) for number in range(1, 14)
        ], jellyseerr_id
        assert {e["torrent_hash"] for e in detail["episodes"]} == {pack.lower()}
        assert [d["hash"] for d in detail["downloads"]] == [pack.lower()]
        assert (detail["state"], detail["episode_counts"]) == ("grabbing", {"grabbing": 13})


# -- season pack at 100 % ----------------------------------------------------------------------


async def test_a_season_pack_at_100_percent_moves_every_episode_to_downloaded(
    service: RunningService,
) -> None:
    await service.post_fixture("sonarr/grab_season_pack_miniseries.json")
    await service.settled()
    await observe_torrent(
        service, CHERNOBYL_HASH, progress=0.5, state="downloading", client_state="downloading"
    )
    assert (await only_request(service))["episode_counts"] == {"downloading": 5}

    await observe_torrent(
        service, CHERNOBYL_HASH, progress=1.0, state="seeding", client_state="stalledUP"
    )

    detail = await only_request(service)
    assert detail["state"] == "downloaded"
    assert detail["progress"] == 100
    assert detail["episode_counts"] == {"downloaded": 5}
    assert all(e["progress"] == 100 for e in detail["episodes"])
    (download,) = detail["downloads"]
    assert (download["state"], download["progress"]) == ("seeding", 100)


async def test_a_pack_finishing_after_per_file_progress_completes_the_lagging_episodes(
    service: RunningService,
) -> None:
    await service.post_fixture("sonarr/grab_season_pack.json")
    await service.settled()
    await observe_torrent(
        service,
        HORIMIYA_HASH,
        progress=0.6,
        state="downloading",
        client_state="downloading",
        name=HORIMIYA_FOLDER,
        files=horimiya_files(HORIMIYA_FILE_PROGRESS),
    )

    await observe_torrent(
        service, HORIMIYA_HASH, progress=1.0, state="seeding", client_state="stalledUP"
    )

    detail = await only_request(service)
    assert detail["episode_counts"] == {"downloaded": 13}
    assert {e["progress"] for e in detail["episodes"]} == {100}
    assert (detail["state"], detail["progress"]) == ("downloaded", 100)


# -- Horimiya: 13 episodes, each with its own progress -----------------------------------------


HORIMIYA_FILE_PROGRESS = {
    1: 1.0,
    2: 1.0,
    3: 1.0,
    4: 0.95,
    5: 0.87,
    6: 0.75,
    7: 0.62,
    8: 0.5,
    9: 0.41,
    10: 0.33,
    11: 0.2,
    12: 0.1,
    13: 0.05,
}


async def test_horimiya_pack_shows_thirteen_episodes_each_with_its_own_progress(
    service: RunningService,
) -> None:
    await service.post_fixture("sonarr/grab_season_pack.json")
    await service.settled()
    files = horimiya_files(HORIMIYA_FILE_PROGRESS)
    overall = sum(f.size * f.progress for f in files) / sum(f.size for f in files)

    await observe_torrent(
        service,
        HORIMIYA_HASH,
        progress=overall,
        state="downloading",
        client_state="downloading",
        name=HORIMIYA_FOLDER,
        files=files,
    )

    detail = await only_request(service)
    episodes = by_episode(detail)
    assert sorted(episodes) == list(range(1, 14))
    for number, value in HORIMIYA_FILE_PROGRESS.items():
        episode = episodes[number]
        assert episode["progress"] == pytest.approx(value * 100, abs=0.01), number
        expected = "downloaded" if value == 1.0 else "downloading"
        assert episode["state"] == expected, number
    assert len({e["progress"] for e in detail["episodes"]}) == 11
    assert detail["episode_counts"] == {"downloaded": 3, "downloading": 10}
    assert detail["state"] == "downloading"
    mean = sum(HORIMIYA_FILE_PROGRESS.values()) * 100 / 13
    assert detail["progress"] == pytest.approx(mean, abs=0.01)


# -- Link Click S03: six single-episode torrents ------------------------------------------------


async def test_link_click_six_single_episode_grabs_each_keep_their_own_torrent(
    service: RunningService,
) -> None:
    hashes = {n: f"{n:02d}" + "C3D5E7F9A1B3C5D7E9F1A3B5C7D9E1F3A5B7C9" for n in range(1, 7)}
    for n in range(1, 7):
        body = single_episode_grab("sonarr/grab_single_episode.json", n, season=3)
        body["downloadId"] = hashes[n]
        body["release"]["releaseTitle"] = (
            f"Link.Click.S03E{n:02d}.1080p.BILI.WEB-DL.AAC2.0.H.264-VARYG"
        )
        await post_sonarr(service, body)
    await service.settled()

    detail = await only_request(service)
    assert [(e["season"], e["episode"]) for e in detail["episodes"]] == [
        (3, n) for n in range(1, 7)
    ]
    assert {e["episode"]: e["torrent_hash"] for e in detail["episodes"]} == {
        n: h.lower() for n, h in hashes.items()
    }
    assert sorted(d["hash"] for d in detail["downloads"]) == sorted(
        h.lower() for h in hashes.values()
    )
    assert [d["is_season_pack"] for d in detail["downloads"]] == [False] * 6
    assert detail["episode_counts"] == {"grabbing": 6}


# -- Lycoris Recoil: anime pack all the way to available ----------------------------------------


async def test_lycoris_recoil_all_thirteen_episodes_reach_available(
    service: RunningService,
) -> None:
    await service.post_fixture("captured/jellyseerr-tv-auto-approved.json")
    await service.post_fixture("captured/sonarr-grab.json")
    await service.settled()
    detail = await only_request(service)
    assert detail["is_anime"] is True
    assert detail["episode_counts"] == {"grabbing": 13}

    await service.post_fixture("captured/sonarr-import.json")
    await service.settled()
    detail = await only_request(service)
    assert detail["episode_counts"] == {"anime_matching": 13}
    assert detail["state"] == "anime_matching"
    for episode in detail["episodes"]:
        n = episode["episode"]
        assert episode["final_path"] is not None, n
        assert f"S01E{n:02d}" in episode["final_path"], episode["final_path"]
        assert episode["torrent_hash"] == LYCORIS_HASH.lower()

    await lycoris_episodes_added_to_jellyfin(service)
    await service.settled()

    detail = await only_request(service)
    assert detail["state"] == "available"
    assert detail["progress"] == 100
    assert detail["available_at"] is not None
    assert detail["episode_counts"] == {"available": 13}
    assert {e["episode"]: e["jellyfin_id"] for e in detail["episodes"]} == {
        n: f"{n:02d}" + "a1b2c3d4e5f60718293a4b5c6d7e8f" for n in range(1, 14)
    }


# -- per-file Download and import-complete of one release ----------------------------------------


async def test_per_file_import_then_import_complete_records_one_import_per_episode(
    service: RunningService,
) -> None:
    await service.post_fixture("sonarr/grab_season_pack.json")
    await service.post_fixture("sonarr/download_season_pack_file.json")
    await service.settled()
    first = by_episode(await only_request(service))[1]
    assert first["state"] == "anime_matching"

    await service.post_fixture("sonarr/import_complete_season_pack.json")
    await service.settled()

    detail = await only_request(service)
    imported = Counter(t["episode"] for t in detail["timeline"] if t["event"] == "imported")
    assert imported[1] == 1, [t for t in detail["timeline"] if t["episode"] == 1]
    assert imported == Counter({n: 1 for n in range(1, 14)})
    assert not [t for t in detail["timeline"] if t["event"] == "transition_refused"]
    assert detail["episode_counts"] == {"anime_matching": 13}


# -- deletions from Sonarr ----------------------------------------------------------------------


def series_delete(grab_fixture: str, *, deleted_files: bool) -> dict[str, Any]:
    """Sonarr's SeriesDelete of the series a grab fixture names."""
    return {
        "series": load_fixture(grab_fixture)["series"],
        "deletedFiles": deleted_files,
        "eventType": "SeriesDelete",
        "instanceName": "Sonarr",
        "applicationUrl": "",
    }


async def test_series_delete_in_sonarr_deletes_the_request_and_its_episodes(
    service: RunningService,
) -> None:
    await service.post_fixture("sonarr/grab_season_pack_miniseries.json")
    await service.settled()

    miniseries = "sonarr/grab_season_pack_miniseries.json"
    await post_sonarr(service, series_delete(miniseries, deleted_files=True))
    await service.settled()

    detail = await only_request(service)
    assert detail["state"] == "deleted"
    assert detail["episode_counts"] == {"deleted": 5}
    assert [e["state"] for e in detail["episodes"]] == ["deleted"] * 5
    last = detail["timeline"][-1]
    assert (last["source"], last["to_state"], last["season"]) == ("sonarr", "deleted", None)


async def test_series_delete_before_any_grab_deletes_the_jellyseerr_request(
    service: RunningService,
) -> None:
    await service.post_fixture("jellyseerr/media_approved_tv.json")
    await service.settled()

    await post_sonarr(service, series_delete("sonarr/grab_season_pack.json", deleted_files=False))
    await service.settled()

    detail = await only_request(service)
    assert detail["jellyseerr_request_id"] == 72
    assert detail["state"] == "deleted"


def episode_file_delete(reason: str) -> dict[str, Any]:
    download = load_fixture("sonarr/download_single.json")
    return {
        "series": download["series"],
        "episodes": download["episodes"],
        "episodeFile": download["episodeFile"],
        "deleteReason": reason,
        "eventType": "EpisodeFileDelete",
        "instanceName": "Sonarr",
        "applicationUrl": "",
    }


async def test_episode_file_deleted_by_hand_marks_the_episode_deleted(
    service: RunningService,
) -> None:
    await service.post_fixture("sonarr/grab_single_episode.json")
    await service.post_fixture("sonarr/download_single.json")
    await service.settled()

    await post_sonarr(service, episode_file_delete("manual"))
    await service.settled()

    detail = await only_request(service)
    assert [(e["episode"], e["state"]) for e in detail["episodes"]] == [(1, "deleted")]
    assert detail["episode_counts"] == {"deleted": 1}


async def test_episode_file_deleted_for_an_upgrade_changes_no_state(
    service: RunningService,
) -> None:
    await service.post_fixture("sonarr/grab_single_episode.json")
    await service.post_fixture("sonarr/download_single.json")
    await service.settled()
    before = await only_request(service)
    assert before["state"] == "importing"

    await post_sonarr(service, episode_file_delete("upgrade"))
    await service.settled()

    after = await only_request(service)
    assert after["state"] == "importing"
    assert [(e["episode"], e["state"]) for e in after["episodes"]] == [(1, "importing")]
    assert after["episode_counts"] == {"importing": 1}
    new_entries = after["timeline"][len(before["timeline"]) :]
    assert all(t["to_state"] is None for t in new_entries), new_entries


# -- Jellyfin library scans ----------------------------------------------------------------------


async def test_a_library_episode_of_a_series_nobody_requested_creates_nothing(
    service: RunningService,
) -> None:
    await service.post_fixture("jellyseerr/media_approved_tv.json")
    await service.settled()
    before = await only_request(service)

    await service.post_fixture(
        "jellyfin/item_added_episode.json",
        SeriesName="Solo Leveling",
        Name="I'm Used to It",
        SeasonNumber=1,
        EpisodeNumber=1,
    )
    await service.settled()

    (item,) = await service.requests()
    assert item["id"] == before["id"]
    after = await service.request(item["id"])
    assert after["title"] == "Horimiya"
    assert after["state"] == before["state"] == "approved"
    assert after["timeline"] == before["timeline"]
