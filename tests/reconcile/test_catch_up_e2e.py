"""End to end over real HTTP: what happened while the tracker was stopped is caught up from
Jellyseerr's, Sonarr's and Radarr's APIs, exactly once, whichever of webhook and history
comes first; the *arr's status messages become reasons; stalled packs are replaced by policy."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest

from tests.support.fake_arr import FakeArrCore
from tests.support.fake_jellyseerr import FakeJellyseerr, open_fake_jellyseerr
from tests.support.fake_radarr import FakeRadarr, open_fake_radarr
from tests.support.fake_sonarr import FakeSonarr, open_fake_sonarr
from tests.support.fixtures import load_fixture
from tests.support.service import RunningService, started_service, wait_until

KEY = "reconcile-test-key"
OTHER_KEY = "a-key-seerr-does-not-know"
NO_CLIENT = "nothing is known of it: no download client is configured"
"""A download's own reason with no qBittorrent configured (these tests configure none)."""
SERIES_ID, TVDB, TMDB = 42, 176941, 19885
PACK = "C41D9E2F8A7B6C5D4E3F2A1B0C9D8E7F6A5B4C3D"
MOVIE_ID, MOVIE_TMDB = 311, 693134
MOVIE_HASH = "9B1E3D5F7A2C4E6B8D0F1A3C5E7B9D2F4A6C8E0B"
SEASON_DIR = "/data/media/tv/Sherlock/Season 02"


@attrs.frozen
class Stack:
    jellyseerr: FakeJellyseerr
    sonarr: FakeSonarr
    radarr: FakeRadarr


@contextlib.asynccontextmanager
async def fakes() -> AsyncIterator[Stack]:
    async with (
        open_fake_jellyseerr(KEY) as jellyseerr,
        open_fake_sonarr(KEY) as sonarr,
        open_fake_radarr(KEY, {MOVIE_ID}) as radarr,
    ):
        sonarr.add_series(SERIES_ID, "Sherlock", TVDB, tmdb_id=TMDB, year=2010)
        sonarr.add_episodes(SERIES_ID, 2, 3, first_id=2873)
        radarr.add_movie(MOVIE_ID, "Dune: Part Two", year=2024, tmdb_id=MOVIE_TMDB)
        yield Stack(jellyseerr=jellyseerr, sonarr=sonarr, radarr=radarr)


def start(url: str, stack: Stack, **overrides: Any) -> Any:
    settings: dict[str, Any] = {
        "jellyseerr_url": stack.jellyseerr.url,
        "jellyseerr_api_key": KEY,
        "sonarr_url": stack.sonarr.url,
        "sonarr_api_key": KEY,
        "radarr_url": stack.radarr.url,
        "radarr_api_key": KEY,
        "reconcile_interval_s": 0.3,
    }
    settings.update(overrides)
    return started_service(url, **settings)


async def rounds(service: RunningService, count: int = 2) -> None:
    """Wait until the reconciler finished ``count`` more rounds and the inbox drained."""
    reconciler = service.system.reconciler
    assert reconciler is not None
    target = reconciler.status()["rounds"] + count

    async def done() -> bool:
        return reconciler.status()["rounds"] >= target

    await wait_until(done, what=f"{count} reconciler rounds")
    await service.settled()


def pack_path(episode: int) -> str:
    return f"{SEASON_DIR}/Sherlock - S02E0{episode} - Episode {episode} Bluray-1080p.mkv"


