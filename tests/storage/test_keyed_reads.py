"""SQLite reads by key run on the event loop, but never wait there: told "busy", such a read
goes to the reader thread (which waits out the busy timeout); an outage is an outage."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from status_tracker.storage import DatabaseUnavailable, SaveRequest, Store, open_store

from tests.storage.test_contract import movie

SQLITE_BUSY_RECOVERY = 5 | (1 << 8)
SQLITE_IOERR_READ = 10 | (1 << 8)


class _Refusing:
    """A connection that answers every statement with one SQLite error."""

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        self.message = message
        self.asked = 0

    def execute(self, *_: Any) -> Any:
        self.asked += 1
        refused = sqlite3.OperationalError(self.message)
        refused.sqlite_errorcode = self.code  # type: ignore[attr-defined]
        raise refused

    def close(self) -> None:
        pass


def _keyed_connection(store: Store, replacement: _Refusing) -> None:
    store._driver._keyed_reader = replacement  # type: ignore[attr-defined]


async def test_a_keyed_read_told_busy_is_read_by_the_reader_thread(tmp_path: Path) -> None:
    async with open_store(f"sqlite:///{tmp_path / 'busy.db'}") as store:
        await store.commit([SaveRequest(row=movie(1))])
        busy = _Refusing(SQLITE_BUSY_RECOVERY, "database is locked")
        _keyed_connection(store, busy)
        assert await store.load_request(1) == movie(1)
        assert busy.asked == 1, "asked in place first"
        assert store.available


async def test_a_keyed_read_that_meets_an_outage_reports_it(tmp_path: Path) -> None:
    async with open_store(f"sqlite:///{tmp_path / 'broken.db'}") as store:
        _keyed_connection(store, _Refusing(SQLITE_IOERR_READ, "disk I/O error"))
        with pytest.raises(DatabaseUnavailable, match="disk I/O error"):
            await store.load_request(1)
        assert not store.available
