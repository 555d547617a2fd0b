"""Recovery-sweep benchmark: what one sweep costs with ``--stalled`` stalled downloads.

Stores ``--stalled`` downloading requests (every tenth a season pack of ``--pack-episodes``
episodes, the others movies), each with its own stalled download, unchanged for longer than
the stuck period, on SQLite and on PostgreSQL. A real ``RecoverySweeper`` then sweeps
``--sweeps`` times against that Store and a real ``QBittorrentClient`` talking to the fake
qBittorrent of the tests (through an httpx mock transport: no sockets), the clock moved on a
stuck period between sweeps so that each sweep re-reads every download.

Per sweep (mean): ``storage_reads`` (the driver's ``fetch`` calls), ``qbittorrent_calls``
(API requests but the login, broken down in ``qbittorrent_calls_by_path``), ``sweep_ms``
(wall) and ``sweep_cpu_ms`` (this process's CPU: the store, the sweeper and the fake all run
in it), p50 over the sweeps. ``rereads`` counts the downloads re-read per sweep (expected:
``--stalled``).

Usage: python bench/sweep_cost.py [--stalled 200] [--sweeps 5] [--pack-episodes 12]
                                  [--backends sqlite postgresql] [--quick]
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import trio
import trio_asyncio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from status_tracker.actors.recovery.sweeper import RecoverySweeper
from status_tracker.clients.qbittorrent import QBittorrentClient
from status_tracker.storage import Store, open_store

from tests.support.databases import throwaway_database
from tests.support.fake_qbittorrent import FakeQBittorrent
from tests.support.mock_transport import mock_transport
from tests.support.stalled import stalled
from tests.support.stalled import torrent_hash as torrent_hash_of

STUCK_AFTER = 300.0


def stalled_world(count: int, pack_episodes: int) -> tuple[list[Any], FakeQBittorrent]:
    ops: list[Any] = []
    qbittorrent = FakeQBittorrent("admin", "secret")
    for number in range(1, count + 1):
        world = stalled(number, pack_episodes=pack_episodes if number % 10 == 0 else 0)
        ops.extend(world.ops())
        torrent_hash = torrent_hash_of(number)
        qbittorrent.add_torrent(torrent_hash, state="stalledDL", progress=0.12, num_seeds=0)
        if world.episodes:
            qbittorrent.files[torrent_hash] = [
                {"index": n, "name": f"Pack/E{e.episode:02d}.mkv", "size": 10, "progress": 0.12}
                for n, e in enumerate(world.episodes)
            ]
    return ops, qbittorrent


async def measure(store: Store, args: argparse.Namespace) -> dict[str, Any]:
    ops, fake = stalled_world(args.stalled, args.pack_episodes)
    await store.commit(ops)
    reads = 0
    fetch = store._driver.fetch

    async def counted_fetch(*a: Any, **k: Any) -> Any:
        nonlocal reads
        reads += 1
        return await fetch(*a, **k)

    store._driver.fetch = counted_fetch  # type: ignore[method-assign]
    clock = [0.0]
    noted = collections.Counter[str]()

    async def call_request(_request_id: int, deliver: Any) -> None:
        for message in deliver.messages:
            noted[message.event] += 1

    async def send_torrent(_hash: str, _deliver: Any) -> None:
        await trio.lowlevel.checkpoint()

    async with httpx.AsyncClient(transport=mock_transport(fake.answer)) as http:
        client = QBittorrentClient("http://qbittorrent", "admin", "secret", http=http)
        await client.login()
        sweeper = RecoverySweeper(
            source=store,
            now=lambda: clock[0],
            call_request=call_request,
            send_torrent=send_torrent,
            downloads=client,
            find_in_library=None,
            stuck_after=STUCK_AFTER,
            interval=60.0,
        )
        per_sweep: list[dict[str, Any]] = []
        for _ in range(args.sweeps):
            clock[0] += STUCK_AFTER
            reads, fake.paths[:] = 0, []
            wall, cpu = time.perf_counter(), time.process_time()
            done = await sweeper.sweep_once()
            per_sweep.append(
                {
                    "sweep_ms": (time.perf_counter() - wall) * 1000,
                    "sweep_cpu_ms": (time.process_time() - cpu) * 1000,
                    "storage_reads": reads,
                    "qbittorrent_calls_by_path": collections.Counter(fake.paths),
                    "rereads": len(done),
                }
            )
    by_path: collections.Counter[str] = collections.Counter()
    for sweep in per_sweep:
        by_path.update(sweep["qbittorrent_calls_by_path"])
    return {
        "storage_reads": statistics.mean(s["storage_reads"] for s in per_sweep),
        "qbittorrent_calls": by_path.total() / len(per_sweep),
        "qbittorrent_calls_by_path": {p: n / len(per_sweep) for p, n in sorted(by_path.items())},
        "sweep_ms_p50": round(statistics.median(s["sweep_ms"] for s in per_sweep), 2),
        "sweep_cpu_ms_p50": round(statistics.median(s["sweep_cpu_ms"] for s in per_sweep), 2),
        "rereads": statistics.mean(s["rereads"] for s in per_sweep),
        "timeline_notes": dict(noted),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results = {}
    async with trio_asyncio.open_loop():
        for backend in args.backends:
            async with throwaway_database(backend) as url, open_store(url) as store:
                results[backend] = await measure(store, args)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stalled", type=int, default=200)
    parser.add_argument("--sweeps", type=int, default=5)
    parser.add_argument("--pack-episodes", type=int, default=12)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--quick", action="store_true", help="20 stalled downloads, 2 sweeps")
    args = parser.parse_args()
    if args.quick:
        args.stalled, args.sweeps = 20, 2
    results = trio.run(run, args)
    print(json.dumps({"benchmark": "sweep_cost", "stalled": args.stalled, **results}))


if __name__ == "__main__":
    main()
