"""End to end: a dependency answering garbage degrades /health, never the service, and heals."""

from __future__ import annotations

import json
import logging
import typing

import pytest

from tests.support.fake_jellyfin import open_fake_jellyfin
from tests.support.fake_qbittorrent import open_fake_qbittorrent
from tests.support.service import RunningService, started_service, wait_until

HASH = "b4a1e3d27c9f0a5e6d8c1b2a3f4e5d6c7b8a9f01"
JELLYFIN_KEY = "jellyfin-key"
FAST = {"poll_active_s": 0.05, "poll_idle_s": 0.05, "verify_interval_s": 0.05}


async def health(service: RunningService) -> dict[str, typing.Any]:
    response = await service.http.get("/health")
    assert response.status_code == 200, response.text
    return response.json()


async def test_garbage_from_qbittorrent_and_jellyfin_degrades_health_until_they_heal(
    sqlite_url: str,
) -> None:
    async with (
        open_fake_qbittorrent("admin", "pw") as qbittorrent,
        open_fake_jellyfin(JELLYFIN_KEY) as jellyfin,
    ):
        qbittorrent.add_torrent(HASH, progress="n/a")
        jellyfin.answer_garbage(b"<html>Bad Gateway</html>")
        async with started_service(
            sqlite_url,
            qbittorrent_url=qbittorrent.url,
            qbittorrent_username="admin",
            qbittorrent_password="pw",
            jellyfin_url=jellyfin.url,
            jellyfin_api_key=JELLYFIN_KEY,
            **FAST,
        ) as service:

            async def both_failed_many_times() -> bool:
                dependencies = (await health(service))["dependencies"]
                return all(dependencies[d]["errors"] >= 10 for d in ("qbittorrent", "jellyfin"))

            await wait_until(both_failed_many_times, what="repeated failed polls")
            body = await health(service)
            assert body["status"] == "degraded"
            qbt, jf = body["dependencies"]["qbittorrent"], body["dependencies"]["jellyfin"]
            assert (qbt["reachable"], qbt["status"]) == (False, "degraded")
            assert qbt["reason"] == "qBittorrent answered a torrent whose progress is not a number"
            assert (jf["reachable"], jf["status"]) == (False, "degraded")
            assert jf["reason"] == "Jellyfin answered something other than JSON"
            assert service.system.root is not None
            assert service.system.root.statistics().state == "running"

            qbittorrent.add_torrent(HASH, progress=0.5)
            jellyfin.answer_garbage(None)

            async def healed() -> bool:
                return (await health(service))["status"] == "ok"

            await wait_until(healed, what="the dependencies to answer well again")
            body = await health(service)
            for name in ("qbittorrent", "jellyfin"):
                dependency = body["dependencies"][name]
                assert (dependency["reachable"], dependency["reason"]) == (True, None)
                assert dependency["last_ok_at"] is not None


async def test_a_jellyfin_nobody_listens_on_is_shown_unreachable(sqlite_url: str) -> None:
    async with started_service(
        sqlite_url, jellyfin_url="http://127.0.0.1:1", jellyfin_api_key=JELLYFIN_KEY, **FAST
    ) as service:

        async def jellyfin_asked() -> bool:
            return (await health(service))["dependencies"]["jellyfin"]["reachable"] is not None

        await wait_until(jellyfin_asked, what="Jellyfin to be asked")
        body = await health(service)
        jellyfin = body["dependencies"]["jellyfin"]
        assert (jellyfin["reachable"], jellyfin["status"]) == (False, "degraded")
        assert jellyfin["reason"].startswith("unreachable: ")
        assert body["status"] == "degraded"


async def test_a_password_in_the_qbittorrent_url_is_never_shown_or_logged(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with started_service(
        sqlite_url,
        qbittorrent_url="http://user:secret@127.0.0.1:1/",
        qbittorrent_username="admin",
        qbittorrent_password="pw",
        **FAST,
    ) as service:

        async def poll_failed() -> bool:
            return (await health(service))["dependencies"]["qbittorrent"]["errors"] >= 2

        await wait_until(poll_failed, what="failed polls")
        body = await health(service)
    assert body["dependencies"]["qbittorrent"]["url"] == "http://***@127.0.0.1:1/"
    assert "secret" not in json.dumps(body)
    assert caplog.records
    assert "secret" not in caplog.text
