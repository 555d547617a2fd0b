"""The process killed (SIGKILL) right after a burst of accepted webhooks loses nothing."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import trio

from tests.support.fixtures import load_fixture, numbered_movie_request
from tests.support.process import free_port, service_process
from tests.support.service import API_TOKEN, WEBHOOK_TOKEN, wait_until

BURST = 80


def secrets(database: Path) -> dict[str, str]:
    return {
        "ST_DATABASE_URL": f"sqlite:///{database}",
        "ST_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "ST_API_TOKEN": API_TOKEN,
        "ST_LOG_LEVEL": "WARNING",
    }


def movie_request(number: int) -> dict:
    return numbered_movie_request(number, title="Crash Test Movie", first_tmdb_id=50_000)


def movie_grab(number: int) -> dict:
    body = load_fixture("radarr/grab.json")
    body["movie"]["id"] = 7_000 + number
    body["movie"]["tmdbId"] = 50_000 + number
    body["movie"]["title"] = f"Crash Test Movie {number}"
    body["downloadId"] = f"{number:040X}"
    return body


async def test_every_accepted_webhook_is_applied_exactly_once_after_a_kill(tmp_path: Path) -> None:
    database = tmp_path / "crash.db"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    deliveries = [("jellyseerr", movie_request(n)) for n in range(BURST)]
    deliveries += [("radarr", movie_grab(n)) for n in range(0, BURST, 2)]
    accepted: list[int] = []

    async with service_process(tmp_path, port=port, **secrets(database)) as started:
        process = started.process
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            limiter = trio.CapacityLimiter(16)

            async def deliver(position: int, source: str, body: dict) -> None:
                async with limiter:
                    response = await http.post(
                        f"/webhooks/{source}",
                        json=body,
                        headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
                    )
                if response.status_code == 200:
                    accepted.append(position)

            async with trio.open_nursery() as nursery:
                # Requests first, then grabs: each grab must find the request made before it.
                for position, (source, body) in enumerate(deliveries[:BURST]):
                    nursery.start_soon(deliver, position, source, body)
            async with trio.open_nursery() as nursery:
                for position, (source, body) in enumerate(deliveries[BURST:], start=BURST):
                    nursery.start_soon(deliver, position, source, body)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        assert process.returncode == -signal.SIGKILL

    assert sorted(accepted) == list(range(len(deliveries)))
    async with (
        service_process(tmp_path, port=port, **secrets(database)),
        httpx.AsyncClient(base_url=url) as http,
    ):
        headers = {"Authorization": f"Bearer {API_TOKEN}"}

        async def drained() -> bool:
            health = (await http.get("/health")).json()
            return health["inbox"]["pending"] == 0

        await wait_until(drained, what="the replay of the inbox", deadline=60)
        listing = (await http.get("/api/requests", params={"limit": 500}, headers=headers)).json()
        assert listing["total"] == BURST
        for item in listing["items"]:
            detail = (await http.get(f"/api/requests/{item['id']}", headers=headers)).json()
            events = [t["event"] for t in detail["timeline"]]
            number = int(detail["title"].rsplit(" ", 1)[1])
            assert events.count("approved") == 1, detail["title"]
            expected_grabs = 1 if number % 2 == 0 else 0
            assert events.count("grabbed") == expected_grabs, detail["title"]
            assert detail["state"] == ("grabbing" if expected_grabs else "approved")
