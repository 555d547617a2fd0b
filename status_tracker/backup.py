"""``status-tracker backup PATH``: a consistent copy of the SQLite database, checked; and
``status-tracker restore BACKUP``: such a copy put back in place of the database, safely."""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from status_tracker.storage import parse_database_url

from .checks import latest_schema_version

# Where SQLite takes its locks in a database file (https://www.sqlite.org/fileformat.html,
# "the lock-byte page"; os_unix.c): fixed by the file format, or two versions of SQLite
# sharing a file would not see each other's locks. Every connection to a WAL database holds
# a read lock in the shared range for as long as it is open, busy or idle.
_PENDING_BYTE = 0x40000000
_SHARED_FIRST = _PENDING_BYTE + 2
_SHARED_SIZE = 510
_OWN_TABLES = {"schema_migrations", "requests", "settings"}
"""Tables every status-tracker database has, whatever its schema version."""
LEFT_BESIDE = ("-wal", "-shm", "-journal")
"""The files SQLite keeps beside a database: a log, its index, a rollback journal. Left by a
crashed service, SQLite replays them into whatever file is then at the database's path."""


class BackupRefused(Exception):
    """The backup cannot be made as asked (nothing was written); the message says why."""


class BackupFailed(Exception):
    """Copying or checking the copy failed; no copy is left behind."""


class RestoreRefused(BackupRefused):
    """The backup cannot be restored as asked (nothing was changed); the message says why."""


class RestoreFailed(BackupFailed):
    """Copying the backup failed; the database was left as it was, or without its stale -wal
    and -shm files (a copy not yet in place is removed)."""


