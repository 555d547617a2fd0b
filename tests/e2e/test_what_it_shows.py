"""Issue 9, "what it shows must be true", through real HTTP: every new field, the new state, the
reasons, the view token and "check again now"."""

from __future__ import annotations

from typing import Any

import pytest
from status_tracker.actors.torrent import state as torrent_state

from tests.support.fake_qbittorrent import FakeQBittorrent, open_fake_qbittorrent
from tests.support.service import API_TOKEN, RunningService, started_service, wait_until

HORIMIYA = "b4a1e3d27c9f0a5e6d8c1b2a3f4e5d6c7b8a9f01"
HORIMIYA_NAME = (
    "[Judas] Horimiya (Season 1) [1080p][HEVC x265 10bit][Dual-Audio][Multi-Subs] (Batch)"
)
VIEW_TOKEN = "test-view-secret"
QBT = ("admin", "adminadmin")
GIB = 1024**3


def stalls_count_after(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """A stall qBittorrent reports reads ``stalled`` once it has lasted ``seconds`` (a minute in
    the service: too long for a test)."""
    monkeypatch.setattr(torrent_state, "STALLED_AFTER_S", seconds)


def qbittorrent_settings(qbittorrent: FakeQBittorrent) -> dict[str, Any]:
    return {
        "qbittorrent_url": qbittorrent.url,
        "qbittorrent_username": QBT[0],
        "qbittorrent_password": QBT[1],
        "poll_active_s": 0.05,
        "poll_idle_s": 0.05,
    }


def horimiya_files(done: int) -> list[dict[str, Any]]:
    """The pack's 13 files: the first ``done`` complete, the next at 40 %, the rest not started."""
    files = []
    for n in range(1, 14):
        progress = 1.0 if n <= done else 0.4 if n == done + 1 else 0.0
        files.append(
            {
                "index": n - 1,
                "name": f"{HORIMIYA_NAME}/[Judas] Horimiya - {n:02d}.mkv",
                "size": GIB + n,
                "progress": progress,
                "priority": 1,
            }
        )
    return files


async def pack_in_qbittorrent(
    service: RunningService, qbittorrent: FakeQBittorrent, **fields: Any
) -> dict[str, Any]:
    """Horimiya requested and grabbed as one pack, 6 of 13 files done, as qBittorrent says."""
    qbittorrent.files[HORIMIYA] = horimiya_files(done=6)
    qbittorrent.add_torrent(
        HORIMIYA,
        name=HORIMIYA_NAME,
        size=13 * GIB,
        total_size=13 * GIB,
        amount_left=7 * GIB,
        progress=0.4627,
        **fields,
    )
    await service.post_fixture("jellyseerr/media_approved_tv.json")
    await service.post_fixture("sonarr/grab_season_pack.json")
    return await service.wait_for_request(
        lambda r: r["episode_counts"] == {"downloaded": 6, "downloading": 7},
        what="the pack's episodes to follow their files",
    )


async def test_a_pack_shows_speed_swarm_release_facts_and_who_asked(sqlite_url: str) -> None:
    async with (
        open_fake_qbittorrent(*QBT) as qbittorrent,
        started_service(sqlite_url, **qbittorrent_settings(qbittorrent)) as service,
    ):
        detail = await pack_in_qbittorrent(
            service,
            qbittorrent,
            state="downloading",
            dlspeed=18874368,
            eta=268,
            num_seeds=38,
            num_leechs=12,
        )
        (download,) = detail["downloads"]
        assert {key: download[key] for key in ("speed", "eta_s", "seeds", "peers")} == {
            "speed": 18874368,
            "eta_s": 268,
            "seeds": 38,
            "peers": 12,
        }
        assert (download["size"], download["size_left"]) == (13 * GIB, 7 * GIB)
        assert download["quality"] == "Bluray-1080p"
        assert download["release_group"] == "Judas"
        assert download["indexer"] == "Nyaa.si (Prowlarr)"
        assert download["languages"] == ["Japanese", "English"]
        assert download["custom_formats"] == ["Anime Dual Audio", "10bit", "x265 (HD)"]
        assert download["reason"] is None, "it moves: nothing to explain"
        assert detail["requested_by"] == "izumi"
        assert detail["requested_at"] is not None
        assert "izumi@example.com" not in str(detail)

        # "Horimiya with 6 of 13 downloaded and the rest downloading reads downloading".
        assert detail["state"] == "downloading"
        episodes = {e["episode"]: e for e in detail["episodes"]}
        assert (episodes[7]["state"], episodes[7]["progress"]) == ("downloading", 40.0)
        for n in range(8, 14):
            assert (episodes[n]["state"], episodes[n]["progress"]) == ("downloading", 0.0), n
        assert {n: e["size"] for n, e in episodes.items()} == {n: GIB + n for n in range(1, 14)}
        assert all(e["reason"] is None for e in episodes.values())

        (item,) = await service.requests()
        assert (item["requested_by"], item["reason"]) == ("izumi", None)


async def test_a_stalled_pack_without_seeds_says_so_at_every_level(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stalls_count_after(monkeypatch, 1.0)
    async with (
        open_fake_qbittorrent(*QBT) as qbittorrent,
        started_service(sqlite_url, **qbittorrent_settings(qbittorrent)) as service,
    ):
        await pack_in_qbittorrent(
            service, qbittorrent, state="stalledDL", dlspeed=0, eta=8640000, num_seeds=0
        )
        detail = await service.wait_for_request(
            lambda r: r["reason"] is not None, what="the stalled pack's reason"
        )
        (download,) = detail["downloads"]
        assert (download["state"], download["client_state"]) == ("stalled", "stalledDL")
        assert download["reason"].startswith("no seeds for ")
        assert (download["eta_s"], download["seeds"], download["speed"]) == (None, 0, 0)
        assert detail["reason"].startswith("no seeds for ")
        assert detail["reason"].endswith("(7 of 13 episodes)")
        waiting = [e for e in detail["episodes"] if e["state"] == "downloading"]
        assert len(waiting) == 7
        assert all(e["reason"].startswith("no seeds for ") for e in waiting)


async def link_click_one_episode_available(service: RunningService) -> dict[str, Any]:
    await service.post_fixture("jellyseerr/media_auto_approved_tv_multi_season.json")
    await service.post_fixture("sonarr/grab_single_episode.json")
    await service.post_fixture("sonarr/download_single.json")
    await service.post_fixture(
        "jellyfin/item_added_episode.json",
        Name="Episode 1",
        SeriesName="Link Click",
        SeasonNumber=3,
        SeasonNumber00="03",
        EpisodeNumber=1,
        EpisodeNumber00="01",
        ItemId="0" * 31 + "1",
        Provider_tvdb="10712001",
        Provider_tmdb="",
    )
    await service.settled()
    (item,) = await service.requests()
    return await service.request(item["id"])


async def test_link_click_two_seasons_asked_one_episode_in_is_partially_available(
    sqlite_url: str,
) -> None:
    async with started_service(sqlite_url) as service:
        detail = await link_click_one_episode_available(service)
        assert detail["requested_seasons"] == [2, 3]
        assert detail["episode_counts"] == {"available": 1}
        assert detail["state"] == "partially_available"
        assert detail["available_at"] is None
        assert detail["reason"] == (
            "1 of 1 episodes available; the episodes of seasons 2, 3 are not known yet"
            " (Sonarr's API is not configured)"
        )
        assert detail["requested_by"] == "kyouko"

        await service.post_fixture(
            "jellyseerr/media_available_movie.json",
            subject="Link Click (2021)",
            media__media_type="tv",
            media__tmdbId="127532",
            media__tvdbId="403179",
            request__request_id=str(detail["jellyseerr_request_id"]),
        )
        await service.settled()
        done = await service.request(detail["id"])
        assert done["state"] == "available", "Jellyseerr reports every asked season there"


async def test_the_view_token_reads_but_never_changes(sqlite_url: str) -> None:
    async with started_service(sqlite_url, view_token=VIEW_TOKEN) as service:
        detail = await link_click_one_episode_available(service)
        viewer = {"Authorization": f"Bearer {VIEW_TOKEN}"}
        path = f"/api/requests/{detail['id']}"
        for readable in ("/api/requests", path):
            assert (await service.http.get(readable, headers=viewer)).status_code == 200
        refused = [
            await service.http.delete(path, headers=viewer),
            await service.http.request("DELETE", f"{path}/episodes", headers=viewer, json=[[3, 1]]),
            await service.http.post(f"{path}/check", headers=viewer),
            await service.http.get("/api/dead-letters", headers=viewer),
            await service.http.post("/api/dead-letters/1/retry", headers=viewer),
        ]
        for answer in refused:
            assert answer.status_code == 403, answer.text
            assert answer.json() == {"error": "the view token (or its session) may only read"}
        assert (await service.request(detail["id"]))["state"] == "partially_available"

        signed_in = await service.http.post(
            "/login",
            content=f"token={VIEW_TOKEN}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert signed_in.status_code == 303
        cookie = {"Cookie": f"st_session={signed_in.cookies['st_session']}"}
        assert (await service.http.get("/", headers=cookie)).status_code == 200
        assert (await service.http.get(path, headers=cookie)).status_code == 200
        assert (await service.http.delete(path, headers=cookie)).status_code == 403
        rows = await service.system.store.fetch("SELECT role FROM sessions")
        assert [row["role"] for row in rows] == ["viewer"]

        admin = {"Authorization": f"Bearer {API_TOKEN}"}
        assert (await service.http.get("/api/dead-letters", headers=admin)).status_code == 200


async def test_check_again_now_is_recorded_and_looked_at_at_once(sqlite_url: str) -> None:
    async with started_service(sqlite_url, stuck_after_s=3600) as service:
        await service.post_fixture("radarr/grab.json", movie__tags=[])
        item = await service.wait_for_request(lambda r: r["state"] == "grabbing", what="a grab")
        answer = await service.http.post(
            f"/api/requests/{item['id']}/check", headers={"Authorization": f"Bearer {API_TOKEN}"}
        )
        assert answer.status_code == 202
        assert answer.json() == {"accepted": True}

        async def looked_at() -> bool:
            timeline = (await service.request(item["id"]))["timeline"]
            return any(t["source"] == "recovery" for t in timeline)

        await wait_until(looked_at, what="the sweeper to look at it at once", deadline=5.0)
        timeline = (await service.request(item["id"]))["timeline"]
        events = [(t["source"], t["event"]) for t in timeline]
        assert ("api", "check_requested") in events
        (recovery,) = [t for t in timeline if t["source"] == "recovery"]
        assert recovery["event"] == "stuck_download"
        assert "no download client configured" in recovery["detail"]

        unknown = await service.http.post(
            "/api/requests/999/check", headers={"Authorization": f"Bearer {API_TOKEN}"}
        )
        assert unknown.status_code == 404
        assert (await service.http.post(f"/api/requests/{item['id']}/check")).status_code == 401


async def test_health_names_what_waits_on_a_service_that_is_not_configured(
    sqlite_url: str,
) -> None:
    async with started_service(sqlite_url) as service:
        await service.post_fixture("captured/sonarr-grab.json")
        await service.post_fixture("captured/sonarr-import.json")
        await service.settled()
        response = await service.http.get("/health")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "degraded"
        assert body["problems"] == ["13 items wait for Shoko, which is not configured"]
        detail = await service.request((await service.requests())[0]["id"])
        assert detail["reason"] == (
            "waiting for Shoko — Shoko is not configured (13 of 13 episodes)"
        )
        assert "Lycoris" not in response.text, "/health shows counts, never titles"


async def test_with_no_qbittorrent_a_grabbed_download_claims_nothing_of_it(
    service: RunningService,
) -> None:
    await service.post_fixture("jellyseerr/media_auto_approved_movie.json")
    await service.post_fixture("radarr/grab.json")
    await service.settled()
    (item,) = await service.requests()
    detail = await service.request(item["id"])
    (download,) = detail["downloads"]
    assert download["client_state"] is None
    assert download["reason"] == "nothing is known of it: no download client is configured"
    assert "queued" not in (detail["reason"] or "")
    assert detail["reason"] == "waiting for qBittorrent — qBittorrent is not configured"
