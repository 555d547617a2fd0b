"""SQLite driver: the embedded default. WAL; a writer connection and two readers in threads;
reads of a few rows by key, and small write transactions, on the event loop."""

from __future__ import annotations

import contextlib
import math
import sqlite3
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
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._writer = self._connect(path)
        self._use_wal(self._writer)
        # FULL: an accepted webhook survives power loss, not only a killed process.
        self._writer.execute("PRAGMA synchronous=FULL")
        # Two readers: a title search's count reads beside its page (SQLite lets go of the GIL
        # while it searches), and neither waits behind the other.
        self._readers = [self._connect(path) for _ in range(_READERS)]
        # Reads of a few rows by key run on the event loop: a thread hand-off costs ten times
        # such a read (~110 against ~10 us), and the dispatcher makes several per wave. WAL
        # readers wait for no writer; should this one be told "busy" all the same, it never
        # waits on the loop: the read goes to the reader thread.
        self._keyed_reader = self._connect(path, busy_timeout_ms=0)
        # Likewise a small write transaction: in a webhook burst, handed to a thread, one took
        # 5 ms for 1.3 ms of work (the hand-off both ways, the GIL taken back after each
        # statement), and the webhooks' 200s wait for it. Told "busy" (another process
        # writes), it goes to the writer thread, which waits out the busy timeout.
        self._inline_writer = self._connect(path)
        self._inline_writer.execute("PRAGMA synchronous=FULL")
        self._inline_writer.execute("PRAGMA wal_autocheckpoint=0")
        # Only now: setting those reads the file, which another process starting on it at the
        # same moment may hold locked for a while (switching it to WAL, migrating).
        self._inline_writer.execute("PRAGMA busy_timeout=0")
        self._inline_paused_until = -math.inf
        self._inline_s = 0.0  # how long an inline transaction takes, smoothed
        self._inline_since_thread = 0
        self._write_limiter = trio.CapacityLimiter(1)
        # The writer thread's own: Trio's default limiter is shared (name look-ups take it,
        # and keep it while they hang), and writes must not queue behind them.
        self._writer_thread = trio.CapacityLimiter(1)
        self._read_limiter = trio.CapacityLimiter(_READERS)

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
        # Trio's thread cache does not pin a thread to a connection; the limiters serialise use.
        connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        connection.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        return connection

    async def fetch(
        self, sql: str, args: Sequence[Any] = (), *, keyed: bool = False, custom_plan: bool = False
    ) -> Rows:
        if keyed:
            await trio.lowlevel.checkpoint()
            with _busy_passed_over():
                return _rows(self._keyed_reader.execute(sql, tuple(args)))
        return await trio.to_thread.run_sync(
            self._fetch, sql, tuple(args), limiter=self._read_limiter
        )

    def _fetch(self, sql: str, args: tuple[Any, ...]) -> Rows:
        reader = self._readers.pop()  # the limiter lets no more threads in than there are readers
        try:
            with _outages_raised():
                return _rows(reader.execute(sql, args))
        finally:
            self._readers.append(reader)

    async def apply(
        self, items: Sequence[Sequence[Statement]], *, in_place: bool = True
    ) -> list[list[Rows] | Exception]:
        async with self._write_limiter:  # taking it is a checkpoint: inline needs no other
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
            return together
        except Exception as exc:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            if _outage(exc) is not None:
                raise
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
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
        return applied

    async def aclose(self) -> None:
        self._writer.close()
        self._inline_writer.close()
        for reader in self._readers:
            reader.close()
        self._keyed_reader.close()