def backup(database_url: str, target: Path) -> str:
    """Copy the database to ``target`` (a new file) while the service may run; returns a summary.

    The copy is readable by its owner only: it holds the webhook and API tokens.

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
    if not target.parent.is_dir():
        raise BackupRefused(f"the folder {target.parent} does not exist")
    try:
        # Created here, empty (VACUUM INTO fills an empty file): private, and never a file
        # that appeared since the check.
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        raise BackupRefused(f"{target} already exists; name a new file") from None
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


def restore(database_url: str, source: Path) -> str:
    """Put the backup ``source`` in place of the database, the service stopped; returns a
    summary.

    The backup is checked first (SQLite's integrity check; a status-tracker database of a
    schema this version can open). The ``-wal``, ``-shm`` and ``-journal`` files beside the
    database (a crashed service's) are removed: SQLite would replay them into the restored
    copy. The copy is written beside the database, synced, and renamed over it: the database
    is whole at every moment, the old one or the restored one. It keeps the old file's mode
    and owner; a new one is readable by its owner only.

    Raises:
        RestoreRefused: not SQLite, no such backup, not a whole status-tracker database of a
            schema this version knows, or the database is open in another process (the
            service running).
        RestoreFailed: copying failed.
    """
    dialect, target = parse_database_url(database_url)
    if dialect != "sqlite":
        raise RestoreRefused(
            "restore puts back SQLite databases; for PostgreSQL use pg_restore "
            "(for example: pg_restore --clean --dbname=DBNAME status-tracker.dump)"
        )
    database = Path(os.path.realpath(target))  # SQLite's -wal is beside the file a link leads to
    if not source.is_file():
        raise RestoreRefused(f"there is no backup at {source}")
    if not database.parent.is_dir():
        raise RestoreRefused(f"the folder {database.parent} does not exist")
    if database.exists() and database.samefile(source):
        raise RestoreRefused(f"{source} is the database itself; name a backup")
    requests, version = _checked_backup(source)
    with _not_open_elsewhere(database) as previous:
        copy = _copy_beside(source, database, previous)
        try:
            removed = [
                f"{database}{suffix}"
                for suffix in LEFT_BESIDE
                if _removed(Path(f"{database}{suffix}"))
            ]
            os.replace(copy, database)
        except OSError as exc:
            copy.unlink(missing_ok=True)
            raise RestoreFailed(f"could not put the copy in place: {exc}") from exc
        _sync_folder(database.parent)
    summary = f"restored {database} from {source}: {requests} request(s), schema version {version}"
    if version < (latest := latest_schema_version()):
        summary += f" (migrated to {latest} at the next start)"
    if removed:
        summary += f"; removed the old {', '.join(removed)}"
    return summary


def _checked_backup(source: Path) -> tuple[int, int]:
    """The requests and schema version of ``source``, once it proves a whole status-tracker
    database this version can open."""
    try:
        with contextlib.closing(_open_read_only(source)) as backup:
            (integrity,) = backup.execute("PRAGMA integrity_check").fetchone()
            if integrity != "ok":
                found = "; ".join(integrity.splitlines())  # one line: the refusal is one
                raise RestoreRefused(f"{source} fails SQLite's integrity check: {found}")
            tables = {name for (name,) in backup.execute("SELECT name FROM sqlite_master")}
            version = None
            if tables >= _OWN_TABLES:
                (version,) = backup.execute("SELECT max(version) FROM schema_migrations").fetchone()
            if version is None:
                raise RestoreRefused(f"{source} is not a status-tracker database")
            if version > (latest := latest_schema_version()):
                raise RestoreRefused(
                    f"{source} has schema version {version}, newer than this status-tracker "
                    f"knows ({latest}): restore it with the version that wrote it"
                )
            (requests,) = backup.execute("SELECT count(*) FROM requests").fetchone()
    except sqlite3.Error as exc:
        raise RestoreRefused(f"{source} cannot be read whole as a SQLite database: {exc}") from exc
    return requests, version


@contextlib.contextmanager
def _not_open_elsewhere(database: Path) -> Iterator[os.stat_result | None]:
    """Hold SQLite's exclusive lock on ``database`` (when there is one) while it is replaced;
    yields its status, or None when there is no database yet.

    The service keeps its connections open, and each holds SQLite's shared lock on the file
    as long as it is open, idle or not: taking the exclusive lock is refused while the service
    (or any other process: a backup, the sqlite3 shell) has the database open, and it stops
    any from opening it meanwhile. A lock file or a PID file would say only that some process
    once started; this lock ends with the process that held it, however it ended.
    """
    try:
        descriptor = os.open(database, os.O_RDWR)
    except FileNotFoundError:
        yield None
        return
    except OSError as exc:
        raise RestoreRefused(
            f"cannot open {database} to check that it is not in use: {exc.strerror}"
        ) from None
    try:
        try:
            fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _PENDING_BYTE)
            fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB, _SHARED_SIZE, _SHARED_FIRST)
        except OSError:
            raise RestoreRefused(
                f"{database} is open in another process: stop the service (and any backup "
                "running), then restore"
            ) from None
        yield os.fstat(descriptor)
    finally:
        os.close(descriptor)  # lets go of the locks


def _copy_beside(source: Path, database: Path, previous: os.stat_result | None) -> Path:
    """A consistent copy of ``source`` in a new file beside ``database``, synced to disk,
    with the mode and owner of ``previous`` (the file it replaces); else private (0600), and
    owned as its folder is (root restoring for a service running as its own user, in Docker)."""
    descriptor, name = tempfile.mkstemp(prefix=f".{database.name}.restoring-", dir=database.parent)
    copy = Path(name)
    try:
        try:
            owner = previous or os.stat(database.parent)
            if previous is not None:
                os.fchmod(descriptor, stat.S_IMODE(previous.st_mode))
            if (owner.st_uid, owner.st_gid) != (os.geteuid(), os.getegid()):
                with contextlib.suppress(PermissionError):  # only root may give files away
                    os.fchown(descriptor, owner.st_uid, owner.st_gid)
        finally:
            os.close(descriptor)
        with contextlib.closing(_open_read_only(source)) as backup:
            backup.execute("VACUUM INTO ?", (str(copy),))  # into the empty file made above
        descriptor = os.open(copy, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except (OSError, sqlite3.Error) as exc:
        copy.unlink(missing_ok=True)
        raise RestoreFailed(f"could not copy {source} beside {database}: {exc}") from exc
    return copy


def _removed(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def _sync_folder(folder: Path) -> None:
    """Make the rename durable: a crash now leaves the restored copy in place."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _open_read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