def stopped_while_sonarr_worked(stack: Stack, at: float, *, manual_import: bool = True) -> None:
    """Jellyseerr request → Sonarr grabs the S02 pack → imports E01-E02; E03 imported by hand
    (unless not ``manual_import``)."""
    stack.jellyseerr.add_request(
        58, media_type="tv", tmdb_id=TMDB, tvdb_id=TVDB, title="Sherlock", year=2010, seasons=(2,)
    )
    stack.jellyseerr.add_request(
        60, media_type="movie", tmdb_id=MOVIE_TMDB, title="Dune: Part Two", year=2024
    )
    sonarr = stack.sonarr.arr
    ids = stack.sonarr.episode_ids(SERIES_ID, 2)
    title = "Sherlock.S02.1080p.BluRay.x264-ROVERS"
    sonarr.add_history(
        "grabbed",
        ids,
        at=at,
        download_id=PACK,
        source_title=title,
        data={"releaseType": "SeasonPack", "size": "9875430400", "nzbInfoUrl": None},
        series_id=SERIES_ID,
    )
    for number, episode_id in enumerate(ids[:2], start=1):
        sonarr.add_history(
            "downloadFolderImported",
            [episode_id],
            at=at + 60,
            download_id=PACK,
            source_title=f"Sherlock.S02E0{number}.1080p.BluRay.x264-ROVERS",
            data={"importedPath": pack_path(number), "droppedPath": f"/downloads/{number}.mkv"},
            series_id=SERIES_ID,
        )
    if manual_import:  # no download id
        sonarr.add_history(
            "downloadFolderImported",
            [ids[2]],
            at=at + 120,
            download_id=None,
            source_title="Sherlock - S02E03",
            data={"importedPath": pack_path(3), "droppedPath": "/manual/Sherlock.S02E03.mkv"},
            series_id=SERIES_ID,
        )
    stack.radarr.arr.add_history(
        "grabbed",
        [MOVIE_ID],
        at=at + 30,
        download_id=MOVIE_HASH,
        source_title="Dune.Part.Two.2024.2160p.WEB-DL",
        data={"size": "30000000000", "tmdbId": str(MOVIE_TMDB)},
    )
    stack.radarr.arr.add_queue(MOVIE_HASH, "Dune.Part.Two.2024.2160p.WEB-DL", [MOVIE_ID])


def sonarr_grab_webhook(stack: Stack) -> dict[str, Any]:
    body = load_fixture("sonarr/grab_season_pack.json")
    body["series"].update(
        {"id": SERIES_ID, "title": "Sherlock", "tvdbId": TVDB, "tmdbId": TMDB, "type": "standard"}
    )
    ids = stack.sonarr.episode_ids(SERIES_ID, 2)
    body["episodes"] = [
        {"id": episode_id, "episodeNumber": n, "seasonNumber": 2, "title": f"Episode {n}"}
        for n, episode_id in enumerate(ids, start=1)
    ]
    body["downloadId"] = PACK
    return body


def sonarr_import_webhook(stack: Stack, episode: int) -> dict[str, Any]:
    body = load_fixture("sonarr/download_season_pack_file.json")
    body["series"].update(
        {"id": SERIES_ID, "title": "Sherlock", "tvdbId": TVDB, "tmdbId": TMDB, "type": "standard"}
    )
    episode_id = stack.sonarr.episode_ids(SERIES_ID, 2)[episode - 1]
    body["episodes"] = [
        {"id": episode_id, "episodeNumber": episode, "seasonNumber": 2, "title": "x"}
    ]
    body["episodeFile"]["path"] = pack_path(episode)
    body["episodeFile"]["relativePath"] = pack_path(episode).rsplit("/", 2)[1]
    if episode == 3:
        body.pop("downloadId", None)
    else:
        body["downloadId"] = PACK
    return body


def radarr_grab_webhook() -> dict[str, Any]:
    body = load_fixture("radarr/grab.json")
    body["movie"].update(
        {"id": MOVIE_ID, "title": "Dune: Part Two", "year": 2024, "tmdbId": MOVIE_TMDB}
    )
    body["movie"]["genres"] = ["Science Fiction"]
    body["movie"]["tags"] = []
    body["remoteMovie"].update({"tmdbId": MOVIE_TMDB, "title": "Dune: Part Two", "year": 2024})
    body["downloadId"] = MOVIE_HASH
    return body


def events(detail: dict[str, Any]) -> list[tuple[str, str, int | None]]:
    return [(t["source"], t["event"], t["episode"]) for t in detail["timeline"]]


