"""PostgreSQL driver: asyncpg driven from Trio through trio-asyncio."""

from __future__ import annotations

import re
import typing
from collections.abc import Sequence
from typing import Any

import asyncpg
import trio_asyncio

from ._sql import Statement, batched
from ._store import Rows

_PLACEHOLDER = re.compile(r"\?")


def numbered(sql: str) -> str:
    """Turn ``?`` placeholders into PostgreSQL's ``$1, $2, ...``."""
    counter = iter(range(1, 10_000))
    return _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)


@typing.final
class PostgresDriver:
    """Runs SQL on PostgreSQL through a small asyncpg pool (needs a trio-asyncio loop)."""

    dialect = "postgresql"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, url: str) -> PostgresDriver:
        pool = await trio_asyncio.aio_as_trio(asyncpg.create_pool)(url, min_size=1, max_size=4)
        return cls(pool)

    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> Rows:
        return await trio_asyncio.aio_as_trio(self._fetch)(numbered(sql), tuple(args))

    async def _fetch(self, sql: str, args: tuple[Any, ...]) -> Rows:
        async with self._pool.acquire() as connection:
            return [dict(row) for row in await connection.fetch(sql, *args)]

    async def apply(self, items: Sequence[Sequence[Statement]]) -> list[list[Rows] | Exception]:
        return await trio_asyncio.aio_as_trio(self._apply)(items)

    async def _apply(self, items: Sequence[Sequence[Statement]]) -> list[list[Rows] | Exception]:
        results: list[list[Rows] | Exception] = []
        async with self._pool.acquire() as connection, connection.transaction():
            for statements in items:
                try:
                    async with connection.transaction():  # nested: a savepoint per item
                        rows: list[Rows] = []
                        for sql, run in batched(statements):
                            if len(run) == 1:
                                fetched = await connection.fetch(numbered(sql), *run[0])
                                rows.append([dict(row) for row in fetched])
                            else:
                                await connection.executemany(numbered(sql), run)
                                rows.extend([] for _ in run)
                    results.append(rows)
                except asyncpg.PostgresError as exc:
                    results.append(exc)
        return results

    async def aclose(self) -> None:
        await trio_asyncio.aio_as_trio(self._pool.close)()
