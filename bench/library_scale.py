"""Library-scale benchmark: 100,000 tracked requests (2,000 of them active) behind the real service.

Builds the library through the storage layer (``open_store`` and ``Store.commit``, the writes
the actors make) in a temporary SQLite file, or, given ``--database-url postgresql://...``, in a
throwaway database created on that server and dropped afterwards (then ``VACUUM ANALYZE``, as
autovacuum would some time after such a load). ``--tv-share`` of the
requests are series with ``--episodes`` episodes each (``--active-tv-share`` of the active
ones); every active request has a download; every request has three timeline entries. Titles
are made of invented words, so a search can be checked against the titles it was built from.

Then it starts the real service (``python -m status_tracker.main``) on that database and
prints one JSON object:

* ``start_s``: from starting the process until ``/health`` answers 200;
* ``queries``: per ``GET /api/requests`` query (title search, deep pages, state filters,
  sorts, movie/TV, the keyset cursor when the service offers one) and the detail of an active
  series, ``p50_ms``/``p99_ms`` of ``--runs`` timed calls after ``WARMUP`` untimed ones, the
  ``total`` the service answered and, for searches, ``expected`` (counted from the built
  titles, case-insensitively);
* ``snapshot``: the ``/ws`` snapshot, time from opening the socket to its first message
  (p50/p99 of ``--snapshots`` connections), its size in bytes and how many requests it held;
* ``rss_mb``: the service's resident memory after start, after the queries, and its peak.

Usage: python bench/library_scale.py [--requests 100000] [--active 2000] [--tv-share 0.4]
    [--active-tv-share 0.5] [--episodes 12] [--runs 30] [--snapshots 10]
    [--database-url postgresql://postgres@127.0.0.1:5432/test | --sqlite-file PATH]

``--sqlite-file`` keeps the built library for later runs (same arguments), which then measure
a start on an existing database, migrations included.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import trio
import trio_asyncio
import trio_websocket

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support is not installed with the package

from status_tracker.storage import (  # noqa: E402
    AppendTimeline,
    Op,
    SaveDownload,
    SaveEpisodes,
    SaveRequest,
    open_store,
)

from status_tracker.domain import (  # noqa: E402
    ACTIVE_STATES,
    DownloadLink,
    DownloadRow,
    EpisodeRow,
    RequestRow,
    TimelineEntry,
)
from tests.support.databases import throwaway_postgres_database  # noqa: E402
from tests.support.process import service_process  # noqa: E402
from tests.support.service import API_TOKEN, WEBHOOK_TOKEN  # noqa: E402

WARMUP = 3
MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024
STUCK_AFTER_S = "86400"
"""Longer than any active request has been still: the recovery sweeper has nothing to do."""
CHUNK = 1000
YEARS_S = 3 * 365 * 86400.0
IN_PROGRESS = ("grabbing", "downloading", "importing")
FINISHED_WEIGHTS = (("available", 0.93), ("failed", 0.04), ("deleted", 0.03))
COMMON_WORDS = (
    "man", "love", "night", "dark", "last", "day", "world", "girl", "house", "star", "war",
    "king", "life", "time", "dead", "little", "story", "black", "blue", "red", "city", "home",
    "heart", "moon", "sun", "fire", "ice", "blood", "shadow", "secret", "lost", "wild", "summer",
    "winter", "queen", "road", "river", "sea", "sky", "dream", "game", "island", "ghost",
    "magic", "school", "family", "brother", "sister", "killer", "hunter", "garden", "train",
    "light", "empire", "legend", "planet", "code", "knight", "angel", "devil", "sword", "storm",
)  # fmt: skip
"""English title words, most common first: they take the top ranks of the Zipf draw."""
ONSETS = ("b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z")
VOWELS = ("a", "e", "i", "o", "u", "ai", "ei", "ou")
CODAS = ("", "", "n", "r", "s", "l", "th", "k")
OVERVIEW = (
    "A quiet story about people who keep going when everything around them stops, told over "
    "one long winter in a town that the maps forgot; what they find there changes them, and "
    "the town, in ways nobody expected. "
)


def vocabulary(rng: random.Random, size: int = 4000) -> list[str]:
    """English title words first, then invented names (two or three syllables), no two alike."""
    words = dict.fromkeys(COMMON_WORDS)
    while len(words) < size:
        syllables = rng.randint(2, 3)
        name = "".join(
            rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(syllables)
        )
        words.setdefault(name)
    return list(words)


def titles(rng: random.Random, words: list[str], count: int) -> Iterator[str]:
    """Titles of one to four words drawn with a Zipf-like bias (so some words are common), a
    fifth of them starting with "The", some with a sequel number."""
    weights = [1 / (rank + 1) for rank in range(len(words))]
    for number in range(count):
        picked = rng.choices(words, weights=weights, k=rng.randint(1, 4))
        title = " ".join(word.capitalize() for word in picked)
        if rng.random() < 0.2:
            title = f"The {title}"
        yield f"{title} {number % 7 + 2}" if number % 11 == 0 else title


def library(args: argparse.Namespace) -> Iterator[list[Op]]:
    """The library as chunks of write operations, one transaction each."""
    rng = random.Random(12)
    words = vocabulary(rng)
    total = args.requests
    active = set(rng.sample(range(max(0, total - 5 * args.active), total), args.active))
    now = time.time()
    began = now - YEARS_S
    for start in range(0, total, CHUNK):
        requests: list[Op] = []
        episodes: list[Op] = []
        downloads: list[Op] = []
        entries: list[TimelineEntry] = []
        numbers = range(start, min(start + CHUNK, total))
        for number, title in zip(numbers, titles(rng, words, len(numbers)), strict=True):
            row_id = number + 1
            created = began + YEARS_S * number / total + rng.random()
            is_active = number in active
            tv_share = args.active_tv_share if is_active else args.tv_share
            media_type = "tv" if rng.random() < tv_share else "movie"
            if is_active:
                state = rng.choice(ACTIVE_STATES if number % 3 else IN_PROGRESS)
            else:
                state = rng.choices(*zip(*FINISHED_WEIGHTS, strict=True))[0]
            # Active requests moved within the last hour: none counts as stuck (see STUCK_AFTER_S).
            moved = now - rng.uniform(60, 3600) if is_active else created + rng.uniform(60, 1e6)
            updated = min(max(moved, created), now)
            torrent_hash = f"{row_id:040x}" if is_active else None
            request = RequestRow(
                id=row_id,
                media_type=media_type,
                title=title,
                year=1990 + number % 35,
                tmdb_id=500_000 + row_id,
                tvdb_id=700_000 + row_id if media_type == "tv" else None,
                state=state,
                progress=100.0 if state == "available" else round(rng.uniform(0, 100), 1),
                poster_url=f"https://image.tmdb.org/t/p/w600_and_h900_bestv2/{row_id:x}.jpg",
                overview=OVERVIEW,
                source="jellyseerr",
                requested_seasons=(1,) if media_type == "tv" else (),
                download_hash=torrent_hash if media_type == "movie" else None,
                created_at=created,
                updated_at=updated,
                available_at=updated if state == "available" else None,
                last_change_at=updated,
                requested_by="Family",
                requested_at=created,
            )
            requests.append(SaveRequest(row=request))
            keys = [(1, e) for e in range(1, args.episodes + 1)] if media_type == "tv" else []
            if keys:
                episodes.append(
                    SaveEpisodes(
                        rows=tuple(
                            EpisodeRow(
                                request_id=row_id,
                                season=season,
                                episode=episode,
                                title=f"Episode {episode}",
                                state="available" if not is_active else state,
                                progress=request.progress,
                                torrent_hash=torrent_hash,
                                updated_at=updated,
                                last_change_at=updated,
                            )
                            for season, episode in keys
                        )
                    )
                )
            if torrent_hash is not None:
                downloads.append(
                    SaveDownload(
                        row=DownloadRow(
                            hash=torrent_hash,
                            name=f"{title.replace(' ', '.')}.1080p.WEB-DL-GRP",
                            progress=request.progress,
                            state="downloading",
                            client_state="downloading",
                            size=8_000_000_000,
                            links=(DownloadLink(request_id=row_id, episodes=tuple(keys)),),
                            created_at=created,
                            updated_at=updated,
                            last_change_at=updated,
                        )
                    )
                )
            entries.extend(
                [
                    TimelineEntry(
                        request_id=row_id, at=created, source="jellyseerr",
                        event="request_approved", to_state="approved",
                    ),
                    TimelineEntry(
                        request_id=row_id, at=created + 60, source="radarr", event="grabbed",
                        from_state="approved", to_state="grabbing",
                    ),
                    TimelineEntry(
                        request_id=row_id, at=updated, source="system", event="state_changed",
                        from_state="grabbing", to_state=state,
                    ),
                ]
            )  # fmt: skip
        yield [*requests, *episodes, *downloads, AppendTimeline(entries=tuple(entries))]


def built_titles(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(title, media type) of each request ``library`` gives, in id order."""
    return [
        (op.row.title, op.row.media_type)
        for chunk in library(args)
        for op in chunk
        if isinstance(op, SaveRequest)
    ]


