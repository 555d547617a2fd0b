"""``status-tracker backup PATH``: a consistent copy of the SQLite database, checked."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from status_tracker.storage import parse_database_url


class BackupRefused(Exception):
    """The backup cannot be made as asked (nothing was written); the message says why."""


class BackupFailed(Exception):
    """Copying or checking the copy failed; no copy is left behind."""


def backup(database_url: str, target: Path) -> str:
    """Copy the database to ``target`` (a new file) while the service may run; returns a summary.

    Raises:
        BackupRefused: not SQLite, no database yet, ``target`` exists or its folder does not.
        BackupFailed: SQLite could not copy, or the copy does not read back whole.
    """
    dialect, source = parse_database_url(database_url)
    if dialect != "sqlite":
        raise BackupRefused(
            "backup copies SQLite databases; for PostgreSQL use pg_dump "
            "(for example: pg_dump --format=custom --file=status-tracker.dump DBNAME)"
        )
    if not Path(source).is_file():
        raise BackupRefused(f"there is no database at {source} to back up")
    if target.exists() or target.is_symlink():
        raise BackupRefused(f"{target} already exists; name a new file")
    if not target.parent.is_dir():
        raise BackupRefused(f"the folder {target.parent} does not exist")
    try:
        # VACUUM INTO copies one read transaction: consistent while the service keeps writing.
        with contextlib.closing(_open_read_only(Path(source))) as database:
            database.execute("PRAGMA busy_timeout=5000")
            database.execute("VACUUM INTO ?", (str(target),))
        with contextlib.closing(_open_read_only(target)) as copy:
            (integrity,) = copy.execute("PRAGMA integrity_check").fetchone()
            if integrity != "ok":
                raise BackupFailed(f"the copy failed SQLite's integrity check: {integrity}")
            (requests,) = copy.execute("SELECT count(*) FROM requests").fetchone()
            (version,) = copy.execute("SELECT max(version) FROM schema_migrations").fetchone()
    except (sqlite3.Error, BackupFailed) as exc:
        target.unlink(missing_ok=True)
        raise BackupFailed(str(exc)) from exc
    return f"backup written to {target}: {requests} request(s), schema version {version}"


def _open_read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
