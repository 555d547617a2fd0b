"""The service under test, on SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.service import RunningService, started_service


@pytest.fixture
async def service(sqlite_url: str) -> AsyncIterator[RunningService]:
    async with started_service(sqlite_url) as running:
        yield running
