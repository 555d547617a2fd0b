"""Link benchmark: one Sonarr Grab naming 1,100 episodes (a long-running anime batch).

Starts the service in-process (``tests.support.service.started_service``) on a fresh SQLite file
or a throwaway PostgreSQL database per run, POSTs one Grab built from
``tests/fixtures/sonarr/grab_anime_absolute.json`` with ``--episodes`` entries in ``episodes``
(split evenly over ``--seasons`` seasons), and waits until the inbox is drained
(``store.mail_counts()["pending"] == 0``) and ``GET /api/requests/{id}`` shows every episode
with the torrent hash. Prints one JSON object per run:

* ``http_ms``: latency of the webhook POST (stored durably, not yet applied);
* ``linked_ms``: from the start of the POST until the inbox was drained and the API showed every
  episode linked (polled every 5 ms; the API read that confirms it is not included);
* ``transactions``: delta of ``store.writer_statistics().batches``, one database transaction
  each; ``writes``: delta of ``.writes``, the ``Store.commit``/``accept_webhook`` calls those
  transactions carried (read once the dispatcher has returned from every new mail row, so the
  writer has counted them all); ``mail_rows``: webhook and hand-off rows the run added;
* ``sql_statements``: SQL statements run inside those transactions (counted by wrapping the
  store's driver in this script), ``transaction_ms``: how long each transaction took;
* ``episodes_linked``: episodes of the request whose ``torrent_hash`` is the grab's hash, as the
  API shows them, out of ``episodes_total``; ``api_get_ms``: that ``GET`` (1,100 episodes and
  the timeline, one entry per episode).

Usage: python bench/link_episodes.py [--runs 3] [--episodes 1100] [--seasons 1]
                                     [--backends sqlite postgresql]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import trio
import trio_asyncio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support is not installed with the package

from tests.support.databases import throwaway_database  # noqa: E402
from tests.support.service import API_TOKEN, started_service  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "sonarr" / "grab_anime_absolute.json"
DOWNLOAD_ID = "B47C4A1E0D9F8E7D6C5B4A39281706F5E4D3C2B1"
DEADLINE_S = 600.0


class CountingDriver:
    """Wraps the store's driver: counts the statements and times each write transaction."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.dialect = inner.dialect
        self.statements = 0
        self.transaction_s: list[float] = []

    async def fetch(
        self, sql: str, args: Sequence[Any] = (), *, keyed: bool = False, custom_plan: bool = False
    ) -> Any:
        return await self._inner.fetch(sql, args, keyed=keyed, custom_plan=custom_plan)

    async def apply(self, items: Sequence[Sequence[Any]], *, in_place: bool = True) -> Any:
        self.statements += sum(len(statements) for statements in items)
        started = time.perf_counter()
        try:
            return await self._inner.apply(items, in_place=in_place)
        finally:
            self.transaction_s.append(time.perf_counter() - started)

    async def aclose(self) -> None:
        await self._inner.aclose()


def grab_body(episodes: int, seasons: int) -> dict[str, Any]:
    """The fixture's Grab with ``episodes`` entries, S01E01.. spread over ``seasons`` seasons."""
    body = json.loads(FIXTURE.read_text())
    template = body["episodes"][0]
    per_season = -(-episodes // seasons)
    entries = []
    for number in range(1, episodes + 1):
        entry = copy.deepcopy(template)
        entry.update(
            id=100_000 + number,
            seasonNumber=(number - 1) // per_season + 1,
            episodeNumber=(number - 1) % per_season + 1,
            title=f"Episode {number}",
            tvdbId=9_000_000 + number,
        )
        entries.append(entry)
    body["episodes"] = entries
    body["release"]["releaseTitle"] = f"[Batch] Horimiya - 0001-{episodes:04d} (1080p)"
    body["release"]["size"] = episodes * 1_436_549_120
    body["downloadId"] = DOWNLOAD_ID
    return body


async def run(backend: str, number: int, episodes: int, seasons: int) -> dict[str, Any]:
    body = grab_body(episodes, seasons)
    torrent_hash = DOWNLOAD_ID.lower()
    async with throwaway_database(backend) as url, started_service(url) as service:
        store = service.system.store
        driver = CountingDriver(store._driver)
        store._driver = driver  # type: ignore[assignment]
        with trio.fail_after(30):
            while True:
                if (await store.mail_counts())["pending"] == 0:
                    break
                await trio.sleep(0.01)
        before = store.writer_statistics()
        before_mail = await store.mail_counts()
        dispatcher = service.system.dispatcher
        before_dispatched = dispatcher.dispatched + dispatcher.dead_lettered
        statements_before = driver.statements
        transactions_before = len(driver.transaction_s)

        started = time.perf_counter()
        response = await service.post_webhook("sonarr", body, timeout=60)
        http_s = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"webhook refused: {response.status_code} {response.text}")

        headers = {"Authorization": f"Bearer {API_TOKEN}"}
        detail: dict[str, Any] = {}
        api_get_s = 0.0
        with trio.fail_after(DEADLINE_S):
            while True:
                if (await store.mail_counts())["pending"] == 0:
                    linked_s = time.perf_counter() - started
                    listing = (
                        await service.http.get(
                            "/api/requests", params={"media_type": "tv"}, headers=headers
                        )
                    ).json()
                    if listing["items"]:
                        request_id = listing["items"][0]["id"]
                        asked = time.perf_counter()
                        detail = (
                            await service.http.get(
                                f"/api/requests/{request_id}", headers=headers, timeout=60
                            )
                        ).json()
                        api_get_s = time.perf_counter() - asked
                        hashes = [e["torrent_hash"] for e in detail["episodes"]]
                        if len(hashes) == episodes and set(hashes) == {torrent_hash}:
                            break
                await trio.sleep(0.005)
            # A mail row reads as applied when its transaction commits, a moment before the
            # writer counts that transaction; the dispatcher returns only after it was counted.
            after_mail = await store.mail_counts()
            new_mail = sum(after_mail[k] - before_mail[k] for k in ("webhooks", "handoffs"))
            while True:
                if dispatcher.dispatched + dispatcher.dead_lettered - before_dispatched >= new_mail:
                    break
                await trio.sleep(0.001)
        after = store.writer_statistics()
        run_transactions = driver.transaction_s[transactions_before:]
    linked = sum(1 for e in detail["episodes"] if e["torrent_hash"] == torrent_hash)
    return {
        "benchmark": "link_episodes",
        "backend": backend,
        "run": number,
        "episodes": episodes,
        "seasons": seasons,
        "http_ms": round(http_s * 1000, 2),
        "linked_ms": round(linked_s * 1000, 2),
        "transactions": after.batches - before.batches,
        "writes": after.writes - before.writes,
        "largest_batch": after.largest_batch,
        "mail_rows": new_mail,
        "sql_statements": driver.statements - statements_before,
        "transaction_ms": [round(s * 1000, 2) for s in run_transactions],
        "episodes_linked": linked,
        "episodes_total": len(detail["episodes"]),
        "request_state": detail["state"],
        "timeline_entries": len(detail["timeline"]),
        "api_get_ms": round(api_get_s * 1000, 2),
    }


async def main(arguments: argparse.Namespace) -> None:
    async with trio_asyncio.open_loop():
        for backend in arguments.backends:
            for number in range(1, arguments.runs + 1):
                result = await run(backend, number, arguments.episodes, arguments.seasons)
                print(json.dumps(result), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--episodes", type=int, default=1100)
    parser.add_argument("--seasons", type=int, default=1)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    trio.run(main, parser.parse_args())
