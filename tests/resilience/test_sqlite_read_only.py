"""Connections that can no longer write the database file (a file system remounted read-only
after an error, say) are opened again during the outage, so that the same file, writable again,
is taken up without a restart: connections opened read-only stay read-only after the fix.

(A read-only file at start stops the service with a message; another file put in the
database's place is refused until a restart: see ``test_sqlite_file_removed``.)
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import trio
from status_tracker.storage import DatabaseUnavailable, open_store


async def test_connections_open_read_only_are_opened_again_by_the_probe(tmp_path: Path) -> None:
    """Its writing connections read-only, as opened on a read-only file: the write fails, the
    probe opens them again, and they write."""
    database = tmp_path / "status-tracker.db"
    async with open_store(f"sqlite:///{database}") as store:
        await store.accept_webhook(source="s", kind="k", body="1", dedupe_key="1", now=1.0)
        driver = store._driver
        for name in ("_writer", "_inline_writer"):
            getattr(driver, name).close()
            setattr(driver, name, read_only_connection(database))

        with pytest.raises(DatabaseUnavailable, match="readonly"):
            await store.accept_webhook(source="s", kind="k", body="2", dedupe_key="2", now=1.0)
        with trio.fail_after(10):
            await store.wait_available()
        await store.accept_webhook(source="s", kind="k", body="2", dedupe_key="2", now=1.0)
        assert [row["body"] for row in await store.fetch("SELECT body FROM mail")] == ["1", "2"]


def read_only_connection(database: Path) -> sqlite3.Connection:
    return sqlite3.connect(
        f"{database.as_uri()}?mode=ro", uri=True, check_same_thread=False, isolation_level=None
    )
