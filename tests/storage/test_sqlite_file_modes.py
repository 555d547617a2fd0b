"""The SQLite database holds the webhook and API tokens: a new one is readable by its owner
only, and so are its -wal and -shm files; an existing file keeps the mode its owner gave it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from status_tracker.storage import open_store

pytestmark = pytest.mark.usefixtures("usual_umask")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    database = tmp_path / "data" / "status-tracker.db"
    async with open_store(f"sqlite:///{database}") as store:
        await store.accept_webhook(source="s", kind="k", body="b", dedupe_key="d", now=1.0)
        modes = {
            name: mode(tmp_path / "data" / name) for name in sorted(os.listdir(database.parent))
        }
    assert modes == {
        "status-tracker.db": 0o600,
        "status-tracker.db-shm": 0o600,
        "status-tracker.db-wal": 0o600,
    }


async def test_an_existing_database_keeps_its_mode(tmp_path: Path) -> None:
    database = tmp_path / "status-tracker.db"
    database.touch()
    database.chmod(0o640)
    async with open_store(f"sqlite:///{database}") as store:
        await store.accept_webhook(source="s", kind="k", body="b", dedupe_key="d", now=1.0)
    assert mode(database) == 0o640
