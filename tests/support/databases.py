"""Throwaway databases of both backends, for tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator

import asyncpg
import trio_asyncio

POSTGRES_ADMIN_URL = os.environ.get(
    "ST_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@contextlib.asynccontextmanager
async def throwaway_postgres_database(
    prefix: str = "st_test", *, admin_url: str = POSTGRES_ADMIN_URL
) -> AsyncIterator[str]:
    """A new, empty PostgreSQL database on the server of ``admin_url`` (``ST_TEST_POSTGRES_URL``
    by default), dropped afterwards. Needs a trio-asyncio loop.

    Raises:
        OSError, asyncpg.PostgresError: the server is unreachable.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = await trio_asyncio.aio_as_trio(asyncpg.connect)(admin_url, timeout=5)
    try:
        await trio_asyncio.aio_as_trio(admin.execute)(f'CREATE DATABASE "{name}"')
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
        await trio_asyncio.aio_as_trio(admin.execute)(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await trio_asyncio.aio_as_trio(admin.close)()


@contextlib.asynccontextmanager
async def throwaway_database(backend: str) -> AsyncIterator[str]:
    """A fresh database URL of ``backend`` (``sqlite`` or ``postgresql``)."""
    if backend == "postgresql":
        async with throwaway_postgres_database("st_bench") as url:
            yield url
    else:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
