"""SQLite driver: the embedded default. WAL; a writer connection and two readers in threads;
reads of a few rows by key, and small write transactions, on the event loop. The file removed
or replaced under it is an outage until the service restarts; a file that could not be written
(read-only, an I/O error) is one that ends once it can: the connections are opened again."""

from __future__ import annotations

import contextlib
import math
import os
import sqlite3
import stat
import sys
import time
import typing
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import trio

from ._sql import Statement, batched
from ._store import MIGRATIONS_TABLE, DatabaseUnavailable, Migration, Rows, StorageError

# Primary result codes that say the database cannot work now (busy, locked, out of memory,
# read-only, I/O error, full disk, cannot open, lock protocol) rather than that one statement
# was wrong: https://www.sqlite.org/rescode.html
_OUTAGE_CODES = frozenset({5, 6, 7, 8, 10, 13, 14, 15})
_REOPEN_CODES = frozenset({8, 10, 14})
"""Read-only, I/O error, cannot open: outages that the connections open now may never see end
(a file opened read-only stays so after ``chmod``; a failed disk's descriptor stays failed), so
the connections are opened again before the next try."""
_BUSY = 5
_BUSY_TIMEOUT_MS = 30_000
_READERS = 2
INLINE_STATEMENTS = 256
"""A write transaction of at most this many statements runs on the event loop (~2 ms)."""
INLINE_BUDGET_S = 0.005
"""When inline transactions take longer than this on average (smoothed: one slowed a little by
a loaded machine does not count, one of 25 ms does), as a slow disk's sync does, the
writes of the next ``INLINE_PAUSE_S`` go to the writer thread, and the next inline one is a
fresh try: a disk that stays slow stalls the event loop once a pause, not every write."""
INLINE_PAUSE_S = 10.0
_SMOOTHING = 0.2
INLINE_CHECKPOINT_EVERY = 64
"""After this many inline transactions, the next goes to the writer thread, whose connection
checkpoints the log (copies it into the database file and syncs that: the slow part of
writing, which the inline connection never does, so the loop never waits for it)."""


def _busy(exc: BaseException) -> bool:
    """Whether SQLite answered "busy" (any of its extended codes)."""
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF == _BUSY


@contextlib.contextmanager
def _outages_raised() -> Iterator[None]:
    """Raise what SQLite reports as an outage (``_outage``) as ``DatabaseUnavailable``; an
    error of one statement goes on as it is."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        outage = _outage(exc)
        if outage is None:
            raise
        raise outage from exc


@contextlib.contextmanager
def _busy_passed_over() -> Iterator[None]:
    """For work in place on the event loop: outages raised as ``_outages_raised`` does, but
    "busy" swallowed, so that the caller goes on to hand the work to a thread, which waits."""
    try:
        with _outages_raised():
            yield
    except DatabaseUnavailable as exc:
        if not _busy(exc.__cause__):
            raise


def _outage(exc: BaseException) -> DatabaseUnavailable | None:
    """The outage ``exc`` reports, or None when it is an error of one statement."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(exc, sqlite3.Error) and code is not None and code & 0xFF in _OUTAGE_CODES:
        return DatabaseUnavailable(f"SQLite: {exc}")
    if isinstance(exc, OSError):
        return DatabaseUnavailable(f"SQLite: {exc}")
    return None


def _identity(path: str) -> tuple[int, int] | None:
    """The device and inode of the file at ``path``, or None when there is none."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino


def _create_private(path: str) -> None:
    """Create ``path`` empty, readable by its owner only (it holds the generated tokens), unless
    it exists: an existing file keeps the mode its owner gave it. SQLite gives the ``-wal`` and
    ``-shm`` files it creates beside it the same mode."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(descriptor)  # no connection is open on it yet: no lock is let go of