async def build(url: str, args: argparse.Namespace) -> float:
    started = time.perf_counter()
    async with open_store(url) as store:
        for chunk in library(args):
            await store.commit(chunk)
    if url.startswith("postgresql"):
        # What autovacuum does some time after a bulk load: planner statistics, and the
        # visibility map that lets index-only scans skip the table.
        connection = await trio_asyncio.aio_as_trio(asyncpg.connect)(url)
        try:
            await trio_asyncio.aio_as_trio(connection.execute)("VACUUM ANALYZE")
        finally:
            await trio_asyncio.aio_as_trio(connection.close)()
    return time.perf_counter() - started


@contextlib.asynccontextmanager
async def database(args: argparse.Namespace) -> AsyncIterator[tuple[str, bool]]:
    """The database URL, and whether the library is still to be built in it."""
    if args.database_url is not None:
        async with throwaway_postgres_database("st_scale", admin_url=args.database_url) as url:
            yield url, True
    elif args.sqlite_file is not None:
        path = await trio.Path(args.sqlite_file).resolve()
        yield f"sqlite:///{path}", not await path.exists()
    else:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/library.db", True


def rss_mb(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = round(int(value.split()[0]) / 1024, 1)
    return fields


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[max(0, math.ceil(len(ordered) * 0.99) - 1)] * 1000, 2),
    }


