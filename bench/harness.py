"""What the benchmarks share: the service and the bare baseline app as processes, movie-flow
webhooks, a pool of senders, waiting for the inbox to drain, percentiles and the JSON output."""

from __future__ import annotations

import contextlib
import json
import math
import os
import statistics
import sys
import tempfile
import time
from argparse import ArgumentParser
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import httpx
import trio
import trio_asyncio
from status_tracker.storage import Store, parse_database_url

from bench.wire import Connection, Dropped, post_bytes
from tests.support.fixtures import Webhook
from tests.support.process import ServiceProcess, free_port, service_process
from tests.support.service import API_TOKEN, WEBHOOK_TOKEN, wait_until

ROOT = Path(__file__).resolve().parents[1]
WEBHOOK_HEADERS = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
API_HEADERS = {"Authorization": f"Bearer {API_TOKEN}"}
# What each webhook of a movie flow adds to the timeline, and the state it leads to.
FLOW_EVENTS = ("approved", "grabbed", "imported", "added_to_library")
FLOW_STATES = ("approved", "grabbing", "importing", "available")
DRAIN_POLL_S = 0.05
BACKENDS = ("sqlite", "postgresql")
RETRIES = 5


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value that ``share`` of them are at or below."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * share) - 1)]


def latency_ms(seconds: Sequence[float]) -> dict[str, float | None]:
    """p50 and p99 of ``seconds`` in milliseconds (None when there are none)."""
    if not seconds:
        return {"p50_ms": None, "p99_ms": None}
    return {
        "p50_ms": round(statistics.median(seconds) * 1000, 1),
        "p99_ms": round(percentile(seconds, 0.99) * 1000, 1),
    }


def ratio(ours: float | None, baseline: float | None) -> float | None:
    return round(ours / baseline, 2) if ours and baseline else None


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(result), flush=True)


def command_line(doc: str, *, quick: str, backends: Sequence[str] = BACKENDS) -> ArgumentParser:
    """The options every benchmark has: ``--backends`` (``backends`` by default) and
    ``--quick`` (a size small enough for its smoke test, described by ``quick``)."""
    parser = ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(backends))
    parser.add_argument("--quick", action="store_true", help=quick)
    return parser


def run_each_backend(
    measure: Callable[[str], Awaitable[dict[str, Any]]], backends: Sequence[str]
) -> None:
    """Print ``measure(backend)`` for each backend in turn, under the trio-asyncio loop that
    the throwaway PostgreSQL databases are made with (``tests.support.databases``)."""

    async def each() -> None:
        async with trio_asyncio.open_loop():
            for backend in backends:
                emit(await measure(backend))

    trio.run(each)


@attrs.define
class Sent:
    """What senders saw: one latency per webhook (its retries included), the webhooks never
    accepted, the retries, and when."""

    latencies: list[float] = attrs.Factory(list)
    refused: int = 0
    retried: int = 0
    started: float = 0.0
    first_accepted: float | None = None
    finished: float = 0.0

    @property
    def accepted(self) -> int:
        return len(self.latencies) - self.refused

    @property
    def accepted_per_s(self) -> float:
        return round(self.accepted / (self.finished - self.started), 1)


async def deliver(http: httpx.AsyncClient, path: str, body: object, sent: Sent) -> bool:
    """POST ``body`` through ``http`` as a webhook sender does (see ``_with_retries``)."""

    async def attempt() -> tuple[int, float] | None:
        try:
            response = await http.post(path, json=body, headers=WEBHOOK_HEADERS)
        except httpx.TransportError:
            return None
        return response.status_code, float(response.headers.get("Retry-After", 1))

    return await _with_retries(attempt, sent)


async def _deliver_bytes(connection: Connection, request: bytes, sent: Sent) -> bool:
    """Send the POST ``request`` over ``connection`` as a webhook sender does."""

    async def attempt() -> tuple[int, float] | None:
        try:
            answer = await connection.send(request)
        except Dropped:
            return None
        return answer.status, float(answer.headers.get("retry-after", 1))

    return await _with_retries(attempt, sent)


async def _with_retries(
    attempt: Callable[[], Awaitable[tuple[int, float] | None]], sent: Sent
) -> bool:
    """Make a POST (``attempt``: its status and Retry-After, None if the connection dropped
    before an answer) again when the connection drops (a server closes a keep-alive connection
    it thinks idle when its loop lags) or on a 503 after its Retry-After, at most ``RETRIES``
    times, each counted in ``sent.retried``; the service answers a repeated body as a duplicate.
    Whether it was answered 200 in the end."""
    for number in range(RETRIES + 1):
        if number:
            sent.retried += 1
        answered = await attempt()
        if answered is None:
            continue
        status, retry_after_s = answered
        if status != 503:
            return status == 200
        await trio.sleep(retry_after_s)
    return False


