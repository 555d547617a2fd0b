"""Optional parts: PostgreSQL support (``pip install '.[postgresql]'``: asyncpg driven from
Trio through trio-asyncio) is imported, and its asyncio loop opened, only for a PostgreSQL
``ST_DATABASE_URL``; SQLite needs neither."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator

from status_tracker.storage import parse_database_url

POSTGRESQL_MODULES = ("asyncpg", "trio_asyncio")
POSTGRESQL_MISSING = (
    "ST_DATABASE_URL is a PostgreSQL URL but PostgreSQL support is not installed; "
    "install it with: pip install '.[postgresql]' (from the source folder)"
)


def is_postgresql(database_url: str) -> bool:
    try:
        return parse_database_url(database_url)[0] == "postgresql"
    except ValueError:
        return False


def postgresql_missing(database_url: str) -> str | None:
    """The one-line error to show when the URL needs the extra and it is not installed."""
    if not is_postgresql(database_url):
        return None
    try:
        for name in POSTGRESQL_MODULES:
            importlib.import_module(name)
    except ImportError:
        return POSTGRESQL_MISSING
    return None


@contextlib.asynccontextmanager
async def asyncio_loop_for(database_url: str) -> AsyncIterator[None]:
    """An asyncio loop under Trio while the block runs, only for PostgreSQL (asyncpg needs
    one), and only if there is none already (tests open their own)."""
    if not is_postgresql(database_url):
        yield
        return
    import trio_asyncio

    if trio_asyncio.current_loop.get() is not None:
        yield
        return
    async with trio_asyncio.open_loop():
        yield
