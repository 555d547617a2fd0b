"""The verifier finishing what Jellyfin never announced, the live feed, and /health."""

from __future__ import annotations

import json
import re

import asyncpg
import pytest
import trio
import trio_asyncio
from status_tracker.ingress.http import feed
from status_tracker.storage import SaveRequest
from trio_websocket import ConnectionRejected, open_websocket_url

from status_tracker.domain import RequestRow
from tests.e2e.test_what_it_shows import (
    HORIMIYA,
    QBT,
    horimiya_files,
    pack_in_qbittorrent,
    qbittorrent_settings,
    stalls_count_after,
)
from tests.support.databases import POSTGRES_ADMIN_URL, throwaway_postgres_database
from tests.support.fake_jellyfin import open_fake_jellyfin
from tests.support.fake_qbittorrent import open_fake_qbittorrent
from tests.support.service import (
    API_TOKEN,
    DEADLINE_S,
    RunningService,
    started_service,
    wait_until,
)

JELLYFIN_KEY = "jellyfin-test-key"
VIOLET_PATH = (
    "/data/anime/movies/Violet Evergarden - Recollections (2021)/"
    "Violet.Evergarden.Recollections.2022.1080p.NF.WEB-DL.AAC2.0.x264-GST.mkv"
)


async def test_the_verifier_finds_a_movie_jellyfin_never_announced(sqlite_url: str) -> None:
    async with open_fake_jellyfin(JELLYFIN_KEY) as jellyfin:
        # Jellyfin ignores AnyProviderIdEquals: a same-titled decoy must not be taken.
        jellyfin.add_movie("Violet Evergarden: Recollections", 2021, tmdb="999", path="/x.mkv")
        item_id = jellyfin.add_movie(
            "Violet Evergarden: Recollections", 2021, tmdb="1052946", path=VIOLET_PATH
        )
        async with started_service(
            sqlite_url,
            jellyfin_url=jellyfin.url,
            jellyfin_api_key=JELLYFIN_KEY,
            verify_interval_s=0.1,
        ) as service:
            await service.post_fixture("jellyseerr/media_auto_approved_movie.json")
            await service.post_fixture("radarr/grab.json", movie__tags=[])
            await service.post_fixture("radarr/download.json", movie__tags=[])
            item = await service.wait_for_request(
                lambda r: r["state"] == "available", what="the verifier to confirm the movie"
            )
            assert item["jellyfin_id"] == item_id
            last = item["timeline"][-1]
            assert (last["source"], last["event"], last["to_state"]) == (
                "verifier",
                "verified_available",
                "available",
            )


async def test_an_unverifiable_item_stays_visible_with_its_reason(sqlite_url: str) -> None:
    async with (
        open_fake_jellyfin(JELLYFIN_KEY) as jellyfin,
        started_service(
            sqlite_url,
            jellyfin_url=jellyfin.url,
            jellyfin_api_key=JELLYFIN_KEY,
            verify_interval_s=0.1,
        ) as service,
    ):
        await service.post_fixture("radarr/grab.json", movie__tags=[])
        await service.post_fixture("radarr/download.json", movie__tags=[])
        item = await service.wait_for_request(
            lambda r: r["state"] == "importing",
            what="the import",
        )

        async def reason_recorded() -> bool:
            detail = await service.request(item["id"])
            return any(t["event"] == "availability_unconfirmed" for t in detail["timeline"])

        await wait_until(reason_recorded, what="the verifier to record why it waits")
        await trio.sleep(0.5)
        detail = await service.request(item["id"])
        waiting = [t for t in detail["timeline"] if t["event"] == "availability_unconfirmed"]
        assert len(waiting) == 1, "the same reason must not be repeated every round"
        assert detail["state"] == "importing"
        status, health = await service.system.health()
        assert status == 200
        assert health["waiting_for_library"] == 1


async def test_the_live_feed_sends_a_snapshot_then_changes(service: RunningService) -> None:
    await service.post_fixture("jellyseerr/media_auto_approved_movie.json")
    await service.settled()
    url = service.url.replace("http://", "ws://") + f"/ws?token={API_TOKEN}"
    async with open_websocket_url(url) as socket:
        snapshot = json.loads(await socket.get_message())
        assert snapshot["type"] == "snapshot"
        assert [r["title"] for r in snapshot["requests"]] == ["Violet Evergarden: Recollections"]
        request_id = snapshot["requests"][0]["id"]

        await service.post_fixture("radarr/grab.json")
        seen: list[dict] = []

        def grabbing_seen() -> bool:
            updated = any(
                m["type"] == "request" and m["request"]["state"] == "grabbing" for m in seen
            )
            return updated and any(m["type"] == "timeline" for m in seen)

        with trio.fail_after(1.0):
            while not grabbing_seen():
                seen.append(json.loads(await socket.get_message()))
        (entry,) = [m for m in seen if m["type"] == "timeline"]
        assert entry["request_id"] == request_id
        assert entry["entry"]["event"] == "grabbed"