async def test_what_happened_while_stopped_is_caught_up_once(sqlite_url: str) -> None:
    async with fakes() as stack:
        stopped_while_sonarr_worked(stack, time.time() - 3600)
        async with start(sqlite_url, stack) as service:
            await rounds(service)
            items = await service.requests()
            assert len(items) == 2, items
            tv = await service.request(next(i["id"] for i in items if i["media_type"] == "tv"))
            movie = await service.request(
                next(i["id"] for i in items if i["media_type"] == "movie")
            )
            assert tv["jellyseerr_request_id"] == 58
            assert tv["state"] == "importing"
            assert [(e["season"], e["episode"], e["state"]) for e in tv["episodes"]] == [
                (2, 1, "importing"),
                (2, 2, "importing"),
                (2, 3, "importing"),
            ]
            assert {e["torrent_hash"] for e in tv["episodes"]} == {PACK.lower()}
            assert {e["final_path"] for e in tv["episodes"]} == {pack_path(n) for n in (1, 2, 3)}
            seen = events(tv)
            assert seen[0] == ("jellyseerr", "caught_up_request", None)
            assert ("sonarr", "caught_up_grab", 1) in seen
            assert ("sonarr", "caught_up_import", 3) in seen  # the manual import
            assert not any(event in ("grabbed", "imported") for _, event, _ in seen)
            assert movie["state"] == "grabbing"
            assert movie["jellyseerr_request_id"] == 60
            assert ("radarr", "caught_up_grab", None) in events(movie)

            health = (await service.http.get("/health")).json()["reconciler"]
            assert set(health["services"]) == {"jellyseerr", "sonarr", "radarr"}
            assert all(s["last_read_at"] for s in health["services"].values())
            assert health["services"]["sonarr"]["cursor"]["id"] > 0

            # The webhooks for the same events, delivered late, change nothing.
            timeline_before = (len(tv["timeline"]), len(movie["timeline"]))
            for body in (
                sonarr_grab_webhook(stack),
                sonarr_import_webhook(stack, 1),
                sonarr_import_webhook(stack, 3),
            ):
                response = await service.post_webhook("sonarr", body)
                assert response.json() == {"accepted": True, "duplicate": True}
            response = await service.post_webhook("radarr", radarr_grab_webhook())
            assert response.json() == {"accepted": True, "duplicate": True}
            await rounds(service)
            assert len(await service.requests()) == 2
            tv_after = await service.request(tv["id"])
            movie_after = await service.request(movie["id"])
            assert (len(tv_after["timeline"]), len(movie_after["timeline"])) == timeline_before


async def test_a_restart_reads_history_from_its_stored_cursor(sqlite_url: str) -> None:
    async with fakes() as stack:
        stopped_while_sonarr_worked(stack, time.time() - 3600)
        async with start(sqlite_url, stack) as service:
            await rounds(service)
            (tv,) = [i for i in await service.requests() if i["media_type"] == "tv"]
            count = len((await service.request(tv["id"]))["timeline"])
        async with start(sqlite_url, stack) as service:
            await rounds(service)
            assert len(await service.requests()) == 2
            assert len((await service.request(tv["id"]))["timeline"]) == count
            since = [
                p
                for path, p in [(c[1], c[2]) for c in stack.sonarr.arr.calls]
                if path == "/api/v3/history/since"
            ]
            assert since[-1]["date"] != since[0]["date"]  # read on from the cursor


async def test_a_webhook_first_and_the_history_later_apply_once(sqlite_url: str) -> None:
    async with fakes() as stack, start(sqlite_url, stack) as service:
        await rounds(service)
        response = await service.post_webhook("sonarr", sonarr_grab_webhook(stack))
        assert response.json()["duplicate"] is False
        await service.settled()
        (item,) = await service.requests()
        before = await service.request(item["id"])
        # Sonarr's history now shows the grab the webhook reported.
        stack.sonarr.arr.add_history(
            "grabbed",
            stack.sonarr.episode_ids(SERIES_ID, 2),
            at=time.time(),
            download_id=PACK,
            source_title="Sherlock.S02.1080p.BluRay.x264-ROVERS",
            series_id=SERIES_ID,
        )
        await rounds(service)
        after = await service.request(item["id"])
        assert len(await service.requests()) == 1
        assert after["timeline"] == before["timeline"]
        assert not any(t["event"].startswith("caught_up") for t in after["timeline"])


BLOCKED = (
    "import blocked: One or more episodes expected in this release were not imported or missing "
    "from the release; Sherlock.S02E03.1080p.BluRay.x264-ROVERS.mkv: No audio tracks detected"
)