def _rows(cursor: sqlite3.Cursor) -> Rows:
    """Every row the statement gives, as a dict by column name."""
    if cursor.description is None:
        return []
    # Interned, the names match a record's field names by identity: ``Row(**row)`` is then
    # twice as fast (each keyword is otherwise compared by value with every parameter).
    names = [sys.intern(column[0]) for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _run(connection: sqlite3.Connection, statements: Sequence[Statement]) -> list[Rows]:
    """Run one item's statements; the rows each returned."""
    rows: list[Rows] = []
    for sql, run in batched(statements):
        if len(run) == 1:
            rows.append(_rows(connection.execute(sql, run[0])))
        else:
            connection.executemany(sql, run)
            rows.extend([] for _ in run)
    return rows


@typing.final
class SqliteDriver:
    """Runs SQL on a SQLite file; calls go through Trio worker threads, one at a time per role,
    except keyed reads and small writes, which run in place."""

    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self._path = path
        self._file: tuple[int, int] | None = None
        """The database file the connections write (device, inode); None for ``:memory:``."""
        self._log: tuple[int, int] | None = None
        """Its ``-wal`` file, once there is one."""
        self._shm: tuple[int, int] | None = None
        """Its ``-shm`` file, likewise."""
        self._reopen: str | None = None
        """Why the connections must be opened again before they are used, if they must."""
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            _create_private(path)
        # SQLite puts the log and its index beside the file a symbolic link leads to.
        beside = path if path == ":memory:" else os.path.realpath(path)
        self._log_path = f"{beside}-wal"
        self._shm_path = f"{beside}-shm"
        self._inline_paused_until = -math.inf
        self._inline_s = 0.0  # how long an inline transaction takes, smoothed
        self._inline_since_thread = 0
        self._open_connections()
        self._write_limiter = trio.CapacityLimiter(1)
        # The writer thread's own: Trio's default limiter is shared (name look-ups take it,
        # and keep it while they hang), and writes must not queue behind them.
        self._writer_thread = trio.CapacityLimiter(1)
        self._read_limiter = trio.CapacityLimiter(_READERS)

    def _open_connections(self) -> None:
        """Open every connection, and note which file they write."""
        opened: list[sqlite3.Connection] = []

        def connect(*, busy_timeout_ms: int = _BUSY_TIMEOUT_MS) -> sqlite3.Connection:
            opened.append(self._connect(self._path, busy_timeout_ms=busy_timeout_ms))
            return opened[-1]

        try:
            writer = connect()
            self._use_wal(writer)
            # FULL: an accepted webhook survives power loss, not only a killed process.
            writer.execute("PRAGMA synchronous=FULL")
            file = None if self._path == ":memory:" else _identity(self._path)
            # Two readers: a title search's count reads beside its page (SQLite lets go of the
            # GIL while it searches), and neither waits behind the other.
            readers = [connect() for _ in range(_READERS)]
            # Reads of a few rows by key run on the event loop: a thread hand-off costs ten
            # times such a read (~110 against ~10 us), and the dispatcher makes several per
            # wave. WAL readers wait for no writer; should this one be told "busy" all the
            # same, it never waits on the loop: the read goes to the reader thread.
            keyed_reader = connect(busy_timeout_ms=0)
            # Likewise a small write transaction: in a webhook burst, handed to a thread, one
            # took 5 ms for 1.3 ms of work (the hand-off both ways, the GIL taken back after
            # each statement), and the webhooks' 200s wait for it. Told "busy" (another
            # process writes), it goes to the writer thread, which waits out the busy timeout.
            inline_writer = connect()
            inline_writer.execute("PRAGMA synchronous=FULL")
            inline_writer.execute("PRAGMA wal_autocheckpoint=0")
            # Only now: setting those reads the file, which another process starting on it at
            # the same moment may hold locked for a while (switching it to WAL, migrating).
            inline_writer.execute("PRAGMA busy_timeout=0")
        except BaseException:
            for connection in opened:
                connection.close()
            raise
        self._writer = writer
        self._readers = readers
        self._keyed_reader = keyed_reader
        self._inline_writer = inline_writer
        self._file = file
        self._log = self._shm = None
        if file is not None:
            self._log = _identity(self._log_path)
            self._shm = _identity(self._shm_path)

    def _close_connections(self) -> None:
        """Close every connection (again: closing a closed one does nothing)."""
        for connection in (self._writer, self._inline_writer, self._keyed_reader, *self._readers):
            connection.close()

    @staticmethod
    def _use_wal(connection: sqlite3.Connection) -> None:
        """Switch the file to WAL. Services opening a new file together all ask for the switch,
        and SQLite answers "locked" at once, without its busy timeout, to all but one: ask
        again for as long as the busy timeout would have waited."""
        deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
        pause = 0.005
        while True:
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.2)

    @staticmethod
    def _connect(path: str, *, busy_timeout_ms: int = _BUSY_TIMEOUT_MS) -> sqlite3.Connection:
        # mode=rw: never create the file (``__init__`` created a missing one, private; a
        # reopen must not put an empty database where the user's was).
        target = path if path == ":memory:" else f"{Path(path).absolute().as_uri()}?mode=rw"
        # Trio's thread cache does not pin a thread to a connection; the limiters serialise use.
        connection = sqlite3.connect(
            target, check_same_thread=False, isolation_level=None, uri=path != ":memory:"
        )
        connection.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        return connection

    async def fetch(
        self, sql: str, args: Sequence[Any] = (), *, keyed: bool = False, custom_plan: bool = False
    ) -> Rows:
        if self._reopen is not None:
            await trio.lowlevel.checkpoint()
            raise DatabaseUnavailable(self._reopen)
        try:
            if keyed:
                await trio.lowlevel.checkpoint()
                with _busy_passed_over():
                    return _rows(self._keyed_reader.execute(sql, tuple(args)))
            return await trio.to_thread.run_sync(
                self._fetch, sql, tuple(args), limiter=self._read_limiter
            )
        except DatabaseUnavailable as exc:
            self._note(exc)
            raise

    def _fetch(self, sql: str, args: tuple[Any, ...]) -> Rows:
        if self._reopen is not None:
            raise DatabaseUnavailable(self._reopen)
        reader = self._readers.pop()  # the limiter lets no more threads in than there are readers
        try:
            with _outages_raised():
                rows = _rows(reader.execute(sql, args))
                # Here too (a thread hand-off costs ~100 times the check): /health reads this
                # way, and tells of a removed file with no write needed.
                self._still_at_path()
                return rows
        finally:
            self._readers.append(reader)

    async def apply(
        self, items: Sequence[Sequence[Statement]], *, in_place: bool = True
    ) -> list[list[Rows] | Exception]:
        async with self._write_limiter:  # taking it is a checkpoint: inline needs no other
            if self._reopen is not None:
                await self._reopen_connections()
            try:
                return await self._apply_now(items, in_place=in_place)
            except DatabaseUnavailable as exc:
                self._note(exc)
                raise

    async def _apply_now(
        self, items: Sequence[Sequence[Statement]], *, in_place: bool
    ) -> list[list[Rows] | Exception]:
        if in_place and self._inline(items):
            started = time.monotonic()
            try:
                with _busy_passed_over():
                    results = self._apply_in_transaction(self._inline_writer, items)
                    self._inline_since_thread += 1
                    return results
            finally:
                self._inline_took(time.monotonic() - started)
        self._inline_since_thread = 0
        return await trio.to_thread.run_sync(self._apply, items, limiter=self._writer_thread)

    def _note(self, outage: DatabaseUnavailable) -> None:
        """Remember to open the connections again when ``outage`` is one they may not see end."""
        if getattr(outage.__cause__, "sqlite_errorcode", 0) & 0xFF in _REOPEN_CODES:
            self._reopen = str(outage)

    def _still_at_path(self) -> None:
        """Raise ``DatabaseUnavailable`` unless the database file and its ``-wal`` at the path
        are still the files the connections write.

        SQLite goes on writing into a file removed (or replaced) under it, and answers as if
        all were well: what it commits is lost with the file. Checked once per transaction,
        after its COMMIT and before it is reported done (a stat of each file: 3 us in all,
        measured, against 0.5-1.5 ms for the transaction and its sync), so that a transaction
        that went to a removed file is reported failed (503), never stored (200).
        """
        if self._file is None:
            return
        moved = _identity(self._path) != self._file
        if self._log is None:  # a new database has its log from its first write on
            self._log = _identity(self._log_path)
            self._shm = _identity(self._shm_path)
        elif not moved:
            moved = _identity(self._log_path) != self._log
        if moved:
            self._reopen = (
                f"SQLite: the database file {self._path} (or its -wal) was removed or "
                "replaced while the service was using it; writes are refused"
            )
            raise DatabaseUnavailable(self._reopen)

    async def _reopen_connections(self) -> None:
        """Open the connections again (the write limiter held): see ``_reconnect``."""
        # Reads in flight on the old connections end first; new ones are refused meanwhile
        # (``_reopen`` is set), so that none uses a connection being closed.
        borrowers: list[object] = []
        try:
            for _ in range(_READERS):
                borrower = object()
                await self._read_limiter.acquire_on_behalf_of(borrower)
                borrowers.append(borrower)
            try:
                await trio.to_thread.run_sync(self._reconnect, limiter=self._writer_thread)
            except DatabaseUnavailable as exc:
                self._reopen = str(exc)
                raise
            self._reopen = None
        finally:
            for borrower in borrowers:
                self._read_limiter.release_on_behalf_of(borrower)

    def _reconnect(self) -> None:
        """Close the connections, and open new ones on the same file, writable again (or with
        its -wal removed); a file gone from the path, or another file in its place, stays an
        outage until the service is restarted."""
        # Closed first: the last connection to a database to close checkpoints its log into it
        # (its -wal alone removed: what the log held is kept), then deletes the files named
        # DB-wal and DB-shm, by name (SQLite skips both when the database itself was
        # removed). Were the new connections open by then, those would be theirs.
        self._close_connections()
        at_path = _identity(self._path)
        if self._file is not None and at_path != self._file:
            self._remove_old_log()
            if at_path is None:
                # No new, empty database is created here: it would hide the loss (/health
                # healthy, new webhooks stored beside none of the old, the generated tokens
                # the senders use gone), and a copy put back later would overwrite what it
                # took in. A missing file is also often a volume not mounted (yet): a
                # database created on the bare mount point would vanish when it is mounted.
                raise DatabaseUnavailable(
                    f"SQLite: there is no database file at {self._path} (it was removed or "
                    "replaced): put the database back (status-tracker restore BACKUP), then "
                    "restart the service"
                )
            # Not taken up in place: the running service holds what it read from the other
            # file (the last inbox row it applied, requests its actors keep), which would
            # skip the new file's rows or apply them to the wrong requests.
            raise DatabaseUnavailable(
                f"SQLite: the database file at {self._path} is not the one the service "
                "opened (it was replaced while the service ran): restart the service to use it"
            )
        with _outages_raised():
            self._share_mode_with_log()
            self._open_connections()

    def _remove_old_log(self) -> None:
        """Remove the ``-wal`` and ``-shm`` files the closed connections used, when their
        database is no longer at the path: SQLite leaves them beside a database that was
        removed, and would replay that log into the file put in its place (a copy restored
        by hand), which it corrupts, or undoes."""
        for beside, identity in ((self._log_path, self._log), (self._shm_path, self._shm)):
            if identity is not None and _identity(beside) == identity:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(beside)

    def _share_mode_with_log(self) -> None:
        """Give a ``-wal`` or ``-shm`` file that cannot be written the database file's mode,
        when that can be written: SQLite creates them with the database's mode, so a database
        opened read-only leaves them read-only, and they would keep every new connection
        read-only after the database itself is made writable again."""
        if not os.access(self._path, os.W_OK):
            return
        mode = stat.S_IMODE(os.stat(self._path).st_mode)
        for beside in (self._log_path, self._shm_path):
            if os.path.exists(beside) and not os.access(beside, os.W_OK):
                with contextlib.suppress(OSError):  # not this user's: the next write says so
                    os.chmod(beside, mode)

    def _inline(self, items: Sequence[Sequence[Statement]]) -> bool:
        """Whether ``items`` go in place: few statements, no recent inline write was slow, and
        the log was checkpointed lately."""
        if time.monotonic() < self._inline_paused_until:
            return False
        if self._inline_since_thread >= INLINE_CHECKPOINT_EVERY:
            return False
        return sum(len(statements) for statements in items) <= INLINE_STATEMENTS

    def _inline_took(self, seconds: float) -> None:
        self._inline_s += _SMOOTHING * (seconds - self._inline_s)
        if self._inline_s > INLINE_BUDGET_S:
            self._inline_paused_until = time.monotonic() + INLINE_PAUSE_S
            self._inline_s = 0.0

    def _apply(self, items: Sequence[Sequence[Statement]]) -> list[list[Rows] | Exception]:
        with _outages_raised():
            return self._apply_in_transaction(self._writer, items)

    def _apply_in_transaction(
        self, connection: sqlite3.Connection, items: Sequence[Sequence[Statement]]
    ) -> list[list[Rows] | Exception]:
        # Most batches fail nowhere: they run without a savepoint per item. When one fails,
        # the whole is rolled back and run again, each item in its own savepoint.
        connection.execute("BEGIN IMMEDIATE")
        try:
            together: list[list[Rows] | Exception] = [_run(connection, s) for s in items]
            connection.execute("COMMIT")
        except Exception as exc:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            if _outage(exc) is not None:
                raise
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        else:
            self._still_at_path()
            return together
        results: list[list[Rows] | Exception] = []
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statements in items:
                connection.execute("SAVEPOINT item")
                try:
                    results.append(_run(connection, statements))
                except Exception as exc:
                    # Whatever one item raised (a refused row, a value the driver cannot
                    # bind), it is that item's failure alone, unless the database itself
                    # cannot work, which fails the whole transaction.
                    if _outage(exc) is not None:
                        raise
                    connection.execute("ROLLBACK TO item")
                    results.append(exc)
                connection.execute("RELEASE item")
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        self._still_at_path()
        return results

    async def migrate(self, migrations: Sequence[Migration]) -> list[int]:
        return await trio.to_thread.run_sync(self._migrate, migrations, limiter=self._write_limiter)

    def _migrate(self, migrations: Sequence[Migration]) -> list[int]:
        connection = self._writer
        applied: list[int] = []
        try:
            # BEGIN IMMEDIATE takes the database's write lock before the versions are read: a
            # second process starting on the same file waits for it (busy_timeout), then
            # finds every version applied.
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.execute(MIGRATIONS_TABLE)
                rows = _rows(connection.execute("SELECT version FROM schema_migrations"))
                done = {row["version"] for row in rows}
                for migration in migrations:
                    if migration.version in done:
                        continue
                    for statement in migration.statements:
                        connection.execute(statement)
                    connection.execute(
                        "INSERT INTO schema_migrations (version) VALUES (?)", (migration.version,)
                    )
                    applied.append(migration.version)
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
        except (sqlite3.Error, OSError) as exc:
            outage = _outage(exc)
            if outage is not None:
                raise outage from exc
            raise StorageError(f"SQLite: migrating failed: {exc}") from exc
        self._still_at_path()
        return applied

    async def aclose(self) -> None:
        self._close_connections()
