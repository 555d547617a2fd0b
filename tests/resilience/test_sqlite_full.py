"""A SQLite database that cannot grow (a full disk) is an outage like any other, and ends alone."""

from __future__ import annotations

import sqlite3

import trio

from tests.support.fixtures import load_fixture
from tests.support.service import started_service, wait_until


async def _set_max_pages(driver: object, pages: int | None) -> None:
    """Set the limit on both writing connections (the thread's and the event loop's)."""
    writers: list[sqlite3.Connection] = [
        driver._writer,  # type: ignore[attr-defined]
        driver._inline_writer,  # type: ignore[attr-defined]
    ]
    limiter: trio.CapacityLimiter = driver._write_limiter  # type: ignore[attr-defined]

    def set_limit() -> None:
        for writer in writers:
            current = writer.execute("PRAGMA page_count").fetchone()[0]
            writer.execute(f"PRAGMA max_page_count = {pages if pages is not None else current}")

    await trio.to_thread.run_sync(set_limit, limiter=limiter)


async def test_a_full_database_answers_503_then_recovers_without_a_restart(
    sqlite_url: str,
) -> None:
    async with started_service(sqlite_url) as service:
        store = service.system.store
        await service.post_fixture("jellyseerr/media_auto_approved_movie.json")
        await service.settled()

        await _set_max_pages(store._driver, None)  # the disk is full from here on
        grab = load_fixture("radarr/grab.json")
        grab["padding"] = "x" * 200_000  # needs pages the database can no longer get
        refused = await service.post_webhook("radarr", grab)
        assert refused.status_code == 503, refused.text
        assert refused.headers.get("Retry-After")
        health = await service.http.get("/health")
        assert health.status_code == 503
        assert "full" in health.json()["database"]["error"]

        await _set_max_pages(store._driver, 1_000_000)  # space freed
        await wait_until(
            lambda: _status_is(service, 200), what="/health to recover without a restart"
        )
        accepted = await service.post_fixture("radarr/grab.json", movie__tags=[])
        assert accepted.json()["accepted"] is True
        await service.settled()
        (item,) = await service.requests()
        assert item["state"] == "grabbing"
        root = service.system.root
        assert root is not None
        assert root.statistics().state == "running"


async def _status_is(service: object, status: int) -> bool:
    response = await service.http.get("/health")  # type: ignore[attr-defined]
    return response.status_code == status