async def test_an_import_blocked_in_sonarr_shows_its_words_as_the_reason(sqlite_url: str) -> None:
    async with fakes() as stack:
        # E01 and E02 imported; Sonarr blocks E03's import.
        stopped_while_sonarr_worked(stack, time.time() - 3600, manual_import=False)
        stack.sonarr.arr.add_queue(
            PACK,
            "Sherlock.S02.1080p.BluRay.x264-ROVERS",
            stack.sonarr.episode_ids(SERIES_ID, 2),
            status="completed",
            tracked_state="importBlocked",
            tracked_status="warning",
            size_left=0,
            messages=[
                {
                    "title": "One or more episodes expected in this release were not imported "
                    "or missing from the release",
                    "messages": [],
                },
                {
                    "title": "Sherlock.S02E03.1080p.BluRay.x264-ROVERS.mkv",
                    "messages": ["No audio tracks detected"],
                },
            ],
            series_id=SERIES_ID,
            season=2,
        )
        async with start(sqlite_url, stack) as service:
            await rounds(service)
            (tv,) = [i for i in await service.requests() if i["media_type"] == "tv"]
            detail = await service.request(tv["id"])
            (entry,) = [t for t in detail["timeline"] if t["event"] == "caught_up_status"]
            assert entry["source"] == "sonarr"
            assert entry["detail"] == f"Sonarr: {BLOCKED}"
            (row,) = await service.system.store.arr_downloads("sonarr")
            assert row.reason == BLOCKED
            # The API says why, in Sonarr's words: on the episode not imported, its download
            # and the request (the list and the detail alike).
            said = {e["episode"]: e["reason"] for e in detail["episodes"]}
            assert said[3] == f"Sonarr: {BLOCKED}"
            assert said[1] == said[2] != said[3]  # imported: waiting on something else
            assert detail["reason"] == f"Sonarr: {BLOCKED} (1 of 3 episodes)"
            assert tv["reason"] == detail["reason"]
            (download,) = detail["downloads"]
            assert download["hash"] == PACK.lower()
            assert download["reason"] == f"Sonarr: {BLOCKED}"
            await rounds(service)  # unchanged: not recorded again
            detail = await service.request(tv["id"])
            assert [t["event"] for t in detail["timeline"]].count("caught_up_status") == 1

            # Sonarr imports it after all: its words go away.
            for record in stack.sonarr.arr.queue_records:
                record.update(trackedDownloadState="importing", statusMessages=[])
            await rounds(service)
            detail = await service.request(tv["id"])
            assert "Sonarr" not in (detail["reason"] or "")
            assert not any("Sonarr" in (e["reason"] or "") for e in detail["episodes"])
            assert detail["downloads"][0]["reason"] == NO_CLIENT  # its own again


async def test_an_import_radarr_holds_back_shows_its_words_until_it_is_solved(
    sqlite_url: str,
) -> None:
    async with fakes() as stack:
        stopped_while_sonarr_worked(stack, time.time() - 3600)
        radarr = stack.radarr.arr
        radarr.drop_queue(MOVIE_HASH)
        radarr.add_queue(
            MOVIE_HASH,
            "Dune.Part.Two.2024.2160p.WEB-DL",
            [MOVIE_ID],
            status="completed",
            tracked_state="importPending",
            tracked_status="warning",
            size_left=0,
            messages=[
                {"title": "Dune.Part.Two.2024.2160p.WEB-DL", "messages": ["Not enough free space"]}
            ],
        )
        pending = "Radarr: import pending: Dune.Part.Two.2024.2160p.WEB-DL: Not enough free space"
        async with start(sqlite_url, stack) as service:
            await rounds(service)
            (movie,) = [i for i in await service.requests() if i["media_type"] == "movie"]
            assert movie["reason"] == pending
            detail = await service.request(movie["id"])
            assert detail["reason"] == pending
            assert [d["reason"] for d in detail["downloads"]] == [pending]

            radarr.drop_queue(MOVIE_HASH)  # imported: it leaves the queue
            await rounds(service)
            detail = await service.request(movie["id"])
            assert detail["reason"] == "waiting for qBittorrent — qBittorrent is not configured"
            assert [d["reason"] for d in detail["downloads"]] == [NO_CLIENT]


STALLED = "AAAA9E2F8A7B6C5D4E3F2A1B0C9D8E7F6A5B4C3D"
RESEARCH = {"stalled_action": "research", "stalled_after_s": 0.5}


def stalled_grab(
    arr: FakeArrCore,
    title: str,
    item_ids: list[int],
    *,
    series_id: int | None = None,
    season: int | None = None,
) -> None:
    """A grab two hours ago whose torrent has had no connections since."""
    at = time.time() - 7200
    arr.add_history(
        "grabbed", item_ids, at=at, download_id=STALLED, source_title=title, series_id=series_id
    )
    arr.add_queue(
        STALLED,
        title,
        item_ids,
        status="warning",
        size_left=8_000_000_000,
        error_message="The download is stalled with no connections",
        series_id=series_id,
        season=season,
    )


