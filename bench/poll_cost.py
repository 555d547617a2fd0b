"""Poll benchmark: 2,000 tracked torrents of which 20 change per poll.

Starts the service in-process (``tests.support.service.started_service``, no qBittorrent
configured, so it runs no poller of its own) on SQLite and on PostgreSQL, and tracks
``--tracked`` downloads by posting Grab webhooks: every tenth one is a Sonarr season pack of
``--pack-episodes`` episodes (from ``tests/fixtures/sonarr/grab_season_pack.json``), the others
Radarr movies (from ``tests/fixtures/radarr/grab.json``), each with its own ids and hash. It then
drives a real ``actors.download_poller.DownloadPoller`` against the service's Store and
TorrentActors (``send=system.cast_torrent``) with a fake download client that answers
``look`` with every torrent and ``files`` with one ``.mkv`` per episode for packs.

Three scenarios per backend, one JSON object each:

* ``initial``: one poll in which qBittorrent reports every torrent for the first time (all
  rows differ from the stored "queued" rows; every pack's files are listed);
* ``changing``: ``--polls`` polls, each raising the progress of ``--changes`` torrents (taken in
  turn, so 1 in 10 is a pack);
* ``idle``: ``--polls`` polls where nothing changes.

Per poll it measures ``poll_once_ms`` (``await poller.poll_once()``: reading the tracked rows,
the sync, file listings, and casting observations to the actors' mailboxes) and
``poll_applied_ms`` (the same poll until everything it caused is committed: each observed
torrent's actor has handled its message, checked by a no-op call queued behind it, and no mail
is left unapplied, i.e. the requests have applied the hand-offs), reported as p50/p95/max.
What is counted per poll (reported as the mean per poll, ``<name>_per_poll``):

* ``store_writes``: delta of ``store.writer_statistics().writes``, i.e. ``Store.commit`` calls
  (one per actor message that changed something or marks a mail row applied; each atomic);
* ``transactions``: delta of ``.batches``, database transactions (a batch groups writes);
* ``handoff_mail_rows``: new mail rows addressed to an actor (``mail_counts()["handoffs"]``
  delta): the DownloadProgressed a TorrentActor posts to each linked request;
* ``writes_plus_handoffs``: ``store_writes + handoff_mail_rows``;
* ``sql_rows_written``: INSERT/UPDATE statements run by the writer (counted by wrapping the
  store's driver in this script); each writes one row (an upsert by key, one inserted row, or
  ``UPDATE mail ... WHERE id = ?``), broken down in ``sql_rows_written_by_table``;
* ``file_listings``: delta of ``poller.status().file_listings`` (``torrent_files`` calls);
  ``observations``: delta of ``poller.status().observations`` (messages sent to actors);
* ``gc_full_collections``, ``gc_pause_ms_total``: garbage-collector pauses of this process (the
  service runs in it) during the scenario's polls, from ``gc.callbacks``.

The counters are read once the dispatcher has returned from every new mail row (a row reads as
applied when its transaction commits, a moment before the writer counts that transaction), so
no write falls between two polls. ``downloads_not_matching_qbittorrent_at_end`` compares every
stored download's progress with what the fake reported last (0 expected).

Usage: python bench/poll_cost.py [--tracked 2000] [--changes 20] [--polls 30]
                                 [--pack-episodes 12] [--backends sqlite postgresql]
"""

from __future__ import annotations

import argparse
import collections
import copy
import gc
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import trio
import trio_asyncio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support is not installed with the package

from status_tracker.actors.download_poller import DownloadPoller  # noqa: E402
from status_tracker.actors.envelope import Deliver  # noqa: E402
from status_tracker.actors.runtime import Wakeup  # noqa: E402
from status_tracker.clients import (  # noqa: E402
    DependencyHealth,
    Download,
    DownloadFile,
    DownloadsSeen,
)

from bench.harness import percentile  # noqa: E402
from tests.support.databases import throwaway_database  # noqa: E402
from tests.support.fixtures import load_fixture  # noqa: E402
from tests.support.service import RunningService, started_service  # noqa: E402

PACK_EVERY = 10
EPISODE_SIZE = 1_400_000_000
MOVIE_SIZE = 8_000_000_000
SETUP_DEADLINE_S = 1800.0
POLL_DEADLINE_S = 300.0


