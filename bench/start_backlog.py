"""Start-up benchmark: the service started after a SIGKILL left unapplied approvals, against an
empty start.

Per backend, two fresh databases are prepared by a child process (this script with
``--seed``): it opens the store, puts ``--approvals`` Jellyseerr approvals of different movies
in the inbox exactly as ``POST /webhooks/jellyseerr`` stores them (``Store.accept_mail`` with
the same kind, dedupe and event keys; the fixture's body renamed per movie), says so, and is
killed with SIGKILL: the database as a service leaves it that accepted them and died before
applying any. The second database gets none. The real service (``python -m
status_tracker.main``) is then started on each, and one JSON object per backend gives:

* ``serving_after_s``: from spawning the process until ``/health`` answered 200 (asked every
  10 ms) and ``/api/requests`` answered 200 after it, with the backlog; ``empty_serving_after_s``:
  the same for the empty database, the median of ``--empty-starts`` starts (each ended with
  SIGKILL too); ``serving_ratio``: the one over the other;
* ``applied_after_s``: from spawning until no mail row was left unapplied (read from the
  database by the benchmark, so watching costs the service nothing), and ``applied_per_s``:
  the rows left once it served over the time from then until the last was applied;
* ``unapplied_at_start``: mail rows not applied once it served; ``lost``: approvals that
  made no request; ``dead_letters``.

Usage: python bench/start_backlog.py [--approvals 10000] [--empty-starts 3]
                                     [--backends sqlite postgresql] [--quick]
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import trio
import trio_asyncio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # bench and tests.support are not installed with the package

from status_tracker.ingress.translate import (  # noqa: E402
    dedupe_key,
    event_key,
    event_type_of,
    translate,
)
from status_tracker.storage import IncomingMail, Store, open_store  # noqa: E402

from bench.harness import (  # noqa: E402
    API_HEADERS,
    command_line,
    dead_letters,
    drained,
    inbox,
    pending,
    ratio,
    run_each_backend,
    service,
)
from tests.support.databases import throwaway_database  # noqa: E402
from tests.support.fixtures import numbered_movie_request  # noqa: E402

TITLE = "Backlog Movie"
SEEDED = b"seeded\n"
SEED_BATCH = 500


def approval(number: int) -> IncomingMail:
    body = numbered_movie_request(number, title=TITLE, first_tmdb_id=1_000_000)
    raw = json.dumps(body).encode()
    return IncomingMail(
        target="dispatch",
        source="jellyseerr",
        kind=event_type_of("jellyseerr", body),
        body=raw.decode(),
        dedupe_key=dedupe_key("jellyseerr", raw),
        event_key=event_key("jellyseerr", translate("jellyseerr", body)),
    )


async def seed(database_url: str, approvals: int) -> None:
    """Store ``approvals`` approvals in the inbox, say so on stdout, and wait to be killed."""
    async with trio_asyncio.open_loop(), open_store(database_url) as store:
        for first in range(0, approvals, SEED_BATCH):
            mails = [approval(n) for n in range(first, min(approvals, first + SEED_BATCH))]
            await store.accept_mail(mails, now=time.time())
        sys.stdout.buffer.write(SEEDED)
        sys.stdout.flush()
        await trio.sleep_forever()


async def seeded_and_killed(database_url: str, approvals: int) -> None:
    """Seed ``database_url`` in a child process and SIGKILL it once it has."""
    process = await trio.lowlevel.open_process(
        [sys.executable, __file__, "--seed", database_url, "--approvals", str(approvals)],
        stdout=-1,  # subprocess.PIPE
    )
    assert process.stdout is not None
    said = b""
    with trio.fail_after(600):
        while not said.endswith(SEEDED):
            chunk = await process.stdout.receive_some()
            if not chunk:
                raise RuntimeError(f"the seeding process ended early: {said!r}")
            said += chunk
    process.kill()
    await process.wait()


async def timed_start(database_url: str, *, until_applied: bool) -> dict[str, Any]:
    """Start the service on ``database_url``, time it to serving (and to every row applied),
    then SIGKILL it."""
    async with inbox(database_url) as store:
        spawned = time.perf_counter()
        async with (
            service(database_url, start_deadline=120, poll_s=0.01) as started,
            httpx.AsyncClient(base_url=started.url, timeout=60) as http,
        ):
            result = await serving(store, http, spawned, until_applied=until_applied)
            started.process.kill()
            await started.process.wait()
    return result


async def serving(
    store: Store, http: httpx.AsyncClient, spawned: float, *, until_applied: bool
) -> dict[str, Any]:
    """What a start that has just answered ``/health`` shows: when the API answered too, and
    when every row was applied."""
    while True:
        if (await http.get("/api/requests", headers=API_HEADERS)).status_code == 200:
            break
        await trio.sleep(0.01)
    answered = time.perf_counter()
    left = await pending(store)
    result = {"serving_after_s": round(answered - spawned, 3), "unapplied_at_start": left}
    if until_applied:
        applied = await drained(store)
        result["applied_after_s"] = round(applied - spawned, 2)
        result["applied_per_s"] = round(left / (applied - answered), 1)
        result["dead_letters"] = await dead_letters(store)
        result["requests"] = (
            await http.get("/api/requests", params={"q": TITLE, "limit": 1}, headers=API_HEADERS)
        ).json()["total"]
    return result


async def run(backend: str, approvals: int, empty_starts: int) -> dict[str, Any]:
    async with throwaway_database(backend) as empty_url:
        await seeded_and_killed(empty_url, 0)
        empty = [
            (await timed_start(empty_url, until_applied=False))["serving_after_s"]
            for _ in range(empty_starts)
        ]
    async with throwaway_database(backend) as backlog_url:
        await seeded_and_killed(backlog_url, approvals)
        backlog = await timed_start(backlog_url, until_applied=True)
    empty_serving = statistics.median(empty)
    return {
        "benchmark": "start_backlog",
        "backend": backend,
        "approvals": approvals,
        "serving_after_s": backlog["serving_after_s"],
        "empty_serving_after_s": round(empty_serving, 3),
        "empty_serving_all_s": empty,
        "serving_ratio": ratio(backlog["serving_after_s"], empty_serving),
        "applied_after_s": backlog["applied_after_s"],
        "applied_per_s": backlog["applied_per_s"],
        "unapplied_at_start": backlog["unapplied_at_start"],
        "lost": approvals - backlog["requests"],
        "dead_letters": backlog["dead_letters"],
    }


if __name__ == "__main__":
    parser = command_line(__doc__, quick="100 approvals, 1 empty start")
    parser.add_argument("--approvals", type=int, default=10_000)
    parser.add_argument("--empty-starts", type=int, default=3)
    parser.add_argument("--seed", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.seed:
        trio.run(seed, arguments.seed, arguments.approvals)
    else:
        if arguments.quick:
            arguments.approvals, arguments.empty_starts = 100, 1
        run_each_backend(
            functools.partial(
                run, approvals=arguments.approvals, empty_starts=arguments.empty_starts
            ),
            arguments.backends,
        )
