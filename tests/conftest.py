"""Fixtures shared by the whole suite: databases of both backends."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import hypothesis
import pytest
import trio_asyncio
from status_tracker.storage import Store, open_store

from tests.support.ci import in_ci, require_or_skip
from tests.support.databases import POSTGRES_ADMIN_URL, throwaway_postgres_database

__all__ = ["require_or_skip"]

# Property tests assert outcomes, never times: on a loaded 2-core machine one example can take
# longer than Hypothesis's default 200 ms deadline, which would fail a correct test. In CI the
# examples are derandomized, so a run can be repeated exactly; developers' runs explore.
hypothesis.settings.register_profile("status-tracker", deadline=None, derandomize=in_ci())
hypothesis.settings.load_profile("status-tracker")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last.

    Playwright's synchronous API keeps its own asyncio loop running in the main thread for as
    long as the session's browser is open; a trio-asyncio test (PostgreSQL) after it would find
    that loop instead of its own.
    """
    items.sort(key=lambda item: "tests/browser/" in item.nodeid.replace("\\", "/"))


@pytest.fixture
async def asyncio_loop() -> AsyncIterator[None]:
    """An asyncio loop under Trio for the tests' own asyncpg connections (making and dropping
    databases); the service's PostgreSQL driver runs asyncio on a thread of its own."""
    async with trio_asyncio.open_loop():
        yield


async def require_postgres() -> None:
    """Skip (or, in CI, fail) when the test PostgreSQL server cannot be reached."""
    try:
        connection = await trio_asyncio.aio_as_trio(asyncpg.connect)(POSTGRES_ADMIN_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        require_or_skip(f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}: {exc}")
    else:
        await trio_asyncio.aio_as_trio(connection.close)()


@pytest.fixture
async def postgres_url(asyncio_loop: None) -> AsyncIterator[str]:
    await require_postgres()
    async with throwaway_postgres_database() as url:
        yield url


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """022, as most systems have it: files are created world-readable unless asked not to."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'status-tracker.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, asyncio_loop: None
) -> AsyncIterator[str]:
    """A fresh database URL of each backend in turn."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'status-tracker.db'}"
    else:
        await require_postgres()
        async with throwaway_postgres_database() as url:
            yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
async def backend(request: pytest.FixtureRequest, asyncio_loop: None) -> str:
    """Each backend's name in turn, for code that makes its own databases (PostgreSQL's on the
    server named by ST_TEST_POSTGRES_URL, which answers)."""
    if request.param == "postgresql":
        await require_postgres()
    return request.param


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    async with open_store(database_url) as opened:
        yield opened
