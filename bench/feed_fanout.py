"""Fan-out benchmark: webhook → live-feed message at every websocket client, against a baseline.

Starts the real service (``python -m status_tracker.main``, SQLite) and the bare Quart-Trio
app of ``bench/bare_fanout.py`` side by side, connects ``--clients`` websocket clients to each,
and sends ``--events`` events at ``--rate`` per second: to the service a Jellyseerr request
for a new movie (stored durably, applied by its actor, published), to the baseline the same
body broadcast as it is. For every (client, event) pair it measures the time from sending the
POST to the client receiving the first message about that event, and prints one JSON object:
p50/p99 of both, the fraction of pairs delivered, and the ratio service/baseline (a ratio
survives a noisy machine).

Usage: python bench/feed_fanout.py [--clients 100] [--events 60] [--rate 10]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import trio
from trio_websocket import open_websocket_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support is not installed with the package

from tests.support.fixtures import numbered_movie_request  # noqa: E402
from tests.support.process import free_port, service_process  # noqa: E402
from tests.support.service import API_TOKEN, WEBHOOK_TOKEN, wait_until  # noqa: E402

Received = dict[int, float]


@contextlib.asynccontextmanager
async def bare_app() -> AsyncIterator[str]:
    port = free_port()
    process = await trio.lowlevel.open_process(
        [sys.executable, str(ROOT / "bench" / "bare_fanout.py"), "--bind", f"127.0.0.1:{port}"]
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as http:

            async def listening() -> bool:
                try:
                    await http.post("/hook", content="{}")
                    return True
                except httpx.TransportError:
                    return False

            await wait_until(listening, what="the bare app to listen")
        yield url
    finally:
        process.kill()
        await process.wait()


async def client(
    url: str,
    parse: Callable[[dict[str, Any]], int | None],
    received: Received,
    events: int,
    ready: trio.Event,
    complete: trio.Event,
) -> None:
    async with open_websocket_url(url, message_queue_size=4096) as socket:
        ready.set()
        while True:
            message = json.loads(await socket.get_message())
            event = parse(message)
            if event is not None and event not in received:
                received[event] = time.perf_counter()
                if len(received) == events:
                    complete.set()


def service_event(message: dict[str, Any]) -> int | None:
    request = message.get("request")
    title = request.get("title", "") if isinstance(request, dict) else ""
    return int(title.rsplit(" ", 1)[1]) if title.startswith("Fanout Movie ") else None


def bare_event(message: dict[str, Any]) -> int | None:
    return message.get("event")


async def measure(
    ws_url: str,
    parse: Callable[[dict[str, Any]], int | None],
    post: Callable[[int], Awaitable[None]],
    arguments: argparse.Namespace,
) -> dict[str, Any]:
    inboxes: list[Received] = [{} for _ in range(arguments.clients)]
    completes = [trio.Event() for _ in inboxes]
    sent: dict[int, float] = {}
    async with trio.open_nursery() as nursery:
        for inbox, complete in zip(inboxes, completes, strict=True):
            ready = trio.Event()
            nursery.start_soon(client, ws_url, parse, inbox, arguments.events, ready, complete)
            await ready.wait()
        await trio.sleep(0.5)  # every snapshot delivered before the first event
        for event in range(arguments.events):
            sent[event] = time.perf_counter()
            nursery.start_soon(post, event)
            await trio.sleep(1 / arguments.rate)
        with trio.move_on_after(30):  # what has not arrived by then counts as not delivered
            for complete in completes:
                await complete.wait()
        nursery.cancel_scope.cancel()
    latencies = sorted(
        (inbox[event] - sent[event]) * 1000 for inbox in inboxes for event in inbox
    )
    pairs = arguments.clients * arguments.events
    return {
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)], 1)
        if latencies
        else None,
        "delivered": round(len(latencies) / pairs, 4),
    }


async def main(arguments: argparse.Namespace) -> None:
    results: dict[str, Any] = {
        "benchmark": "feed_fanout",
        "clients": arguments.clients,
        "events": arguments.events,
        "rate_per_s": arguments.rate,
    }
    async with bare_app() as url, httpx.AsyncClient(base_url=url, timeout=30) as http:

        async def post_bare(event: int) -> None:
            await http.post("/hook", content=json.dumps({"event": event}))

        ws = url.replace("http://", "ws://") + "/ws"
        results["baseline"] = await measure(ws, bare_event, post_bare, arguments)
    with tempfile.TemporaryDirectory() as folder:
        variables = {
            "ST_DATABASE_URL": f"sqlite:///{folder}/fanout.db",
            "ST_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
            "ST_API_TOKEN": API_TOKEN,
            "ST_LOG_LEVEL": "WARNING",
            "ST_MAX_CONCURRENT_REQUESTS": str(arguments.clients * 4),
        }
        async with (
            service_process(Path(folder), **variables) as service,
            httpx.AsyncClient(base_url=service.url, timeout=30) as http,
        ):
            headers = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}

            async def post_service(event: int) -> None:
                body = numbered_movie_request(event, title="Fanout Movie", first_tmdb_id=700_000)
                await http.post("/webhooks/jellyseerr", json=body, headers=headers)

            ws = service.url.replace("http://", "ws://") + f"/ws?token={API_TOKEN}"
            results["service"] = await measure(ws, service_event, post_service, arguments)
    baseline, ours = results["baseline"], results["service"]
    if baseline["p99_ms"] and ours["p99_ms"]:
        results["p99_ratio"] = round(ours["p99_ms"] / baseline["p99_ms"], 2)
        results["p50_ratio"] = round(ours["p50_ms"] / baseline["p50_ms"], 2)
    print(json.dumps(results), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--events", type=int, default=60)
    parser.add_argument("--rate", type=float, default=10.0)
    trio.run(main, parser.parse_args())
