"""An event that happens again is applied again; the same event reported twice, once.

Radarr and Sonarr repeat what looks alike: after a file is deleted by hand they grab the same
release again (same infohash), import it to the same path (a new file row), and the file can be
deleted by hand again. Each of those webhooks is a new event and is applied. What stays one
delivery: an identical body (within the hour), and a webhook and the reconciler's catch-up of
the same event from the *arr's history, in either order.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from tests.reconcile.test_catch_up_e2e import (
    MOVIE_HASH,
    MOVIE_ID,
    MOVIE_TMDB,
    fakes,
    radarr_grab_webhook,
    rounds,
    start,
)
from tests.support.fixtures import load_fixture
from tests.support.service import RunningService, started_service


async def post(service: RunningService, source: str, body: dict[str, Any]) -> bool:
    """Post a webhook; whether it was taken as a duplicate."""
    response = await service.post_webhook(source, body)
    assert response.status_code == 200, response.text
    await service.settled()
    return bool(response.json()["duplicate"])


def timeline(detail: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return [(t["source"], t["event"], t["to_state"]) for t in detail["timeline"]]


# -- Radarr -------------------------------------------------------------------------------------


def radarr_grab(indexer: str | None = None) -> dict[str, Any]:
    body = load_fixture("radarr/grab.json")
    body["movie"]["tags"] = []
    if indexer:
        body["release"]["indexer"] = indexer
    return body


def radarr_import(file_id: int | None = None, indexer: str | None = None) -> dict[str, Any]:
    body = load_fixture("radarr/download.json")
    body["movie"]["tags"] = []
    if file_id is not None:
        body["movieFile"]["id"] = file_id
        body["movieFile"]["dateAdded"] = "2026-02-03T10:00:00.1234567Z"
    if indexer:
        body["release"]["indexer"] = indexer
    return body


def radarr_file_delete(file_id: int) -> dict[str, Any]:
    """MovieFileDelete as Radarr sends it: the movie, the deleted file, the reason."""
    imported = radarr_import()
    movie_file = imported["movieFile"]
    movie_file.pop("sourcePath", None)
    movie_file["id"] = file_id
    return {
        "movie": imported["movie"],
        "movieFile": movie_file,
        "deleteReason": "manual",
        "eventType": "MovieFileDelete",
        "instanceName": "Radarr",
        "applicationUrl": "",
    }


async def test_a_movie_deleted_grabbed_imported_and_deleted_again_is_followed_each_time(
    sqlite_url: str,
) -> None:
    async with started_service(sqlite_url) as service:
        assert not await post(service, "radarr", radarr_grab())
        assert not await post(service, "radarr", radarr_import())
        assert not await post(service, "radarr", radarr_file_delete(36))
        (first,) = await service.requests()
        assert first["state"] == "deleted"
        first_timeline = timeline(await service.request(first["id"]))

        # Radarr searches and grabs the same release again (same infohash, another indexer),
        # imports it to the same path as a new file (id 37), and the file is deleted again.
        again = "IPTorrents (Prowlarr)"
        assert not await post(service, "radarr", radarr_grab(indexer=again)), "re-grab dropped"
        followed = await service.wait_for_request(
            lambda item: item["state"] == "grabbing", what="the grab again to be followed"
        )
        assert not await post(service, "radarr", radarr_import(37, again)), "re-import dropped"
        assert (await service.request(followed["id"]))["state"] == "importing"
        assert not await post(service, "radarr", radarr_file_delete(37)), "delete #2 dropped"
        detail = await service.request(followed["id"])
        assert detail["state"] == "deleted"
        assert [event for _, event, _ in timeline(detail)].count("file_deleted") == 1
        # The first lifecycle is as it was.
        assert timeline(await service.request(first["id"])) == first_timeline
        # An identical body within the hour is still one delivery.
        assert await post(service, "radarr", radarr_file_delete(37))


# -- Sonarr -------------------------------------------------------------------------------------


def sonarr_file_delete(download: dict[str, Any], file_id: int) -> dict[str, Any]:
    episode_file = copy.deepcopy(download["episodeFile"])
    episode_file.pop("sourcePath", None)
    episode_file["id"] = file_id
    return {
        "series": download["series"],
        "episodes": download["episodes"],
        "episodeFile": episode_file,
        "deleteReason": "manual",
        "eventType": "EpisodeFileDelete",
        "instanceName": "Sonarr",
        "applicationUrl": "",
    }


async def test_an_episode_deleted_grabbed_imported_and_deleted_again_is_followed_each_time(
    sqlite_url: str,
) -> None:
    grab = load_fixture("sonarr/grab_single_episode.json")
    download = load_fixture("sonarr/download_single.json")
    async with started_service(sqlite_url) as service:
        assert not await post(service, "sonarr", grab)
        assert not await post(service, "sonarr", download)
        assert not await post(service, "sonarr", sonarr_file_delete(download, 9301))
        (item,) = await service.requests()
        detail = await service.request(item["id"])
        assert [(e["episode"], e["state"]) for e in detail["episodes"]] == [(1, "deleted")]

        regrab = copy.deepcopy(grab)
        regrab["release"]["indexer"] = "IPTorrents (Prowlarr)"
        regrab["release"]["customFormatScore"] = 90
        assert not await post(service, "sonarr", regrab), "re-grab dropped"
        reimport = copy.deepcopy(download)
        reimport["episodeFile"]["id"] = 9402
        reimport["episodeFile"]["dateAdded"] = "2025-07-20T03:12:44.5Z"
        reimport["release"]["indexer"] = "IPTorrents (Prowlarr)"
        assert not await post(service, "sonarr", reimport), "re-import dropped"
        followed = await service.wait_for_request(
            lambda i: i["state"] == "importing", what="the import again to be followed"
        )
        assert [(e["episode"], e["state"]) for e in followed["episodes"]] == [(1, "importing")]
        assert not await post(service, "sonarr", sonarr_file_delete(download, 9402)), (
            "delete #2 dropped"
        )
        detail = await service.request(followed["id"])
        assert [(e["episode"], e["state"]) for e in detail["episodes"]] == [(1, "deleted")]
        assert [event for _, event, _ in timeline(detail)].count("file_deleted") == 2, (
            "one request follows both deletions: the grab between brought the episode back"
        )
        assert await post(service, "sonarr", sonarr_file_delete(download, 9402)), "same body"


# -- with the reconciler: repeats and their history ----------------------------------------------


def dune_import(file_id: int) -> dict[str, Any]:
    body = load_fixture("radarr/download.json")
    body["movie"].update(
        {"id": MOVIE_ID, "title": "Dune: Part Two", "year": 2024, "tmdbId": MOVIE_TMDB, "tags": []}
    )
    body["remoteMovie"].update({"tmdbId": MOVIE_TMDB, "title": "Dune: Part Two", "year": 2024})
    body["downloadId"] = MOVIE_HASH
    body["movieFile"]["id"] = file_id
    body["movieFile"]["path"] = "/data/movies/Dune Part Two (2024)/Dune.Part.Two.2024.mkv"
    return body


def dune_file_delete(file_id: int) -> dict[str, Any]:
    imported = dune_import(file_id)
    imported["movieFile"].pop("sourcePath", None)
    return {
        "movie": imported["movie"],
        "movieFile": imported["movieFile"],
        "deleteReason": "manual",
        "eventType": "MovieFileDelete",
        "instanceName": "Radarr",
        "applicationUrl": "",
    }


async def test_each_repeat_and_its_history_row_apply_once(sqlite_url: str) -> None:
    """Grab, import, delete, then the same grab and import again: four webhooks applied once
    each; Radarr's history of all of them, read afterwards, adds nothing."""
    async with fakes() as stack, start(sqlite_url, stack) as service:
        await rounds(service)
        grab = radarr_grab_webhook()
        regrab = copy.deepcopy(grab)
        regrab["release"]["indexer"] = "IPTorrents (Prowlarr)"
        path = dune_import(0)["movieFile"]["path"]
        assert not await post(service, "radarr", grab)
        assert not await post(service, "radarr", dune_import(36))
        assert not await post(service, "radarr", dune_file_delete(36))
        assert not await post(service, "radarr", regrab)
        assert not await post(service, "radarr", dune_import(37))
        before = {i["id"]: await service.request(i["id"]) for i in await service.requests()}
        assert "importing" in {d["state"] for d in before.values()}

        at = time.time()
        arr = stack.radarr.arr
        title = "Dune.Part.Two.2024.2160p.WEB-DL"
        for offset, download_id in ((0, MOVIE_HASH), (30, MOVIE_HASH)):
            arr.add_history(
                "grabbed", [MOVIE_ID], at=at + offset, download_id=download_id, source_title=title
            )
            arr.add_history(
                "downloadFolderImported",
                [MOVIE_ID],
                at=at + offset + 10,
                download_id=download_id,
                source_title=title,
                data={"importedPath": path, "fileId": str(36 + offset // 30)},
            )
        await rounds(service)
        after = {i["id"]: await service.request(i["id"]) for i in await service.requests()}
        assert after.keys() == before.keys()
        for request_id, detail in after.items():
            assert timeline(detail) == timeline(before[request_id]), request_id
            assert not any(t["event"].startswith("caught_up") for t in detail["timeline"])
