"""Fan-out benchmark: webhook → live-feed message at every websocket client, against a baseline.

Starts the real service (``python -m status_tracker.main``) and the bare Quart-Trio app of
``bench/bare_fanout.py`` side by side, and measures each in turn, ``--rounds`` times (the
order alternating), with ``--clients`` websocket clients connected afresh each time.

Latency (the default): ``--events`` events at ``--rate`` per second. To the service an event is
one webhook of a movie flow (``--steps`` of them per movie, in order: Jellyseerr approval,
Radarr grab, Radarr import, Jellyfin ItemAdded; 1 = a new movie per event), stored durably,
applied by its actor and published; to the baseline, a body broadcast as it is. For every
(client, event) pair it measures the time from the POST to the client learning of the event:
a message showing the movie in the state that event leads to, or a later one (a change the
feed coalesced away is learnt from its successor). Per round, p50/p99 of both,
``delivered`` (the share of pairs learnt within ``--grace`` seconds of the last event, 30 by
default), ``undelivered_pairs``, ``latest_state_delivered`` (the share of (client, movie)
pairs whose last message showed the state the API shows once every webhook is applied:
every change delivered as the latest state of each entity), ``timeline_delivered`` (the
share of the round's timeline entries, as the API holds them, that the client hearing fewest
heard: the service's clients listen until they have at least one per event, as history yields
to state under a flood), ``history_after_last_event`` (p50/p99 over clients of the time from
the last event's POST to the last timeline message a client heard), ``client_cpu_share`` (this
process's CPU time over the wall time of the measurement: near 1, the clients could not keep
up and the figures are theirs), and the ratios service/baseline. One JSON object: those
rounds, the median ratios (which survive a noisy machine), the undelivered pairs of all
rounds, the lowest ``latest_state_delivered`` and ``timeline_delivered``, and the ``refused``
and ``retried`` webhooks (see ``harness.deliver``).

Ingest (``--ingest-movies N``): N movie flows (four webhooks each, ``--concurrency`` movies in
flight) with no client connected, and N more with the clients connected and reading
everything, ``--rounds`` times (the order alternating, new movies each time, the backlog
applied after each); ``ingest_ratio`` is the median over rounds of the rate with the clients
over the rate without, ``ingest_ratios`` each round's.

Usage: python bench/feed_fanout.py [--clients 100] [--events 60] [--rate 10] [--steps 1]
                                   [--rounds 1] [--grace 30] [--ingest-movies N] [--concurrency 64]
                                   [--backends sqlite] [--quick]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import math
import os
import re
import statistics
import sys
import time
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import httpx
import trio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # bench and tests.support are not installed with the package

from bench.harness import (  # noqa: E402
    FLOW_STATES,
    Sent,
    Webhook,
    bare_app,
    client,
    command_line,
    deliver,
    drained,
    inbox,
    latency_ms,
    lost_flow_events,
    ratio,
    run_each_backend,
    send_flows,
    service,
    timelines,
    titled_requests,
)
from tests.support.databases import throwaway_database  # noqa: E402
from tests.support.fixtures import movie_flow  # noqa: E402
from tests.support.service import API_TOKEN, wait_until  # noqa: E402

TITLE = "Fanout Movie"
FIRST_TMDB_ID = 700_000


@attrs.define
class Heard:
    """What one client heard: when it first learnt of each event, each movie's latest state,
    and the received bytes not yet read (the start of a message the next chunk completes)."""

    received: dict[int, float] = attrs.Factory(dict)
    latest: dict[int, str] = attrs.Factory(dict)
    unread: bytes = b""
    timelines: int = 0
    last_timeline_at: float | None = None
    greeted: bool = False
    """Whether what the server sends on connecting (the service's snapshot) has arrived."""


Hear = Callable[[bytes, Heard], None]
Done = Callable[[Heard], bool]
Post = Callable[[int], Awaitable[None]]

# The clients read the frames' bytes as they arrive, without decoding the websocket protocol:
# a server's frames are not masked, so each message's JSON stands in the stream as it was sent
# (one frame a message, no compression offered). That keeps 1,000 clients in one process cheap
# enough that the servers, not the clients, are what is measured. ``KEPT`` bytes are kept
# unread at the end of a chunk, more than any one match spans.
BARE_EVENT = re.compile(rb'"event": ?(\d+)')
SERVICE_MESSAGE = re.compile(
    rb'(?P<timeline>"type":"timeline")|(?P<snapshot>"type":"snapshot")|"title":"'
    + re.escape(TITLE.encode())
    + rb' (?P<movie>\d+)".*?"state":"(?P<state>[a-z_]+)"',
    re.DOTALL,
)
KEPT = 4096


def scan(pattern: re.Pattern[bytes], data: bytes, heard: Heard) -> Iterator[re.Match[bytes]]:
    """The matches of ``pattern`` in what ``heard`` kept and ``data``; keeps the tail after them."""
    buffer = heard.unread + data
    consumed = 0
    for match in pattern.finditer(buffer):
        consumed = match.end()
        yield match
    heard.unread = buffer[max(consumed, len(buffer) - KEPT) :]


def hear_bare(data: bytes, heard: Heard) -> None:
    heard.greeted = True  # the bare app sends nothing on connecting
    now = time.perf_counter()
    for match in scan(BARE_EVENT, data, heard):
        heard.received.setdefault(int(match[1]), now)


def hear_service(steps: int, first: int, movies: int) -> Hear:
    """Reads request items (the feed's request messages and snapshots) of the movies ``first``
    to ``first + movies - 1``: a movie in state k means events 0..k of its flow are known; and
    counts timeline messages."""

    def hear(data: bytes, heard: Heard) -> None:
        now = time.perf_counter()
        for match in scan(SERVICE_MESSAGE, data, heard):
            if match["snapshot"]:
                heard.greeted = True
                continue
            if match["timeline"]:
                heard.timelines += 1
                heard.last_timeline_at = now
                continue
            movie, state = int(match["movie"]) - first, match["state"].decode()
            if not 0 <= movie < movies:
                continue
            heard.latest[movie] = state
            if state in FLOW_STATES:
                for step in range(min(FLOW_STATES.index(state) + 1, steps)):
                    heard.received.setdefault(movie * steps + step, now)

    return hear


def ignore(data: bytes, heard: Heard) -> None:
    """A client that only reads (the ingest measurement)."""


async def open_feed(url: str) -> tuple[trio.SocketStream, bytes]:
    """A websocket opened on ``url`` (``ws://host:port/path``); the stream and any bytes
    after the handshake's answer."""
    location = urllib.parse.urlsplit(url)
    stream = await trio.open_tcp_stream(location.hostname, location.port)
    target = f"{location.path}?{location.query}" if location.query else location.path
    key = base64.b64encode(os.urandom(16)).decode()
    await stream.send_all(
        f"GET {target} HTTP/1.1\r\nHost: {location.netloc}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = await stream.receive_some()
        if not chunk:
            raise ConnectionError(f"{url} closed during the websocket handshake")
        answer += chunk
    head, _, rest = answer.partition(b"\r\n\r\n")
    if b" 101 " not in head.split(b"\r\n", 1)[0]:
        raise ConnectionError(f"{url} refused the websocket: {head[:200]!r}")
    return stream, rest


# An empty, masked pong: a heartbeat a client may send unasked, so the server, which closes a
# connection silent for a minute, keeps this one.
HEARTBEAT = b"\x8a\x80" + os.urandom(4)
HEARTBEAT_S = 15.0


async def listen(
    url: str,
    hear: Hear,
    heard: Heard,
    done: Done,
    *,
    task_status: trio.TaskStatus[trio.Event],
) -> None:
    """One websocket client; started once connected, with an event set when it heard all."""
    complete = trio.Event()
    stream, rest = await open_feed(url)
    async with stream, trio.open_nursery() as nursery:

        async def beat() -> None:
            while True:
                await trio.sleep(HEARTBEAT_S)
                await stream.send_all(HEARTBEAT)

        nursery.start_soon(beat)
        task_status.started(complete)
        hear(rest, heard)
        while data := await stream.receive_some():
            hear(data, heard)
            if done(heard):
                complete.set()
        nursery.cancel_scope.cancel()


@contextlib.asynccontextmanager
async def connected(
    url: str, clients: int, hear: Hear, done: Done
) -> AsyncIterator[list[tuple[Heard, trio.Event]]]:
    """``clients`` websocket clients on ``url``, each with what it heard and its completion."""
    async with trio.open_nursery() as nursery:
        listening = []
        for _ in range(clients):
            heard = Heard()
            listening.append((heard, await nursery.start(listen, url, hear, heard, done)))
        yield listening
        nursery.cancel_scope.cancel()


async def measure(
    url: str, hear: Hear, done: Done, post: Post, arguments: argparse.Namespace
) -> tuple[dict[str, Any], list[Heard]]:
    """Send the events to clients listening on ``url``, each until ``done`` with what it heard
    (or the grace is over); the latencies and what each heard."""
    sent: dict[int, float] = {}
    cpu, wall = time.process_time(), time.perf_counter()
    async with connected(url, arguments.clients, hear, done) as listening:

        async def greeted() -> bool:
            return all(heard.greeted for heard, _ in listening)

        # Every snapshot delivered before the first event: the bare app has none to send.
        await wait_until(greeted, what="every client's snapshot", deadline=arguments.grace)
        async with trio.open_nursery() as posting:
            for event in range(arguments.events):
                sent[event] = time.perf_counter()
                posting.start_soon(post, event)
                await trio.sleep(1 / arguments.rate)
            with trio.move_on_after(arguments.grace):  # what has not arrived is undelivered
                for _, complete in listening:
                    await complete.wait()
    hearings = [heard for heard, _ in listening]
    latencies = [at - sent[event] for heard in hearings for event, at in heard.received.items()]
    pairs = arguments.clients * arguments.events
    heard_last = [h.last_timeline_at - sent[arguments.events - 1] for h in hearings if h.timelines]
    history = {"history_after_last_event": latency_ms(heard_last)} if heard_last else {}
    return {
        **latency_ms(latencies),
        "delivered": round(len(latencies) / pairs, 4),
        "undelivered_pairs": pairs - len(latencies),
        **history,
        "client_cpu_share": round((time.process_time() - cpu) / (time.perf_counter() - wall), 2),
    }, hearings


async def timeline_entries(
    http: httpx.AsyncClient, items: list[dict[str, Any]], numbers: range
) -> int:
    """How many timeline entries the API holds for the movies numbered in ``numbers``."""
    numbered = [i for i in items if int(i["title"].removeprefix(f"{TITLE} ")) in numbers]
    return sum(len(timeline) for timeline in await timelines(http, numbered))


def flow_poster(
    http: httpx.AsyncClient, flows: list[list[Webhook]], steps: int, sent: Sent
) -> Post:
    """Posts event e, webhook ``e % steps`` of movie ``e // steps``, once the one before it in
    the same movie was answered, as a movie's services send them."""
    posted = [trio.Event() for _ in range(len(flows) * steps)]

    async def post(event: int) -> None:
        movie, step = divmod(event, steps)
        if step:
            await posted[event - 1].wait()
        source, body = flows[movie][step]
        if not await deliver(http, f"/webhooks/{source}", body, sent):
            sent.refused += 1
        posted[event].set()

    return post


async def latency(backend: str, arguments: argparse.Namespace) -> dict[str, Any]:
    movies = math.ceil(arguments.events / arguments.steps)
    posts = {"baseline": Sent(), "service": Sent()}
    rounds: list[dict[str, Any]] = []
    async with (
        bare_app() as bare,
        client(bare.url) as bare_http,
        throwaway_database(backend) as database_url,
        service(database_url, ST_MAX_CONCURRENT_REQUESTS=str(arguments.clients * 4)) as started,
        inbox(database_url) as store,
        client(started.url) as http,
    ):

        async def post_bare(event: int) -> None:
            if not await deliver(bare_http, "/hook", {"event": event}, posts["baseline"]):
                posts["baseline"].refused += 1

        events = arguments.events
        for number in range(arguments.rounds):
            first = number * movies
            flows = [
                movie_flow(first + n, title=TITLE, first_tmdb_id=FIRST_TMDB_ID)
                for n in range(movies)
            ]
            post_service = flow_poster(http, flows, arguments.steps, posts["service"])
            sides = [
                (
                    "baseline",
                    bare.url + "/ws",
                    hear_bare,
                    lambda heard: len(heard.received) == events,
                    post_bare,
                ),
                (
                    "service",
                    f"{started.url}/ws?token={API_TOKEN}",
                    hear_service(arguments.steps, first, movies),
                    # every event known, and (at least) its timeline entry
                    lambda heard: len(heard.received) == events and heard.timelines >= events,
                    post_service,
                ),
            ]
            heard_round: dict[str, Any] = {}
            for side, url, hear, done, post in sides[:: 1 if number % 2 == 0 else -1]:
                ws = url.replace("http://", "ws://")
                heard_round[side] = await measure(ws, hear, done, post, arguments)
            (baseline, _), (ours, hearings) = heard_round["baseline"], heard_round["service"]
            await drained(store)  # the state every webhook of the round leads to
            items = await titled_requests(http, TITLE)
            final = {
                int(item["title"].removeprefix(f"{TITLE} ")) - first: item["state"]
                for item in items
            }
            entries = await timeline_entries(http, items, range(first, first + movies))
            ours["timeline_delivered"] = round(min(h.timelines for h in hearings) / entries, 4)
            latest = sum(
                movie in heard.latest and heard.latest[movie] == final.get(movie)
                for heard in hearings
                for movie in range(movies)
            )
            ours["latest_state_delivered"] = round(latest / (arguments.clients * movies), 4)
            rounds.append(
                {
                    "baseline": baseline,
                    "service": ours,
                    "p99_ratio": ratio(ours["p99_ms"], baseline["p99_ms"]),
                    "p50_ratio": ratio(ours["p50_ms"], baseline["p50_ms"]),
                }
            )

    def median_of(name: str) -> float | None:
        values = [r[name] for r in rounds if r[name] is not None]
        return round(statistics.median(values), 2) if values else None

    return {
        "benchmark": "feed_fanout",
        "backend": backend,
        "clients": arguments.clients,
        "events": arguments.events,
        "rate_per_s": arguments.rate,
        "steps_per_movie": arguments.steps,
        "p99_ratio": median_of("p99_ratio"),
        "p50_ratio": median_of("p50_ratio"),
        "undelivered_pairs": sum(r["service"]["undelivered_pairs"] for r in rounds),
        "baseline_undelivered_pairs": sum(r["baseline"]["undelivered_pairs"] for r in rounds),
        "latest_state_delivered": min(r["service"]["latest_state_delivered"] for r in rounds),
        "timeline_delivered": min(r["service"]["timeline_delivered"] for r in rounds),
        "refused": posts["service"].refused,
        "retried": posts["service"].retried,
        "baseline_refused": posts["baseline"].refused,
        "baseline_retried": posts["baseline"].retried,
        "rounds": rounds,
    }


async def ingest(backend: str, arguments: argparse.Namespace) -> dict[str, Any]:
    movies, rounds = arguments.ingest_movies, arguments.rounds
    flows = [
        movie_flow(n, title=TITLE, first_tmdb_id=FIRST_TMDB_ID) for n in range(2 * movies * rounds)
    ]
    limit = str(arguments.clients * 4 + arguments.concurrency)
    each: list[dict[str, Any]] = []
    refused = retried = 0
    async with (
        throwaway_database(backend) as database_url,
        service(database_url, ST_MAX_CONCURRENT_REQUESTS=limit) as started,
        inbox(database_url) as store,
        client(started.url, concurrency=arguments.concurrency) as http,
    ):
        ws = started.url.replace("http://", "ws://") + f"/ws?token={API_TOKEN}"

        async def alone(batch: list[list[Webhook]]) -> Sent:
            sent = await send_flows(started.url, batch, concurrency=arguments.concurrency)
            await drained(store)
            return sent

        async def watched(batch: list[list[Webhook]]) -> Sent:
            async with connected(ws, arguments.clients, ignore, lambda heard: False):
                return await alone(batch)

        for number in range(rounds):
            first, second = (
                flows[2 * movies * number : (2 * number + 1) * movies],
                flows[(2 * number + 1) * movies : 2 * movies * (number + 1)],
            )
            if number % 2 == 0:
                without, with_clients = await alone(first), await watched(second)
            else:
                with_clients, without = await watched(first), await alone(second)
            each.append(
                {
                    "without_clients": _phase(without),
                    "with_clients": _phase(with_clients),
                    "ingest_ratio": ratio(with_clients.accepted_per_s, without.accepted_per_s),
                }
            )
            refused += without.refused + with_clients.refused
            retried += without.retried + with_clients.retried
        lost = await lost_flow_events(http, TITLE, 2 * movies * rounds)
    ratios = [r["ingest_ratio"] for r in each if r["ingest_ratio"] is not None]
    return {
        "benchmark": "feed_ingest",
        "backend": backend,
        "clients": arguments.clients,
        "movies_per_phase": movies,
        "concurrency": arguments.concurrency,
        "rounds": rounds,
        "ingest_ratio": round(statistics.median(ratios), 2) if ratios else None,
        "ingest_ratios": [r["ingest_ratio"] for r in each],
        "refused": refused,
        "retried": retried,
        "lost": lost,
        "each_round": each,
    }


def _phase(sent: Sent) -> dict[str, Any]:
    return {"accepted_per_s": sent.accepted_per_s, **latency_ms(sent.latencies)}


if __name__ == "__main__":
    parser = command_line(
        __doc__, quick="10 clients, 12 events at 20/s (or 10 movies)", backends=("sqlite",)
    )
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--events", type=int, default=60)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--steps", type=int, choices=range(1, 5), default=1)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--ingest-movies", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--grace", type=float, default=30.0, help="seconds after the last event to wait"
    )
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.clients, arguments.events, arguments.rate = 10, 12, 20.0
        arguments.ingest_movies = min(arguments.ingest_movies, 10)
        arguments.concurrency = min(arguments.concurrency, 8)
    benchmark = ingest if arguments.ingest_movies else latency
    run_each_backend(functools.partial(benchmark, arguments=arguments), arguments.backends)
