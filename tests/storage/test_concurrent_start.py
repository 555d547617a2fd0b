"""Several processes starting on one fresh database: each migration is applied once, all start."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import trio
from status_tracker.storage import SaveRequest, Store, open_store
from status_tracker.storage._store import _migration_scripts

from status_tracker.domain import RequestRow

STARTS = 6
EVERY_VERSION = [version for version, _ in _migration_scripts("sqlite")]
MOVIE = RequestRow(id=1, media_type="movie", title="Movie", state="approved", tmdb_id=7)


async def versions_and_a_round_trip(store: Store) -> tuple[list[int], RequestRow | None]:
    """The versions recorded, and a request written and read back (the schema works)."""
    rows = await store.fetch("SELECT version FROM schema_migrations ORDER BY version")
    await store.commit([SaveRequest(row=MOVIE)])
    return [row["version"] for row in rows], await store.load_request(1)


def test_services_starting_together_on_one_sqlite_file_all_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    together = threading.Barrier(STARTS)
    failures: list[BaseException] = []

    async def start() -> None:
        async with open_store(url):
            pass

    def one_process() -> None:
        together.wait(timeout=30)
        try:
            trio.run(start)
        except BaseException as exc:
            failures.append(exc)

    # One thread per service, each with its own Trio run and its own SQLite connections: what
    # the file sees is what several processes would do.
    threads = [threading.Thread(target=one_process) for _ in range(STARTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []

    async def check() -> tuple[list[int], RequestRow | None]:
        async with open_store(url) as store:
            return await versions_and_a_round_trip(store)

    assert trio.run(check) == (EVERY_VERSION, MOVIE)


@pytest.mark.postgresql
async def test_services_starting_together_on_one_postgres_database_all_start(
    postgres_url: str,
) -> None:
    started = 0

    async def start() -> None:
        nonlocal started
        async with open_store(postgres_url):  # each with its own connection pool
            started += 1

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            for _ in range(STARTS):
                nursery.start_soon(start)
        async with open_store(postgres_url) as store:
            assert await versions_and_a_round_trip(store) == (EVERY_VERSION, MOVIE)
    assert started == STARTS
