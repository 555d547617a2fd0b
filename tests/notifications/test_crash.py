"""SIGKILL between the commit of a change and the delivery of its notification: sent once.

The real console script runs in its own process. First run: a long batching window keeps both
notifications in the outbox when the process is killed. Second run (short window): each is
delivered exactly once; the process is killed again after it marked them sent. Third run:
nothing is sent again.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import trio

from tests.notifications.flows import MOVIE_TITLE
from tests.support.process import free_port, service_env
from tests.support.receiver import Receiver, receiving
from tests.support.service import API_TOKEN, WEBHOOK_TOKEN, wait_until
from tests.support.webhook_bodies import replaced

HEADERS = {"Authorization": f"Bearer {WEBHOOK_TOKEN}", "Content-Type": "text/plain"}


@contextlib.asynccontextmanager
async def service_process(
    database: Path, port: int, receiver: Receiver, batch_s: str
) -> AsyncIterator[httpx.AsyncClient]:
    env = {
        **service_env(f"sqlite:///{database}", port),
        "ST_NOTIFY_URLS": receiver.url(),
        "ST_NOTIFY_BATCH_S": batch_s,
    }
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "status_tracker.main"], env=env
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:

            async def healthy() -> bool:
                try:
                    return (await http.get("/health")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_until(healthy, what="the service to start")
            yield http
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
        await process.wait()


async def post(http: httpx.AsyncClient, source: str, fixture: str, **changes: object) -> None:
    body = replaced(fixture, **changes)
    response = await http.post(f"/webhooks/{source}", json=body, headers=HEADERS)
    assert response.status_code == 200, response.text


async def notifications(http: httpx.AsyncClient) -> dict:
    return (await http.get("/health")).json()["notifications"]


async def test_a_kill_between_commit_and_delivery_neither_loses_nor_repeats(
    tmp_path: Path,
) -> None:
    database = tmp_path / "notify.db"
    port = free_port()
    with receiving() as receiver:
        async with service_process(database, port, receiver, batch_s="600") as http:
            await post(http, "jellyseerr", "jellyseerr/media_auto_approved_movie.json")
            await post(http, "radarr", "radarr/grab.json", movie__tags=[])
            await post(http, "radarr", "radarr/download.json", movie__tags=[])
            await post(http, "jellyfin", "jellyfin/item_added_movie.json")
            # A second request that fails: a notice of its own.
            await post(
                http,
                "jellyseerr",
                "jellyseerr/media_auto_approved_movie.json",
                subject="Chainsaw Man - The Movie: Reze Arc (2025)",
                media__tmdbId="1218925",
                request__request_id="74",
            )
            await post(http, "jellyseerr", "jellyseerr/media_failed_movie.json")

            async def queued() -> bool:
                section = await notifications(http)
                return (
                    section["pending"] >= 1
                    and (await http.get("/health")).json()["inbox"]["pending"] == 0
                )

            await wait_until(queued, what="the notices to be committed")
            pending = (await notifications(http))["pending"]
        # Killed (SIGKILL) with every notice committed and none delivered.
        assert receiver.messages == []

        async with service_process(database, port, receiver, batch_s="0.2") as http:

            async def all_sent() -> bool:
                section = await notifications(http)
                return section["pending"] == 0 and section["sent"] == pending

            await wait_until(all_sent, what="the outbox to be delivered after the restart")
        delivered = receiver.titles()
        assert len(delivered) == len(set(delivered))
        assert MOVIE_TITLE in delivered
        assert len(delivered) == pending == 2, delivered
        assert any(title.endswith(" failed") for title in delivered), delivered

        async with service_process(database, port, receiver, batch_s="0.2") as http:
            await trio.sleep(1.5)
            section = await notifications(http)
            listing = await http.get(
                "/api/requests", headers={"Authorization": f"Bearer {API_TOKEN}"}
            )
            assert listing.status_code == 200
        assert (section["pending"], section["sent"]) == (0, pending)
        assert receiver.titles() == delivered