async def test_a_stall_reaches_the_feed_with_its_reason_and_links_as_the_api_shows_them(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stalls_count_after(monkeypatch, 1.0)
    async with (
        open_fake_qbittorrent(*QBT) as qbittorrent,
        started_service(
            sqlite_url,
            **qbittorrent_settings(qbittorrent),
            sonarr_public_url="https://home.example/sonarr/",
        ) as service,
    ):
        detail = await pack_in_qbittorrent(service, qbittorrent, state="downloading", num_seeds=9)
        assert detail["reason"] is None
        url = service.url.replace("http://", "ws://") + f"/ws?token={API_TOKEN}"
        async with open_websocket_url(url) as socket:
            (listed,) = json.loads(await socket.get_message())["requests"]
            assert listed["links"] == {
                "Sonarr": "https://home.example/sonarr/series/horimiya",
                "qBittorrent": f"{qbittorrent.url}/",
            }
            assert listed == {key: detail[key] for key in listed}, "the snapshot is the API's"

            # The pack stalls without a byte more: no change of the request's own rows.
            qbittorrent.add_torrent(HORIMIYA, state="stalledDL", dlspeed=0, num_seeds=0)
            with trio.fail_after(DEADLINE_S):
                fed: dict = {}
                while not fed.get("reason"):
                    message = json.loads(await socket.get_message())
                    if message["type"] == "request":
                        fed = message["request"]
        shown = await service.request(detail["id"])
    stalled = re.compile(r"no seeds for \d+ s \(7 of 13 episodes\)")
    assert stalled.fullmatch(fed["reason"]), fed["reason"]
    assert stalled.fullmatch(shown["reason"]), shown["reason"]
    assert {key: value for key, value in fed.items() if key != "reason"} == {
        key: shown[key] for key in fed if key != "reason"
    }, "a feed item is what the API shows (the reason's seconds may have moved on)"


async def test_an_episode_reaches_the_feed_with_its_size_and_reason_as_the_api_shows_it(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stall counts at once here, with the progress that comes with it: an episode is fed
    # when its row changes, and a stall that counts later changes only the download's row.
    stalls_count_after(monkeypatch, 0.0)
    async with (
        open_fake_qbittorrent(*QBT) as qbittorrent,
        started_service(sqlite_url, **qbittorrent_settings(qbittorrent)) as service,
    ):
        detail = await pack_in_qbittorrent(service, qbittorrent, state="downloading", num_seeds=9)
        url = service.url.replace("http://", "ws://") + f"/ws?token={API_TOKEN}"
        async with open_websocket_url(url) as socket:
            await socket.get_message()  # the snapshot
            # E07 moves a little more, then the swarm is gone.
            files = horimiya_files(done=6)
            files[6]["progress"] = 0.45
            qbittorrent.files[HORIMIYA] = files
            qbittorrent.add_torrent(
                HORIMIYA, state="stalledDL", dlspeed=0, num_seeds=0, progress=0.47
            )
            with trio.fail_after(DEADLINE_S):
                fed: dict = {}
                while not (fed.get("episode") == 7 and fed.get("reason")):
                    message = json.loads(await socket.get_message())
                    if message["type"] == "episode":
                        assert message["request_id"] == detail["id"]
                        fed = message["episode"]
        shown = await service.request(detail["id"])
    (e07,) = [e for e in shown["episodes"] if e["episode"] == 7]
    assert re.fullmatch(r"no seeds for \d+ s", fed["reason"]), fed["reason"]
    assert fed["size"] == e07["size"] == files[6]["size"]
    assert {key: value for key, value in fed.items() if key != "reason"} == {
        key: e07[key] for key in fed if key != "reason"
    }, "a feed episode is what the API's detail shows (the reason's seconds may have moved on)"


async def test_a_snapshot_with_too_many_active_requests_says_how_to_list_the_rest(
    service: RunningService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed, "ACTIVE_IN_SNAPSHOT", 3)
    states = ["requested", "downloading", "available", "importing", "failed", "approved"]
    states += ["partially_available", "grabbing", "downloading"]
    await service.system.store.commit(
        [
            SaveRequest(
                row=RequestRow(
                    id=n, media_type="movie", title=f"Movie {n}", state=state, created_at=n
                )
            )
            for n, state in enumerate(states, start=1)
        ]
    )
    url = service.url.replace("http://", "ws://") + f"/ws?token={API_TOKEN}"
    async with open_websocket_url(url) as socket:
        snapshot = json.loads(await socket.get_message())
    assert [r["id"] for r in snapshot["requests"]] == [9, 8, 7, 5, 3], "newest active, finished"
    assert snapshot["active_total"] == 7
    rest: list[int] = []
    page = {"next_after": snapshot["more"]["after"]}
    while page["next_after"] is not None:
        page = await service.api(
            "/api/requests", state=snapshot["more"]["state"], limit=2, after=page["next_after"]
        )
        rest += [item["id"] for item in page["items"]]
    assert rest == [6, 4, 2, 1]


async def test_the_live_feed_needs_the_api_token(service: RunningService) -> None:
    url = service.url.replace("http://", "ws://") + "/ws?token=wrong"
    with pytest.raises(ConnectionRejected) as rejected:
        async with open_websocket_url(url):
            pass
    assert rejected.value.status_code == 401


async def test_a_slow_feed_client_gets_the_latest_state_not_a_backlog(
    service: RunningService,
) -> None:
    url = service.url.replace("http://", "ws://") + f"/ws?token={API_TOKEN}"
    async with open_websocket_url(url) as socket:
        json.loads(await socket.get_message())
        for _ in range(3):
            await service.post_fixture("radarr/grab.json")
            await service.post_fixture("radarr/download.json")
        await service.settled()
        messages = []
        with trio.move_on_after(1.0):
            while True:
                messages.append(json.loads(await socket.get_message()))
        updates = [m for m in messages if m["type"] == "request"]
        assert updates[-1]["request"]["state"] == "anime_matching"
        assert len(updates) <= 3, "request updates must be coalesced"


async def test_health_shows_the_tree_and_dependencies(sqlite_url: str) -> None:
    async with started_service(
        sqlite_url,
        qbittorrent_url="http://127.0.0.1:9",
        qbittorrent_username="admin",
        qbittorrent_password="x",
        poll_active_s=0.1,
        poll_idle_s=0.1,
    ) as service:
        await service.post_fixture("radarr/grab.json")
        await service.settled()

        async def degraded() -> bool:
            response = await service.http.get("/health")
            return response.json()["status"] == "degraded"

        await wait_until(degraded, what="qBittorrent to be seen down")
        response = await service.http.get("/health")
        assert response.status_code == 200
        body = response.json()
        assert body["database"]["reachable"] is True
        assert body["dependencies"]["qbittorrent"]["reachable"] is False
        assert body["dependencies"]["jellyfin"] == {"configured": False, "reachable": None}
        children = [child["id"] for child in body["supervisor"]["children"]]
        assert children == [
            "requests",
            "torrents",
            "service-sync",
            "http",
            "dispatcher",
            "qbittorrent-poller",
            "recovery-sweeper",
        ]
        assert body["dead_letters"]["count"] == 0
        assert "x" not in json.dumps(body["dependencies"]["qbittorrent"]).split('"')


@pytest.mark.postgresql
async def test_health_is_503_when_the_database_is_gone(asyncio_loop: None) -> None:
    async with throwaway_postgres_database() as url, started_service(url) as service:
        assert (await service.http.get("/health")).status_code == 200
        name = url.rsplit("/", 1)[1]
        admin = await trio_asyncio.aio_as_trio(asyncpg.connect)(POSTGRES_ADMIN_URL)
        try:
            await trio_asyncio.aio_as_trio(admin.execute)(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            )
            await trio_asyncio.aio_as_trio(admin.execute)(
                f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'
            )
            await trio_asyncio.aio_as_trio(admin.execute)(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            )
            response = await service.http.get("/health")
            assert response.status_code == 503
            body = response.json()
            assert body["status"] == "failing"
            assert body["database"]["reachable"] is False
        finally:
            await trio_asyncio.aio_as_trio(admin.execute)(
                f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'
            )
            await trio_asyncio.aio_as_trio(admin.close)()
