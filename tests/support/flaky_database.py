"""A real SQLite driver behind a switch that makes the database unreachable, for outage tests."""

from __future__ import annotations

import contextlib
import typing
from collections.abc import AsyncIterator, Sequence
from typing import Any

import trio
from status_tracker.storage import DatabaseUnavailable, Store
from status_tracker.storage._sqlite import SqliteDriver
from status_tracker.storage._store import Migration, Rows


@typing.final
class FlakyDriver:
    """Passes everything to a SQLite driver, except while ``down``: then it cannot connect."""

    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self._real = SqliteDriver(path)
        self.down = False
        self.calls = 0

    def _check(self) -> None:
        self.calls += 1
        if self.down:
            raise DatabaseUnavailable("connection refused (the test took the database down)")

    async def fetch(
        self, sql: str, args: Sequence[Any] = (), *, keyed: bool = False, custom_plan: bool = False
    ) -> Rows:
        self._check()
        return await self._real.fetch(sql, args, keyed=keyed, custom_plan=custom_plan)

    async def apply(
        self, items: Sequence[Sequence[Any]], *, in_place: bool = True
    ) -> list[list[Rows] | Exception]:
        self._check()
        return await self._real.apply(items, in_place=in_place)

    async def migrate(self, migrations: Sequence[Migration]) -> list[int]:
        self._check()
        return await self._real.migrate(migrations)

    async def aclose(self) -> None:
        await self._real.aclose()


@contextlib.asynccontextmanager
async def flaky_store(path: str) -> AsyncIterator[tuple[Store, FlakyDriver]]:
    """A migrated store over a FlakyDriver, with its writer and outage probe running."""
    driver = FlakyDriver(path)
    store = Store(driver)
    await store.migrate()
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(store.run_writer)
            await nursery.start(store.run_probe)
            yield store, driver
            nursery.cancel_scope.cancel()
    finally:
        await store.aclose()