async def test_a_stalled_pack_is_replaced_once_and_the_new_grab_links_the_same_episodes(
    sqlite_url: str,
) -> None:
    async with fakes() as stack:
        sonarr = stack.sonarr
        ids = sonarr.episode_ids(SERIES_ID, 2)
        stalled = STALLED
        replacement = "BBBB9E2F8A7B6C5D4E3F2A1B0C9D8E7F6A5B4C3D"
        stalled_grab(sonarr.arr, "Sherlock.S02.720p.HDTV-DEAD", ids, series_id=SERIES_ID, season=2)

        def grab_again(item_ids: tuple[int, ...]) -> None:
            sonarr.arr.add_history(
                "grabbed",
                list(item_ids),
                at=time.time(),
                download_id=replacement,
                source_title="Sherlock.S02.1080p.BluRay.x264-ROVERS",
                series_id=SERIES_ID,
            )
            sonarr.arr.add_queue(replacement, "Sherlock.S02.1080p", list(item_ids))

        sonarr.arr.on_search = grab_again
        async with start(sqlite_url, stack, **RESEARCH) as service:

            async def replaced() -> bool:
                items = await service.requests()
                if not items:
                    return False
                detail = await service.request(items[0]["id"])
                hashes = {e["torrent_hash"] for e in detail["episodes"]}
                return hashes == {replacement.lower()}

            await wait_until(replaced, what="the replacement grab to be linked")
            (item,) = await service.requests()
            detail = await service.request(item["id"])
            assert [(e["season"], e["episode"]) for e in detail["episodes"]] == [
                (2, 1),
                (2, 2),
                (2, 3),
            ]
            assert {e["state"] for e in detail["episodes"]} == {"grabbing"}
            actions = [t for t in detail["timeline"] if t["source"] == "recovery"]
            assert [t["event"] for t in actions] == ["stalled_download_replaced"]
            assert "no connections" in actions[0]["detail"]
            failed = [t for t in detail["timeline"] if t["event"] == "caught_up_download_failed"]
            assert failed
            assert "Manually marked as failed" in failed[0]["detail"]
        assert sonarr.arr.removed == [
            (stalled, {"removeFromClient": "true", "blocklist": "true", "skipRedownload": "false"})
        ]
        assert len(sonarr.arr.searches) == 1
        # A restart in the middle of it all acts on nothing twice.
        async with start(sqlite_url, stack, **RESEARCH) as service:
            await rounds(service, 3)
            (item,) = await service.requests()
            detail = await service.request(item["id"])
            assert [t["event"] for t in detail["timeline"] if t["source"] == "recovery"] == [
                "stalled_download_replaced"
            ]
        assert len(sonarr.arr.removed) == 1
        assert len(sonarr.arr.searches) == 1
        assert sonarr.arr.commands == []  # the replacement grab followed: no search asked for


@pytest.mark.parametrize("service_name", ["sonarr", "radarr"])
async def test_when_no_replacement_grab_follows_a_blocklisting_one_search_is_asked_for(
    sqlite_url: str, service_name: str
) -> None:
    async with fakes() as stack:
        if service_name == "sonarr":
            arr = stack.sonarr.arr
            ids = stack.sonarr.episode_ids(SERIES_ID, 2)
            stalled_grab(arr, "Sherlock.S02.720p.HDTV-DEAD", ids, series_id=SERIES_ID, season=2)
            command = {"name": "EpisodeSearch", "episodeIds": ids}  # the whole pack in one
            asked = "asked Sonarr to search again for 3 episodes"
        else:
            arr = stack.radarr.arr
            stalled_grab(arr, "Dune.Part.Two.2024.720p-DEAD", [MOVIE_ID])
            command = {"name": "MoviesSearch", "movieIds": [MOVIE_ID]}
            asked = "asked Radarr to search again for 1 movie"
        arr.redownload_failed = False  # the *arr does not search again by itself
        async with start(sqlite_url, stack, **RESEARCH) as service:

            async def searched() -> bool:
                return bool(arr.commands)

            await wait_until(searched, what="a search command")
            await rounds(service, 3)
            assert arr.commands == [command]
            (item,) = await service.requests()
            detail = await service.request(item["id"])
            actions = [t for t in detail["timeline"] if t["source"] == "recovery"]
            assert [t["event"] for t in actions] == [
                "stalled_download_replaced",
                "replacement_search_requested",
            ]
            assert asked in actions[1]["detail"]
        # Durable: a restart asks for nothing again.
        async with start(sqlite_url, stack, **RESEARCH) as service:
            await rounds(service, 3)
        assert arr.commands == [command]
        assert len(arr.removed) == 1