async def send_flows(
    url: str,
    flows: Sequence[Sequence[Webhook]],
    *,
    concurrency: int,
    path: str = "/webhooks/{source}",
) -> Sent:
    """POST every flow's webhooks in order to the server at ``url``, ``concurrency`` flows at
    once, each sender on a connection of its own, as each *arr has. The requests are made
    before the clock starts and sent by ``bench.wire`` (httpx, at a millisecond of CPU a POST,
    left the server measured short of CPU on two cores)."""
    sent = Sent()
    send, receive = trio.open_memory_channel[list[bytes]](len(flows))
    for flow in flows:
        send.send_nowait(
            [
                post_bytes(url, path.format(source=source), body, WEBHOOK_HEADERS)
                for source, body in flow
            ]
        )
    send.close()

    async def sender() -> None:
        connection = Connection(url)
        try:
            async for requests in receive:
                for request in requests:
                    started = time.perf_counter()
                    accepted = await _deliver_bytes(connection, request, sent)
                    answered = time.perf_counter()
                    sent.latencies.append(answered - started)
                    if not accepted:
                        sent.refused += 1
                    elif sent.first_accepted is None:
                        sent.first_accepted = answered
        finally:
            await connection.close()

    sent.started = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(concurrency):
            nursery.start_soon(sender)
    sent.finished = time.perf_counter()
    return sent


def client(url: str, *, concurrency: int = 64, timeout: float = 120) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits)


def cpu_s(pid: int) -> float | None:
    """CPU seconds (user and system, every thread) the process ``pid`` has used; None where
    ``/proc`` does not tell."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@attrs.frozen
class BareApp:
    url: str
    pid: int


@contextlib.asynccontextmanager
async def bare_app() -> AsyncIterator[BareApp]:
    """``bench/bare_fanout.py`` in its own process, once it answers."""
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
        yield BareApp(url, process.pid)
    finally:
        process.kill()
        await process.wait()


def service_variables(database_url: str, **variables: str) -> dict[str, str]:
    return {
        "ST_DATABASE_URL": database_url,
        "ST_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "ST_API_TOKEN": API_TOKEN,
        "ST_LOG_LEVEL": "WARNING",
        **variables,
    }


@contextlib.asynccontextmanager
async def service(
    database_url: str, *, start_deadline: float = 60.0, poll_s: float = 0.05, **variables: str
) -> AsyncIterator[ServiceProcess]:
    """The real service (``python -m status_tracker.main``) on ``database_url`` in its own
    process, once ``/health`` answers; its log goes to a temporary folder."""
    with tempfile.TemporaryDirectory() as folder:
        async with service_process(
            Path(folder),
            start_deadline=start_deadline,
            poll_s=poll_s,
            **service_variables(database_url, **variables),
        ) as started:
            yield started


@contextlib.asynccontextmanager
async def inbox(database_url: str) -> AsyncIterator[Store]:
    """A store on the service's database that only reads (no writer, no migration).

    The benchmarks watch the inbox through it: the same count as ``/health``'s ``inbox``, at
    no cost to the service's event loop (``/health`` takes 50-300 ms a call with a few hundred
    active requests on a loaded machine, time the service would lose to being watched).
    """
    # The drivers are private to the package: a benchmark may look behind the port.
    from status_tracker.storage._postgres import PostgresDriver
    from status_tracker.storage._sqlite import SqliteDriver

    dialect, target = parse_database_url(database_url)
    driver = SqliteDriver(target) if dialect == "sqlite" else await PostgresDriver.connect(target)
    store = Store(driver)
    try:
        yield store
    finally:
        await store.aclose()


async def pending(store: Store) -> int:
    """Mail rows (webhooks and hand-offs) not yet applied."""
    return (await store.mail_counts())["pending"]


async def dead_letters(store: Store) -> int:
    """Mail rows no actor could apply."""
    _, count = await store.dead_letters(limit=1)
    return count


async def drained(store: Store, *, deadline: float = 1800.0) -> float:
    """Wait until no mail row is left unapplied; the moment (``time.perf_counter()``) it was
    first seen so."""
    with trio.fail_after(deadline):
        while True:
            if not await pending(store):
                return time.perf_counter()
            await trio.sleep(DRAIN_POLL_S)


async def titled_requests(http: httpx.AsyncClient, title: str) -> list[dict[str, Any]]:
    """Every request whose title contains ``title``, as the list shows them."""
    items: list[dict[str, Any]] = []
    while True:
        page = (
            await http.get(
                "/api/requests",
                params={"q": title, "limit": 500, "offset": len(items)},
                headers=API_HEADERS,
            )
        ).json()
        items.extend(page["items"])
        if len(items) >= page["total"] or not page["items"]:
            return items


async def lost_flow_events(
    http: httpx.AsyncClient, title: str, movies: int, *, steps: int = len(FLOW_EVENTS)
) -> int:
    """How many of the first ``steps`` movie-flow events of the movies ``f"{title} {n}"``,
    ``n < movies``, are on no timeline: each one an accepted webhook that was lost."""
    events: dict[str, set[str]] = {f"{title} {n}": set() for n in range(movies)}
    items = [item for item in await titled_requests(http, title) if item["title"] in events]
    for item, timeline in zip(items, await timelines(http, items), strict=True):
        events[item["title"]].update(entry["event"] for entry in timeline)
    return sum(len(set(FLOW_EVENTS[:steps]) - seen) for seen in events.values())


async def timelines(
    http: httpx.AsyncClient, items: Sequence[dict[str, Any]]
) -> list[list[dict[str, Any]]]:
    """The timeline of each request in ``items`` (as the list shows them), read from its
    detail, eight at a time."""
    read: list[list[dict[str, Any]]] = [[] for _ in items]
    limiter = trio.CapacityLimiter(8)

    async def read_one(index: int, item: dict[str, Any]) -> None:
        async with limiter:
            response = await http.get(f"/api/requests/{item['id']}", headers=API_HEADERS)
        read[index] = response.json()["timeline"]

    async with trio.open_nursery() as nursery:
        for index, item in enumerate(items):
            nursery.start_soon(read_one, index, item)
    return read
