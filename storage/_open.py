"""Opening a store from ``ST_DATABASE_URL``: pick the driver, migrate, run the writer."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import trio

from ._store import DatabaseUnavailable, Driver, Store

logger = logging.getLogger(__name__)


async def _connect_postgres(url: str, wait_s: float) -> Driver:
    from ._postgres import PostgresDriver

    deadline = trio.current_time() + wait_s
    delay = 0.5
    while True:
        try:
            return await PostgresDriver.connect(url)
        except DatabaseUnavailable as exc:
            if trio.current_time() + delay > deadline:
                raise
            logger.warning("waiting for PostgreSQL to accept connections: %s", exc)
            await trio.sleep(delay)
            delay = min(delay * 2, 5.0)


def parse_database_url(url: str) -> tuple[str, str]:
    """Split a database URL into (dialect, target).

    ``sqlite:///relative.db`` and ``sqlite:////absolute.db`` give a file path;
    ``postgresql://...`` (or ``postgres://``) is passed to asyncpg as it is.

    Raises:
        ValueError: the URL names no supported database.
    """
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if not path:
            raise ValueError("ST_DATABASE_URL sqlite:/// needs a file path")
        return "sqlite", path
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql", url
    raise ValueError(
        f"ST_DATABASE_URL must start with sqlite:/// or postgresql://, got {url.split(':')[0]!r}"
    )


@contextlib.asynccontextmanager
async def open_store(url: str, *, wait_s: float = 0.0) -> AsyncIterator[Store]:
    """Open, migrate and serve a store; its writer runs until the block exits.

    Opening blocks until the schema is current; a database that is not reachable yet (one
    starting beside the service) is tried again with backoff for up to ``wait_s`` seconds.
    Leaving cancels the writer and closes the connections.

    Raises:
        DatabaseUnavailable: the database was still unreachable after ``wait_s``.
    """
    dialect, target = parse_database_url(url)
    driver: Driver
    if dialect == "sqlite":
        from ._sqlite import SqliteDriver

        driver = SqliteDriver(target)
    else:
        driver = await _connect_postgres(target, wait_s)
    store = Store(driver)
    try:
        await store.migrate()
        async with trio.open_nursery() as nursery:
            await nursery.start(store.run_writer)
            await nursery.start(store.run_probe)
            yield store
            nursery.cancel_scope.cancel(reason="store closing")
    finally:
        await store.aclose()