async def test_a_request_deleted_or_declined_in_jellyseerr_is_reflected(sqlite_url: str) -> None:
    async with fakes() as stack:
        stack.jellyseerr.add_request(70, media_type="movie", tmdb_id=1, title="Gone", year=2020)
        stack.jellyseerr.add_request(71, media_type="movie", tmdb_id=2, title="No", year=2021)
        async with start(sqlite_url, stack) as service:
            await rounds(service)
            assert {i["state"] for i in await service.requests()} == {"approved"}
            stack.jellyseerr.delete(70)
            stack.jellyseerr.set_status(71, 3)
            await rounds(service)
            states = {i["title"]: i["state"] for i in await service.requests()}
            assert states == {"Gone": "deleted", "No": "failed"}
            gone = next(i for i in await service.requests() if i["title"] == "Gone")
            detail = await service.request(gone["id"])
            assert detail["timeline"][-1]["source"] == "jellyseerr"
            assert detail["timeline"][-1]["event"] == "caught_up_request_deleted"


async def test_a_title_tmdb_cannot_find_is_caught_up_under_its_tmdb_id(sqlite_url: str) -> None:
    async with fakes() as stack:
        stack.jellyseerr.add_request(72, media_type="tv", tmdb_id=3, title="Lost", year=2004)
        stack.jellyseerr.add_request(73, media_type="movie", tmdb_id=4, title="Found", year=2022)
        stack.jellyseerr.tmdb_failing.add(("tv", 3))
        async with start(sqlite_url, stack) as service:
            await rounds(service)
            titles = {i["title"]: i["state"] for i in await service.requests()}
            assert titles == {"TMDB 3": "approved", "Found": "approved"}
            health = (await service.http.get("/health")).json()["reconciler"]
            assert health["services"]["jellyseerr"]["last_error"] is None


async def test_jellyseerr_refusing_the_key_degrades_health_until_it_answers(
    sqlite_url: str,
) -> None:
    async with fakes() as stack, start(sqlite_url, stack, jellyseerr_api_key=OTHER_KEY) as service:
        await rounds(service)
        body = (await service.http.get("/health")).json()
        jellyseerr = body["dependencies"]["jellyseerr"]
        assert (jellyseerr["status"], jellyseerr["configured"]) == ("degraded", True)
        assert jellyseerr["reason"] == "Jellyseerr refused the API key (403)"
        assert body["status"] == "degraded"
        assert "jellyseerr is degraded: Jellyseerr refused the API key (403)" in body["problems"]
        assert OTHER_KEY not in json.dumps(body)
        stack.jellyseerr.accept_key(OTHER_KEY)
        await rounds(service)
        body = (await service.http.get("/health")).json()
        assert body["dependencies"]["jellyseerr"]["status"] == "ok"


async def test_an_import_jellyfin_does_not_show_gets_one_library_refresh(sqlite_url: str) -> None:
    from tests.support.fake_jellyfin import open_fake_jellyfin

    async with fakes() as stack, open_fake_jellyfin(KEY) as jellyfin:
        at = time.time() - 600
        stack.radarr.arr.add_history(
            "grabbed", [MOVIE_ID], at=at, download_id=MOVIE_HASH, source_title="Dune.2024"
        )
        stack.radarr.arr.add_history(
            "downloadFolderImported",
            [MOVIE_ID],
            at=at + 60,
            download_id=MOVIE_HASH,
            source_title="Dune.2024",
            data={"importedPath": "/data/media/movies/Dune Part Two (2024)/Dune.mkv"},
        )
        overrides = {"jellyfin_url": jellyfin.url, "jellyfin_api_key": KEY, "stuck_after_s": 0.5}
        async with start(sqlite_url, stack, **overrides) as service:

            async def nudged() -> bool:
                items = await service.requests()
                if not items:
                    return False
                detail = await service.request(items[0]["id"])
                return any(t["event"] == "library_refresh_requested" for t in detail["timeline"])

            await wait_until(nudged, what="a library refresh to be recorded")
            await rounds(service, 3)
            (item,) = await service.requests()
            assert item["state"] == "importing"
            detail = await service.request(item["id"])
            entries = [t for t in detail["timeline"] if t["event"] == "library_refresh_requested"]
            assert len(entries) == 1
            assert entries[0]["source"] == "recovery"
            assert entries[0]["detail"].startswith("asked Jellyfin to scan the library")
            refreshes = [r for r in jellyfin.requests if r.method == "POST"]
            assert [r.path for r in refreshes] == ["/Library/Refresh"]
            health = (await service.http.get("/health")).json()["reconciler"]
            assert health["stalled_action"] == "notify"
