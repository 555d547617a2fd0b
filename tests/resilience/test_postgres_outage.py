"""PostgreSQL stopped during a burst: 503s with Retry-After, then recovery without a restart.

Every webhook the service acknowledged with 200 is applied exactly once; the ones answered
503 are retried the way Sonarr, Radarr and Jellyseerr retry, and are applied once too.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest
import trio

from tests.conftest import require_or_skip
from tests.support.fixtures import numbered_movie_request
from tests.support.pg_cluster import postgres_bin_dir, throwaway_cluster
from tests.support.service import started_service, wait_until

MOVIES = 60
STOP_AFTER = 20


def movie_request(number: int) -> dict:
    return numbered_movie_request(number, title="Outage Movie", first_tmdb_id=60_000)


@pytest.mark.postgresql
async def test_a_postgres_outage_is_weathered_and_nothing_is_lost(asyncio_loop: None) -> None:
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        require_or_skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        return
    with throwaway_cluster(bin_dir) as cluster:
        async with started_service(cluster.url) as service:
            acknowledged: set[int] = set()
            refusals: list[httpx.Response] = []
            marks: dict[str, float] = {}
            outage_seen = trio.Event()

            async def deliver(number: int) -> None:
                body = json.dumps(movie_request(number))
                with trio.fail_after(120):
                    while True:
                        try:
                            response = await service.post_webhook("jellyseerr", body)
                        except httpx.TransportError:
                            await trio.sleep(0.2)
                            continue
                        if response.status_code == 200:
                            acknowledged.add(number)
                            return
                        assert response.status_code == 503, response.text
                        assert response.headers.get("Retry-After"), "senders need Retry-After"
                        assert "error" in response.json()
                        refusals.append(response)
                        outage_seen.set()
                        await trio.sleep(0.2)

            async def burst() -> None:
                limiter = trio.CapacityLimiter(8)

                async def one(number: int) -> None:
                    async with limiter:
                        await deliver(number)

                async with trio.open_nursery() as nursery:
                    for number in range(MOVIES):
                        nursery.start_soon(one, number)
                        await trio.sleep(0.02)

            async def outage() -> None:
                await wait_until(
                    _at_least(acknowledged, STOP_AFTER), what="the first webhooks to be stored"
                )
                marks["stop"] = time.monotonic()
                await trio.to_thread.run_sync(cluster.stop, "fast")
                await wait_until(
                    lambda: _health_is(service.http, 503), what="/health to report the outage"
                )
                marks["health_503"] = time.monotonic()
                health = (await service.http.get("/health")).json()
                assert health["database"]["reachable"] is False
                assert health["database"]["error"]
                with trio.fail_after(30):
                    await outage_seen.wait()
                marks["webhook_503"] = time.monotonic()
                await trio.to_thread.run_sync(cluster.start)
                marks["start"] = time.monotonic()
                await wait_until(
                    lambda: _health_is(service.http, 200), what="recovery without a restart"
                )
                marks["healthy"] = time.monotonic()

            async with trio.open_nursery() as nursery:
                nursery.start_soon(burst)
                nursery.start_soon(outage)

            await wait_until(
                lambda: _applied(service.system.store),
                what="every webhook to be applied",
                deadline=60,
            )
            items = await service.requests(limit=500)
            titles = sorted(item["title"] for item in items)
            assert titles == sorted(f"Outage Movie {n}" for n in range(MOVIES)), "each exactly once"
            for item in items:
                detail = await service.request(item["id"])
                assert [t["event"] for t in detail["timeline"]].count("approved") == 1
            assert acknowledged == set(range(MOVIES))
            assert refusals, "some webhooks must have met the outage"
            root = service.system.root
            assert root is not None
            assert root.statistics().state == "running"
            print(  # the figures the closing note quotes (pytest -s shows them)
                json.dumps(
                    {
                        "stop_to_health_503_s": round(marks["health_503"] - marks["stop"], 3),
                        "stop_to_webhook_503_s": round(marks["webhook_503"] - marks["stop"], 3),
                        "start_to_healthy_s": round(marks["healthy"] - marks["start"], 3),
                        "webhooks_answered_503": len(refusals),
                    }
                )
            )


@pytest.mark.postgresql
async def test_a_start_waits_for_a_postgres_that_comes_up_late(
    asyncio_loop: None, caplog: pytest.LogCaptureFixture
) -> None:
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        require_or_skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        return
    with throwaway_cluster(bin_dir, started=False) as cluster:
        healthy = trio.Event()

        async def serve() -> None:
            async with started_service(cluster.url) as service:
                assert (await service.http.get("/health")).status_code == 200
                healthy.set()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(serve)

            async def waiting() -> bool:
                return any("waiting for PostgreSQL" in r.getMessage() for r in caplog.records)

            await wait_until(waiting, what="the start to wait for the database")
            assert not healthy.is_set()
            await trio.to_thread.run_sync(cluster.start)
            with trio.fail_after(30):
                await healthy.wait()


def _at_least(found: set[int], count: int):
    async def check() -> bool:
        return len(found) >= count

    return check


async def _health_is(http: httpx.AsyncClient, status: int) -> bool:
    return (await http.get("/health")).status_code == status


async def _applied(store: object) -> bool:
    counts = await store.mail_counts()  # type: ignore[attr-defined]
    return counts["pending"] == 0
