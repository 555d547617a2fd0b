"""Ingest benchmark: a stream of movie-flow webhooks against the running service.

Starts the real service (``python -m status_tracker.main``) on SQLite and on PostgreSQL, sends
each movie's four webhooks (Jellyseerr approval, Radarr grab, Radarr import, Jellyfin
ItemAdded) in order, with ``concurrency`` movies in flight at once, and prints one JSON object
per run: accepted webhooks per second, p50/p99 latency of the POSTs, how long the service
took to apply everything, and how many requests reached ``available``.

Usage: python bench/ingest.py [--movies 200] [--concurrency 1 16 64] [--backends sqlite postgresql]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import trio
import trio_asyncio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support is not installed with the package

from tests.support.databases import throwaway_database  # noqa: E402
from tests.support.process import free_port, service_env  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
WEBHOOK_TOKEN = "bench-webhook-token"
API_TOKEN = "bench-api-token"


def fixture(path: str) -> dict[str, Any]:
    return json.loads((FIXTURES / path).read_text())


def movie_flow(number: int) -> list[tuple[str, dict[str, Any]]]:
    """The four webhooks of one regular movie, from request to library."""
    tmdb = 900_000 + number
    title = f"Benchmark Movie {number}"
    request = fixture("jellyseerr/media_auto_approved_movie.json")
    request["subject"] = f"{title} (2024)"
    request["media"]["tmdbId"] = str(tmdb)
    request["request"]["request_id"] = str(100_000 + number)
    grab = fixture("radarr/grab.json")
    grab["movie"].update(id=200_000 + number, tmdbId=tmdb, title=title, tags=[])
    grab["remoteMovie"].update(tmdbId=tmdb, title=title)
    grab["downloadId"] = f"{number:040X}"
    imported = fixture("radarr/download.json")
    imported["movie"].update(id=200_000 + number, tmdbId=tmdb, title=title, tags=[])
    imported["downloadId"] = grab["downloadId"]
    added = fixture("jellyfin/item_added_movie.json")
    added.update(Name=title, ItemId=uuid.uuid4().hex, Provider_tmdb=str(tmdb))
    added.pop("Provider_imdb", None)
    return [("jellyseerr", request), ("radarr", grab), ("radarr", imported), ("jellyfin", added)]



@contextlib.asynccontextmanager
async def service(database_url: str) -> AsyncIterator[str]:
    port = free_port()
    env = service_env(database_url, port)
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "status_tracker.main"], env=env, cwd=ROOT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as http:
            with trio.fail_after(30):
                while True:
                    with contextlib.suppress(httpx.TransportError):
                        if (await http.get("/health")).status_code == 200:
                            break
                    await trio.sleep(0.1)
        yield url
    finally:
        process.terminate()
        with trio.move_on_after(10):
            await process.wait()
        if process.returncode is None:
            process.kill()
            await process.wait()


async def run(backend: str, concurrency: int, movies: int) -> dict[str, Any]:
    flows = [movie_flow(n) for n in range(movies)]
    latencies: list[float] = []
    refused = 0
    async with throwaway_database(backend) as database_url, service(database_url) as url:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
            headers = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
            queue_send, queue_receive = trio.open_memory_channel[list](len(flows))
            for flow in flows:
                queue_send.send_nowait(flow)
            queue_send.close()

            async def worker() -> None:
                nonlocal refused
                async for flow in queue_receive:
                    for source, body in flow:
                        started = time.perf_counter()
                        response = await http.post(
                            f"/webhooks/{source}", json=body, headers=headers
                        )
                        latencies.append(time.perf_counter() - started)
                        refused += response.status_code != 200

            started = time.perf_counter()
            async with trio.open_nursery() as nursery:
                for _ in range(concurrency):
                    nursery.start_soon(worker)
            ingest_s = time.perf_counter() - started

            with trio.fail_after(600):
                while True:
                    if not (await http.get("/health")).json()["inbox"]["pending"]:
                        break
                    await trio.sleep(0.1)
            applied_s = time.perf_counter() - started
            listing = (
                await http.get(
                    "/api/requests",
                    params={"state": "available", "limit": 1},
                    headers={"Authorization": f"Bearer {API_TOKEN}"},
                )
            ).json()
    ordered = sorted(latencies)
    return {
        "benchmark": "ingest",
        "backend": backend,
        "concurrency": concurrency,
        "movies": movies,
        "webhooks": len(latencies),
        "refused": refused,
        "accepted_per_s": round(len(latencies) / ingest_s, 1),
        "latency_ms_p50": round(statistics.median(ordered) * 1000, 2),
        "latency_ms_p99": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2),
        "all_applied_after_s": round(applied_s, 2),
        "applied_per_s": round(len(latencies) / applied_s, 1),
        "reached_available": listing["total"],
    }


async def main(arguments: argparse.Namespace) -> None:
    async with trio_asyncio.open_loop():
        for backend in arguments.backends:
            for concurrency in arguments.concurrency:
                print(json.dumps(await run(backend, concurrency, arguments.movies)), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movies", type=int, default=200)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    trio.run(main, parser.parse_args())