def cpu_s(pid: int) -> float:
    """The CPU time the process has used so far (user and system, every thread)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def timed(
    http: httpx.AsyncClient, pid: int, path: str, params: dict[str, Any], runs: int
) -> tuple[Any, dict[str, float]]:
    """The last answer, the p50/p99 of the calls' times, and the service's CPU time per call
    (what a shared, busy machine inflates the times with does not count there)."""
    for _ in range(WARMUP):
        (await http.get(path, params=params)).raise_for_status()
    samples = []
    used = cpu_s(pid)
    for _ in range(runs):
        started = time.perf_counter()
        response = await http.get(path, params=params)
        samples.append(time.perf_counter() - started)
        response.raise_for_status()
    cpu_ms = (cpu_s(pid) - used) / runs * 1000
    return response.json(), {**percentiles(samples), "service_cpu_ms": round(cpu_ms, 2)}


def searches(names: list[tuple[str, str]]) -> dict[str, str]:
    """Title searches: a rare invented name, common words, upper case, two letters, none."""
    names_seen = vocabulary(random.Random(12))[len(COMMON_WORDS) :]
    folded = [title.lower() for title, _ in names[:5000]]
    rare = next(name for name in reversed(names_seen) if any(name in t for t in folded))
    return {
        "q_rare_name": rare,
        "q_common_word": COMMON_WORDS[2],
        "q_the": "the",
        "q_upper_case": COMMON_WORDS[5].upper(),
        "q_two_letters": "ka",
        "q_two_words": f"{COMMON_WORDS[3]} {COMMON_WORDS[1]}",
        "q_no_match": "qqxzz",
    }


async def measure(
    url: str, pid: int, args: argparse.Namespace, names: list[tuple[str, str]]
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    active = ",".join(ACTIVE_STATES)
    queries: dict[str, dict[str, Any]] = {
        "list": {},
        "list_500": {"limit": 500},
        "offset_1000": {"offset": 1000},
        "offset_50000": {"offset": 50000},
        "offset_90000": {"offset": 90000},
        "state_available": {"state": "available"},
        "state_available_offset_50000": {"state": "available", "offset": 50000},
        "state_failed": {"state": "failed"},
        "state_active": {"state": active},
        "state_downloading": {"state": "downloading"},
        "state_failed_deleted": {"state": "failed,deleted"},
        "movie": {"media_type": "movie"},
        "tv": {"media_type": "tv"},
        "tv_available_offset_20000": {"media_type": "tv", "state": "available", "offset": 20000},
        "sort_updated": {"sort": "updated"},
        "sort_title": {"sort": "title"},
        "sort_title_offset_90000": {"sort": "title", "offset": 90000},
        "sort_progress_tv": {"sort": "progress", "media_type": "tv"},
    }
    found = searches(names)
    for name, text in found.items():
        queries[name] = {"q": text}
    queries["q_common_word_tv"] = {"q": found["q_common_word"], "media_type": "tv"}
    queries["q_common_word_offset_1000"] = {"q": found["q_common_word"], "offset": 1000}
    results: dict[str, Any] = {}
    rss_after_start = rss_mb(pid)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as http:
        for name, params in queries.items():
            body, figures = await timed(http, pid, "/api/requests", params, args.runs)
            results[name] = {**figures, "total": body["total"]}
            if "q" in params:
                text = params["q"].lower()
                results[name]["expected"] = sum(
                    text in title.lower() and params.get("media_type", kind) == kind
                    for title, kind in names
                )
        cursor = await deep_cursor(http)
        if cursor is not None:
            _, figures = await timed(http, pid, "/api/requests", {"after": cursor}, args.runs)
            results["after_cursor_deep"] = figures
        listed = (await http.get("/api/requests", params={"state": "downloading"})).json()
        series = next((i["id"] for i in listed["items"] if i["media_type"] == "tv"), None)
        if series is not None:
            _, figures = await timed(http, pid, f"/api/requests/{series}", {}, args.runs)
            results["detail_active_series"] = figures
        snapshot = await snapshots(url, pid, args.snapshots)
    return {
        "start_rss": rss_after_start,
        "queries": results,
        "snapshot": snapshot,
        "rss_after": rss_mb(pid),
    }


async def deep_cursor(http: httpx.AsyncClient) -> str | None:
    """The keyset cursor that continues after the 90,000th request, if the service has one."""
    page = (await http.get("/api/requests", params={"offset": 89_950, "limit": 50})).json()
    return page.get("next_after")


async def snapshots(url: str, pid: int, count: int) -> dict[str, Any]:
    """Open the live feed ``count`` times: how long its snapshot took, its size, the service's
    CPU time per snapshot, and what it says of the active requests it left out."""
    ws_url = url.replace("http://", "ws://") + "/ws"
    samples = []
    used = cpu_s(pid)
    for _ in range(count):
        started = time.perf_counter()
        async with trio_websocket.open_websocket_url(
            ws_url,
            extra_headers=[("Authorization", f"Bearer {API_TOKEN}")],
            max_message_size=MAX_SNAPSHOT_BYTES,
        ) as socket:
            text = await socket.get_message()
        samples.append(time.perf_counter() - started)
    cpu_ms = (cpu_s(pid) - used) / count * 1000
    message = json.loads(text)
    return {
        **percentiles(samples),
        "service_cpu_ms": round(cpu_ms, 2),
        "bytes": len(text.encode()),
        "requests": len(message["requests"]),
        "active_total": message.get("active_total"),
        "more_listed_by_api": message.get("more") is not None,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    async with trio_asyncio.open_loop(), database(args) as (url, empty):
        build_s = await build(url, args) if empty else 0.0
        names = built_titles(args)
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            async with service_process(
                Path(folder),
                ST_DATABASE_URL=url,
                ST_WEBHOOK_TOKEN=WEBHOOK_TOKEN,
                ST_API_TOKEN=API_TOKEN,
                ST_LOG_LEVEL="WARNING",
                ST_STUCK_AFTER_S=STUCK_AFTER_S,
            ) as service:
                start_s = time.perf_counter() - started
                figures = await measure(service.url, service.process.pid, args, names)
    return {
        "benchmark": "library_scale",
        "backend": url.split(":", 1)[0],
        "requests": args.requests,
        "active": args.active,
        "build_s": round(build_s, 1),
        "start_s": round(start_s, 2),
        **figures,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--active", type=int, default=2_000)
    parser.add_argument("--tv-share", type=float, default=0.4)
    parser.add_argument("--active-tv-share", type=float, default=0.5)
    parser.add_argument("--episodes", type=int, default=12)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--snapshots", type=int, default=10)
    parser.add_argument(
        "--database-url", help="a PostgreSQL server to make a throwaway database on"
    )
    parser.add_argument(
        "--sqlite-file",
        help="build the library in this SQLite file and keep it; a later run reuses it",
    )
    arguments = parser.parse_args()
    print(json.dumps(trio.run(run, arguments)), flush=True)