class CountingDriver:
    """Wraps the store's driver: counts the rows each write transaction writes, per table."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.dialect = inner.dialect
        self.rows: collections.Counter[str] = collections.Counter()

    async def fetch(
        self, sql: str, args: Sequence[Any] = (), *, keyed: bool = False, custom_plan: bool = False
    ) -> Any:
        return await self._inner.fetch(sql, args, keyed=keyed, custom_plan=custom_plan)

    async def apply(self, items: Sequence[Sequence[Any]], *, in_place: bool = True) -> Any:
        for statements in items:
            for sql, _args in statements:
                words = sql.split(None, 3)
                if words[0] == "INSERT":
                    self.rows[words[2]] += 1
                elif words[0] == "UPDATE":
                    self.rows[words[1]] += 1
        return await self._inner.apply(items, in_place=in_place)

    async def aclose(self) -> None:
        await self._inner.aclose()


@attrs.define
class Tracked:
    """One torrent the benchmark tracks, and what the fake qBittorrent says about it."""

    hash: str
    name: str
    size: int
    files: list[str]
    progress: float = 0.0


def movie_grab(number: int, torrent_hash: str) -> tuple[dict[str, Any], Tracked]:
    title = f"Poll Movie {number}"
    release = f"Poll.Movie.{number}.2024.1080p.WEB-DL.x264-GRP"
    body = load_fixture("radarr/grab.json")
    body["movie"].update(
        id=300_000 + number, tmdbId=800_000 + number, imdbId=f"tt9{number:07d}", title=title
    )
    body["movie"]["tags"] = []
    body["remoteMovie"].update(tmdbId=800_000 + number, imdbId=f"tt9{number:07d}", title=title)
    body["release"].update(releaseTitle=release, size=MOVIE_SIZE)
    body["downloadId"] = torrent_hash.upper()
    return body, Tracked(hash=torrent_hash, name=release, size=MOVIE_SIZE, files=[])


def pack_grab(number: int, torrent_hash: str, episodes: int) -> tuple[dict[str, Any], Tracked]:
    title = f"Poll Show {number}"
    release = f"Poll.Show.{number}.S01.1080p.WEB-DL.x264-GRP"
    body = load_fixture("sonarr/grab_season_pack.json")
    body["series"].update(
        id=50_000 + number,
        tvdbId=700_000 + number,
        tmdbId=600_000 + number,
        imdbId=f"tt8{number:07d}",
        title=title,
        type="standard",
    )
    body["series"]["tags"] = []
    template = body["episodes"][0]
    body["episodes"] = []
    for episode in range(1, episodes + 1):
        entry = copy.deepcopy(template)
        entry.update(
            id=number * 100 + episode,
            seasonNumber=1,
            episodeNumber=episode,
            title=f"Episode {episode}",
            seriesId=50_000 + number,
            tvdbId=number * 100 + episode,
        )
        body["episodes"].append(entry)
    body["release"].update(releaseTitle=release, size=episodes * EPISODE_SIZE)
    body["downloadId"] = torrent_hash.upper()
    files = [
        f"{release}/Poll.Show.{number}.S01E{episode:02d}.1080p.WEB-DL.x264-GRP.mkv"
        for episode in range(1, episodes + 1)
    ]
    return body, Tracked(hash=torrent_hash, name=release, size=episodes * EPISODE_SIZE, files=files)


@attrs.define
class FakeClient:
    """The two calls of the download-client port the poller makes, answered from ``torrents``."""

    torrents: dict[str, Tracked]
    downloads: dict[str, Download] = attrs.Factory(dict)
    service_name: str = "qBittorrent"
    source: str = "qbittorrent"
    health: DependencyHealth = attrs.Factory(lambda: DependencyHealth("qBittorrent"))

    def set_progress(self, torrent_hash: str, progress: float) -> None:
        torrent = self.torrents[torrent_hash]
        torrent.progress = progress
        self.downloads[torrent_hash] = Download(
            hash=torrent_hash,
            name=torrent.name,
            state="downloading",
            client_state="downloading",
            progress=progress,
            size=torrent.size,
        )

    async def look(self) -> DownloadsSeen:
        return DownloadsSeen(downloads=dict(self.downloads), removed=frozenset())

    async def files(self, torrent_hash: str) -> list[DownloadFile]:
        torrent = self.torrents[torrent_hash]
        return [
            DownloadFile(
                index=index,
                name=name,
                size=EPISODE_SIZE,
                progress=torrent.progress,
                priority="normal",
            )
            for index, name in enumerate(torrent.files)
        ]


async def nothing_pending(service: RunningService) -> bool:
    return not await service.system.store.unapplied_mail(limit=1)


def dispatched(service: RunningService) -> int:
    dispatcher = service.system.dispatcher
    return dispatcher.dispatched + dispatcher.dead_lettered


async def counters_settled(
    service: RunningService, before: int, after_mail: dict[str, int], before_mail: dict[str, int]
) -> None:
    """Wait until the dispatcher has returned from every new mail row.

    A mail row reads as applied as soon as its transaction commits, a moment before the writer
    task counts that transaction; the dispatcher's call returns only after it was counted.
    """
    new_mail = sum(after_mail[key] - before_mail[key] for key in ("webhooks", "handoffs"))
    with trio.fail_after(POLL_DEADLINE_S):
        while True:
            if dispatched(service) - before >= new_mail:
                return
            await trio.sleep(0.001)


@attrs.define
class GcPauses:
    """Garbage-collector pauses in this process (the service runs in it), from gc.callbacks."""

    full: int = 0
    seconds: float = 0.0
    _started: float = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        self.seconds += time.perf_counter() - self._started
        self.full += info["generation"] == 2

    def copy(self) -> GcPauses:
        return GcPauses(full=self.full, seconds=self.seconds)


gc_pauses = GcPauses()


async def track(service: RunningService, count: int, pack_episodes: int) -> dict[str, Tracked]:
    """Post one grab per torrent (16 at a time) and wait until every download is stored."""
    grabs: list[tuple[str, dict[str, Any]]] = []
    tracked: dict[str, Tracked] = {}
    for number in range(count):
        torrent_hash = f"{0xB0_11_C0_57 << 96 | number:040x}"
        if number % PACK_EVERY == PACK_EVERY - 1:
            body, torrent = pack_grab(number, torrent_hash, pack_episodes)
            grabs.append(("sonarr", body))
        else:
            body, torrent = movie_grab(number, torrent_hash)
            grabs.append(("radarr", body))
        tracked[torrent_hash] = torrent
    send, receive = trio.open_memory_channel[tuple[str, dict[str, Any]]](len(grabs))
    for grab in grabs:
        send.send_nowait(grab)
    send.close()

    async def worker() -> None:
        async for source, body in receive:
            response = await service.post_webhook(source, body, timeout=60)
            if response.status_code != 200:
                raise RuntimeError(f"{source} grab refused: {response.status_code}")

    async with trio.open_nursery() as nursery:
        for _ in range(16):
            nursery.start_soon(worker)
    store = service.system.store
    with trio.fail_after(SETUP_DEADLINE_S):
        while True:
            if await nothing_pending(service):
                stored = {row.hash for row in await store.unfinished_downloads()}
                if stored >= tracked.keys():
                    break
            await trio.sleep(0.1)
    return tracked


async def one_poll(
    service: RunningService,
    poller: DownloadPoller,
    sent: list[str],
    driver: CountingDriver,
) -> dict[str, Any]:
    store = service.system.store
    before_writer = store.writer_statistics()
    before_mail = await store.mail_counts()
    before_rows = collections.Counter(driver.rows)
    before_poller = poller.status()
    before_dispatched = dispatched(service)
    before_gc = gc_pauses.copy()
    sent.clear()

    started = time.perf_counter()
    await poller.poll_once()
    polled = time.perf_counter()
    with trio.fail_after(POLL_DEADLINE_S):
        async with trio.open_nursery() as nursery:
            # A no-op message queued behind each observation: its reply means the actor has
            # handled (and committed) the observation.
            for torrent_hash in dict.fromkeys(sent):
                nursery.start_soon(
                    service.system.torrents.call,
                    torrent_hash,
                    Deliver(messages=(), source="bench"),
                    60.0,
                )
        while True:
            if await nothing_pending(service):
                break
            await trio.sleep(0.001)
    applied = time.perf_counter()

    after_mail = await store.mail_counts()
    await counters_settled(service, before_dispatched, after_mail, before_mail)
    after_writer = store.writer_statistics()
    after_poller = poller.status()
    rows = collections.Counter(driver.rows)
    rows.subtract(before_rows)
    return {
        "poll_once_s": polled - started,
        "poll_applied_s": applied - started,
        "store_writes": after_writer.writes - before_writer.writes,
        "transactions": after_writer.batches - before_writer.batches,
        "handoff_mail_rows": after_mail["handoffs"] - before_mail["handoffs"],
        "sql_rows_written": sum(rows.values()),
        "sql_rows_written_by_table": {table: n for table, n in sorted(rows.items()) if n},
        "file_listings": after_poller.file_listings - before_poller.file_listings,
        "observations": after_poller.observations - before_poller.observations,
        "gc_full_collections": gc_pauses.full - before_gc.full,
        "gc_pause_s": gc_pauses.seconds - before_gc.seconds,
    }


def summary(
    backend: str, scenario: str, tracked: int, changes: int, polls: list[dict[str, Any]]
) -> dict[str, Any]:
    def ms(key: str) -> dict[str, float]:
        values = [poll[key] * 1000 for poll in polls]
        return {
            f"{key[:-2]}_ms_p50": round(statistics.median(values), 2),
            f"{key[:-2]}_ms_p95": round(percentile(values, 0.95), 2),
            f"{key[:-2]}_ms_max": round(max(values), 2),
        }

    def mean(key: str) -> float:
        return round(statistics.fmean(poll[key] for poll in polls), 2)

    by_table: collections.Counter[str] = collections.Counter()
    for poll in polls:
        by_table.update(poll["sql_rows_written_by_table"])
    return {
        "benchmark": "poll_cost",
        "backend": backend,
        "scenario": scenario,
        "tracked": tracked,
        "changes_per_poll": changes,
        "polls": len(polls),
        **ms("poll_once_s"),
        **ms("poll_applied_s"),
        "store_writes_per_poll": mean("store_writes"),
        "transactions_per_poll": mean("transactions"),
        "handoff_mail_rows_per_poll": mean("handoff_mail_rows"),
        "writes_plus_handoffs_per_poll": round(mean("store_writes") + mean("handoff_mail_rows"), 2),
        "sql_rows_written_per_poll": mean("sql_rows_written"),
        "sql_rows_written_by_table_per_poll": {
            table: round(n / len(polls), 2) for table, n in sorted(by_table.items())
        },
        "file_listings_per_poll": mean("file_listings"),
        "observations_per_poll": mean("observations"),
        "gc_full_collections": sum(poll["gc_full_collections"] for poll in polls),
        "gc_pause_ms_total": round(sum(poll["gc_pause_s"] for poll in polls) * 1000, 1),
    }


async def run(backend: str, arguments: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    async with throwaway_database(backend) as url, started_service(url) as service:
        store = service.system.store
        driver = CountingDriver(store._driver)
        store._driver = driver  # type: ignore[assignment]
        started = time.perf_counter()
        tracked = await track(service, arguments.tracked, arguments.pack_episodes)
        setup_s = time.perf_counter() - started

        client = FakeClient(torrents=tracked)
        sent: list[str] = []

        async def send(torrent_hash: str, deliver: Deliver) -> None:
            sent.append(torrent_hash)
            await service.system.cast_torrent(torrent_hash, deliver)

        poller = DownloadPoller(
            client=client,  # type: ignore[arg-type]
            store=store,
            send=send,
            active_interval=5,
            idle_interval=30,
            wakeup=Wakeup(),
        )
        hashes = list(tracked)

        for torrent_hash in hashes:
            client.set_progress(torrent_hash, 0.01)
        initial = summary(
            backend,
            "initial",
            len(hashes),
            len(hashes),
            [await one_poll(service, poller, sent, driver)],
        )
        initial["setup_s"] = round(setup_s, 2)
        results.append(initial)

        changing = []
        cursor = 0
        for _ in range(arguments.polls):
            for _ in range(arguments.changes):
                torrent_hash = hashes[cursor % len(hashes)]
                cursor += 1
                torrent = tracked[torrent_hash]
                client.set_progress(torrent_hash, min(0.99, round(torrent.progress + 0.01, 4)))
            changing.append(await one_poll(service, poller, sent, driver))
        results.append(summary(backend, "changing", len(hashes), arguments.changes, changing))

        idle = [await one_poll(service, poller, sent, driver) for _ in range(arguments.polls)]
        results.append(summary(backend, "idle", len(hashes), 0, idle))

        stored = {row.hash: row for row in await store.unfinished_downloads()}
        mismatched = sum(
            1
            for torrent_hash, torrent in tracked.items()
            if stored[torrent_hash].progress != round(torrent.progress * 100, 2)
        )
        for result in results:
            result["downloads_not_matching_qbittorrent_at_end"] = mismatched
    return results


async def main(arguments: argparse.Namespace) -> None:
    gc.callbacks.append(gc_pauses)
    async with trio_asyncio.open_loop():
        for backend in arguments.backends:
            for result in await run(backend, arguments):
                print(json.dumps(result), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracked", type=int, default=2000)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--polls", type=int, default=30)
    parser.add_argument("--pack-episodes", type=int, default=12)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    trio.run(main, parser.parse_args())
