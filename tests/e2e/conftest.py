"""The service under test, on SQLite by default."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.qbittorrent import qbittorrent_binary, qbt_pair
from tests.support.service import RunningService, started_service

__all__ = ["qbittorrent_binary", "qbt_pair", "service"]


@pytest.fixture
async def service(sqlite_url: str) -> AsyncIterator[RunningService]:
    async with started_service(sqlite_url) as running:
        yield running
