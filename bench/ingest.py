"""Ingest benchmark: a burst of movie-flow webhooks, side by side with a bare Quart-Trio app.

Per backend, the bare app of ``bench/bare_fanout.py`` (reads the body, answers 200, stores
nothing) and the real service (``python -m status_tracker.main``, on a fresh database) run
side by side; the same webhooks go first to the one, then to the other: each movie's four
webhooks (Jellyseerr approval, Radarr grab, Radarr import, Jellyfin ItemAdded) in order,
``--concurrency`` movies in flight on as many connections, each sender with a connection of
its own. ``--rounds`` (3) alternate the two with new movies each round, the service's
backlog drained between rounds; the figures below are those of the round with the median
``ingest_ratio``, with every round's ratio in ``ingest_ratios`` and all of them in
``each_round``. One JSON object per backend:

* ``accepted_per_s``, ``baseline_accepted_per_s`` and ``ingest_ratio``: webhooks answered 200
  per second from the first POST to the last answer, by the service (stored durably before
  the 200) and by the bare app, and the one over the other;
* ``accept_s``, ``latency``: that span, and p50/p99 of the service's POSTs;
* ``applied_after_s``: from the first POST until no mail row is left unapplied (read from the
  database by the benchmark, so watching costs the service nothing), ``applied_over_accept``
  (the one over ``accept_s``) and ``applied_over_baseline_accept`` (over the time the bare app
  took to answer the same webhooks: how a machine's speed reads out of a time goal);
* ``rows_applied`` (webhooks and the hand-offs they caused), ``applied_rows_per_s`` (over the
  span from the first 200 to the last row applied), ``pending_at_last_accept`` and
  ``drain_rows_per_s`` (what was left when the last POST was answered, over the time it took
  to apply it, with nothing else arriving);
* ``cpu_ms_per_webhook``: the service's CPU (all its threads) from the first POST until all
  was applied, per webhook; ``accept_cpu_ms_per_webhook``: the part until the last answer;
  ``baseline_cpu_ms_per_webhook`` and ``cpu_ratio``: the bare app's, and the first over it;
* over all rounds: ``lost``, accepted webhooks whose event is on no timeline; ``refused``,
  webhooks never answered 200; ``retried``, POSTs sent again after a dropped connection or
  a 503 (see ``harness.deliver``); ``dead_letters``; ``reached_available`` out of
  ``rounds`` x ``movies``.

Usage: python bench/ingest.py [--movies 600] [--concurrency 64] [--rounds 3]
                              [--backends sqlite postgresql] [--quick]
"""

from __future__ import annotations

import functools
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # bench and tests.support are not installed with the package

from bench.harness import (  # noqa: E402
    API_HEADERS,
    bare_app,
    client,
    command_line,
    cpu_s,
    dead_letters,
    drained,
    inbox,
    latency_ms,
    lost_flow_events,
    pending,
    ratio,
    run_each_backend,
    send_flows,
    service,
)
from tests.support.databases import throwaway_database  # noqa: E402
from tests.support.fixtures import movie_flow  # noqa: E402

TITLE = "Benchmark Movie"


async def run(backend: str, movies: int, concurrency: int, rounds: int) -> dict[str, Any]:
    each: list[dict[str, Any]] = []
    refused = retried = baseline_refused = baseline_retried = 0
    async with (
        bare_app() as bare,
        throwaway_database(backend) as database_url,
        service(database_url) as started,
        inbox(database_url) as store,
        client(started.url, concurrency=concurrency) as http,
    ):
        for number in range(rounds):
            flows = [
                movie_flow(number * movies + n, title=TITLE, first_tmdb_id=900_000)
                for n in range(movies)
            ]
            before = await store.mail_counts()
            bare_cpu = cpu_s(bare.pid)
            baseline = await send_flows(bare.url, flows, concurrency=concurrency)
            bare_cpu = _spent(bare_cpu, cpu_s(bare.pid))
            service_cpu = cpu_s(started.process.pid)
            sent = await send_flows(started.url, flows, concurrency=concurrency)
            accept_cpu = _spent(service_cpu, cpu_s(started.process.pid))
            left = await pending(store)
            left_at = time.perf_counter()
            applied = await drained(store)
            service_cpu = _spent(service_cpu, cpu_s(started.process.pid))
            after = await store.mail_counts()
            rows = sum(after[k] - before[k] for k in ("webhooks", "handoffs"))
            accept_s = sent.finished - sent.started
            applied_s = applied - sent.started
            first = sent.first_accepted or sent.started
            each.append(
                {
                    "accepted_per_s": sent.accepted_per_s,
                    "baseline_accepted_per_s": baseline.accepted_per_s,
                    "ingest_ratio": ratio(sent.accepted_per_s, baseline.accepted_per_s),
                    "accept_s": round(accept_s, 2),
                    "latency": latency_ms(sent.latencies),
                    "baseline_latency": latency_ms(baseline.latencies),
                    "applied_after_s": round(applied_s, 2),
                    "applied_over_accept": ratio(applied_s, accept_s),
                    "applied_over_baseline_accept": ratio(
                        applied_s, baseline.finished - baseline.started
                    ),
                    "rows_applied": rows,
                    "applied_rows_per_s": round(rows / (applied - first), 1),
                    "pending_at_last_accept": left,
                    "drain_rows_per_s": round(left / (applied - left_at), 1) if left else None,
                    "cpu_ms_per_webhook": _per(service_cpu, len(flows) * 4),
                    "accept_cpu_ms_per_webhook": _per(accept_cpu, len(flows) * 4),
                    "baseline_cpu_ms_per_webhook": _per(bare_cpu, len(flows) * 4),
                    "cpu_ratio": ratio(service_cpu, bare_cpu),
                }
            )
            refused += sent.refused
            retried += sent.retried
            baseline_refused += baseline.refused
            baseline_retried += baseline.retried
        letters = await dead_letters(store)
        available = (
            await http.get(
                "/api/requests", params={"state": "available", "limit": 1}, headers=API_HEADERS
            )
        ).json()["total"]
        lost = await lost_flow_events(http, TITLE, rounds * movies)
    middle = sorted(each, key=lambda r: r["ingest_ratio"] or 0.0)[len(each) // 2]
    return {
        "benchmark": "ingest",
        "backend": backend,
        "movies": movies,
        "webhooks": 4 * movies,
        "concurrency": concurrency,
        "rounds": len(each),
        **middle,
        "ingest_ratios": [r["ingest_ratio"] for r in each],
        "applied_over_accept_all": [r["applied_over_accept"] for r in each],
        "cpu_ratios": [r["cpu_ratio"] for r in each],
        "lost": lost,
        "refused": refused,
        "retried": retried,
        "baseline_refused": baseline_refused,
        "baseline_retried": baseline_retried,
        "dead_letters": letters,
        "reached_available": available,
        "each_round": each,
    }


def _spent(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def _per(cpu: float | None, webhooks: int) -> float | None:
    return None if cpu is None else round(1000 * cpu / webhooks, 3)


if __name__ == "__main__":
    parser = command_line(__doc__, quick="20 movies at 8 connections")
    parser.add_argument("--movies", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.movies, arguments.concurrency, arguments.rounds = 20, 8, 1
    run_each_backend(
        functools.partial(
            run,
            movies=arguments.movies,
            concurrency=arguments.concurrency,
            rounds=arguments.rounds,
        ),
        arguments.backends,
    )
