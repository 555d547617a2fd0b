"""PostgreSQL driver: asyncpg on an asyncio loop of its own thread, awaited from Trio."""

from __future__ import annotations

import contextlib
import functools
import re
import sys
import typing
from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg
import attrs
import trio

from ._asyncio_thread import AsyncioThread
from ._sql import ONE_ROW, Statement, alike_items, batched, returns_rows
from ._store import MIGRATIONS_TABLE, DatabaseUnavailable, Migration, Rows, StorageError

_PLACEHOLDER = re.compile(r"\?")
_CONNECT_TIMEOUT_S = 5.0
_COMMAND_TIMEOUT_S = 60.0
_MIGRATION_LOCK = 0x5354_4D49_4752_4154
"""The advisory-lock key every status-tracker process takes to migrate ("STMIGRAT")."""

# Errors that say the server cannot work now (gone, shutting down, out of resources, a
# read-only standby), not that one statement was wrong.
_OUTAGE_TYPES = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.ReadOnlySQLTransactionError,
)


def _outage(exc: BaseException, connection: asyncpg.Connection | None = None) -> bool:
    seen: BaseException | None = exc
    while seen is not None:  # asyncpg often reports a lost server while cleaning up after it
        if isinstance(seen, _OUTAGE_TYPES):
            return True
        seen = seen.__cause__ or seen.__context__
    if connection is None:
        return False
    try:
        return connection.is_closed()
    except asyncpg.InterfaceError:  # already detached from its pool: it was lost with the server
        return True


async def _open_pool(url: str, **options: Any) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        url,
        timeout=_CONNECT_TIMEOUT_S,
        command_timeout=_COMMAND_TIMEOUT_S,
        reset=_keep_session,
        **options,
    )


async def _terminate(pools: Sequence[asyncpg.Pool]) -> None:
    for pool in pools:
        pool.terminate()


async def _keep_session(connection: asyncpg.Connection) -> None:
    """What a connection back in the pool needs reset: nothing. asyncpg's default reset is a
    round trip per query (releasing advisory locks, closing cursors, unlistening, resetting
    settings), and nothing here takes a session lock, opens a cursor, listens or sets a
    setting; a transaction left open is rolled back all the same."""


async def _plan_each_call(connection: asyncpg.Connection) -> None:
    """Have the connection plan each statement for the values of each call, never once for
    any values: the plan made for an unknown title pattern reads the whole trigram index for
    one or two letters, or rechecks tens of thousands of rows for a common word. A session
    setting (``_keep_session`` keeps it), not a startup parameter, which poolers refuse."""
    await connection.execute("SET plan_cache_mode = force_custom_plan")


def _rows(records: list[asyncpg.Record]) -> Rows:
    """The records as dicts by column name."""
    if not records:
        return []
    # Interned, the names match a record's field names by identity: ``Row(**row)`` is then
    # twice as fast (each keyword is otherwise compared by value with every parameter).
    names = [sys.intern(name) for name in records[0].keys()]  # noqa: SIM118 (a record iterates values)
    return [dict(zip(names, record, strict=True)) for record in records]


def numbered(sql: str) -> str:
    """Turn ``?`` placeholders into PostgreSQL's ``$1, $2, ...``."""
    counter = iter(range(1, 10_000))
    return _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)


async def _run(connection: asyncpg.Connection, statements: Sequence[Statement]) -> list[Rows]:
    """Run one item's statements; the rows each returned."""
    rows: list[Rows] = []
    for sql, run in batched(statements):
        if len(run) == 1:
            rows.append(_rows(await connection.fetch(numbered(sql), *run[0])))
        else:
            await _write_many(connection, sql, run)
            rows.extend([] for _ in run)
    return rows


async def _run_all(
    connection: asyncpg.Connection, items: Sequence[Sequence[Statement]]
) -> list[list[Rows]]:
    """Run every item's statements, alike items together: each statement of a run of alike
    items is one pipelined ``fetchmany`` for one row each, one statement for all the rows of one
    that writes a row each time (``_write_many``), else one pipelined ``executemany``, rather
    than a round trip per item."""
    results: list[list[Rows]] = []
    for run in alike_items(items):
        if len(run) == 1:
            results.append(await _run(connection, run[0]))
            continue
        together: list[list[Rows]] = [[] for _ in run]
        for position, (sql, _) in enumerate(run[0]):
            args = [item[position][1] for item in run]
            if returns_rows(sql):
                rows = await connection.fetchmany(numbered(sql), args)
                for got, row in zip(together, rows, strict=True):
                    got.append([dict(row)])
            else:
                await _write_many(connection, sql, args)
                for got in together:
                    got.append([])
        results.extend(together)
    return results


_ROW_INSERT = re.compile(
    r"INSERT INTO (\w+) \(([\w, ]+)\) VALUES \(\?(?:, \?)*\)( ON CONFLICT .*)?"
)
_UPSERT_TARGET = re.compile(r" ON CONFLICT \(([\w, ]+)\) DO UPDATE ")
_ROW_UPDATE = re.compile(r"UPDATE (\w+) SET ((?:\w+ = \?, )*\w+ = \?) WHERE (\w+) = \?")
_MANY_ROWS: dict[str, str] = {}
"""Per statement writing one row, the one writing many (see ``_write_many``). Made once per
process: the arrays' types are the schema's."""


@typing.final
@attrs.frozen
class _ManyRows:
    """A statement writing one row, as one writing a row for each element of its parameters,
    arrays: the text before and after their list, and the positions of the key that must differ
    from row to row (none where repeats are harmless)."""

    before: str
    after: str
    keys: tuple[int, ...]


@functools.cache
def _many_rows(sql: str) -> _ManyRows | None:
    """``sql`` as one statement for many rows, if it inserts, upserts or updates one row each
    time and returns none; None for any other statement. Only shapes whose one statement is
    known to write what they would one by one, given distinct keys: one statement may not
    upsert a row twice, and one UPDATE would apply only one of two changes of a row, which one
    unforeseeable."""
    if " RETURNING " in sql.upper():
        return None
    insert = _ROW_INSERT.fullmatch(sql)
    if insert is not None:
        table, listed, conflict = insert.groups()
        columns = [column.strip() for column in listed.split(",")]
        conflict = conflict or ""
        if "ordinality" in columns or "?" in conflict:
            return None
        keys: list[int] = []
        if " DO UPDATE " in conflict:
            target = _UPSERT_TARGET.match(conflict)
            named = [] if target is None else [key.strip() for key in target.group(1).split(",")]
            if not named or not set(named) <= set(columns):
                return None
            keys = [columns.index(key) for key in named]
        return _ManyRows(
            before=f"INSERT INTO {table} ({listed}) SELECT {listed} FROM unnest(",
            after=f") WITH ORDINALITY AS given({listed}, ordinality) ORDER BY given.ordinality"
            f"{conflict}",
            keys=tuple(keys),
        )
    update = _ROW_UPDATE.fullmatch(sql)
    if update is None:
        return None
    table, assignments, key = update.groups()
    columns = [assignment.partition(" = ")[0] for assignment in assignments.split(", ")]
    if key in columns or "ordinality" in columns:
        return None
    assigned = ", ".join(f"{column} = given.{column}" for column in columns)
    return _ManyRows(
        before=f"UPDATE {table} SET {assigned} FROM unnest(",
        after=f") AS given({', '.join(columns)}, {key}) WHERE {table}.{key} = given.{key}",
        keys=(len(columns),),
    )


def _writes_one_row(sql: str, args: Sequence[Sequence[Any]]) -> bool:
    """Whether ``sql``, run for each of ``args``, may go as one statement (``_many_rows``)."""
    shape = _many_rows(sql)
    return shape is not None and _distinct(args, shape.keys)


def _distinct(args: Sequence[Sequence[Any]], positions: Sequence[int]) -> bool:
    """Whether the values at ``positions`` differ from row to row: surely so, as the database
    compares them (a float rounded into an integer column might not). True for no positions."""
    if not positions:
        return True
    keys = {tuple(row[position] for position in positions) for row in args}
    return len(keys) == len(args) and not any(
        isinstance(value, float) for key in keys for value in key
    )


async def _write_many(connection: asyncpg.Connection, sql: str, args: list[Any]) -> None:
    """Run ``sql`` once for each of ``args``, in order.

    A statement writing one row each time goes as one statement for all the rows, each
    parameter's values one array (encoded as ``executemany`` encodes each value): a statement
    per row cost the server more than its row did (a wave's 64 request upserts took 8.9 ms one
    by one, 5.7 ms as one statement, on a copy of a drained database; the per-state counts
    follow a statement, not a row, since migration 19). A row it refuses, or a value that will
    not encode, fails the transaction as ``executemany`` fails it, and its items then run one
    by one.
    """
    shape = _many_rows(sql) if len(args) > 1 else None
    if shape is None or not _distinct(args, shape.keys):
        await connection.executemany(numbered(sql), args)
        return
    statement = _MANY_ROWS.get(sql)
    if statement is None:
        prepared = await connection.prepare(numbered(sql))
        arrays = ", ".join(
            f"${number}::{kind.schema}.{kind.name}[]"
            for number, kind in enumerate(prepared.get_parameters(), 1)
        )
        statement = _MANY_ROWS[sql] = f"{shape.before}{arrays}{shape.after}"
    await connection.execute(statement, *(list(values) for values in zip(*args, strict=True)))


def _one_statement(
    items: Sequence[Sequence[Statement]],
) -> tuple[str, list[tuple[Any, ...]]] | None:
    """The statement and each item's arguments when every item is that one statement, giving
    one row each time (webhooks, a burst's or a lone one: one call of ``accept_mail`` each);
    else None."""
    if not items or any(len(statements) != 1 for statements in items):
        return None
    sql = items[0][0][0]
    if not sql.startswith(ONE_ROW) or any(statements[0][0] != sql for statements in items):
        return None
    return sql, [statements[0][1] for statements in items]


async def _run_alone(
    connection: asyncpg.Connection, sql: str, args: list[tuple[Any, ...]]
) -> list[list[Rows] | Exception] | None:
    """Run one statement for each item's arguments in one round trip, without BEGIN and COMMIT:
    the server runs a pipeline up to its Sync as one implicit transaction. The rows each gave;
    or None when none of it committed and each item may run alone: an argument asyncpg would
    not encode (checked before anything is sent: midway, asyncpg rolls the pipeline back but
    reports it as a TypeError, which a failure after the commit could be too), or a statement
    the server refused (it then rolls the whole back). Any other failure may come after the
    commit (a row that would not decode): run again, its items would be stored twice, so each
    fails instead, and a sender's retry is a duplicate of what committed.

    In a webhook burst, BEGIN and COMMIT were two more round trips, each a chance to wait for
    the interpreter and a core (p90 3.6 and 4.8 ms each, for a transaction of 7 ms at p50)."""
    if not all(_encodable(value) for values in args for value in values):
        return None
    try:
        rows = await connection.fetchmany(numbered(sql), args)
        if len(rows) != len(args):
            raise StorageError(f"PostgreSQL gave {len(rows)} rows for {len(args)} calls")
        return [[[dict(row)]] for row in rows]
    except asyncpg.PostgresError as exc:
        if _outage(exc, connection):
            raise
        return None
    except Exception as exc:
        if _outage(exc, connection):
            raise
        return [exc] * len(args)


def _encodable(value: object) -> bool:
    """False for text that UTF-8 cannot encode (a lone surrogate)."""
    if not isinstance(value, str) or value.isascii():
        return True
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


@typing.final
class PostgresDriver:
    """Runs SQL on PostgreSQL through a small asyncpg pool, on asyncio's thread."""

    dialect = "postgresql"

    def __init__(
        self, asyncio_thread: AsyncioThread, pool: asyncpg.Pool, custom_plans: asyncpg.Pool
    ) -> None:
        self._asyncio = asyncio_thread
        self._pool = pool
        self._custom_plans = custom_plans

    @classmethod
    async def connect(cls, url: str) -> PostgresDriver:
        asyncio_thread = AsyncioThread("postgresql")
        opened: list[asyncpg.Pool] = []
        try:
            opened.append(await asyncio_thread.call(_open_pool, url, min_size=1, max_size=4))
            opened.append(
                await asyncio_thread.call(
                    _open_pool, url, min_size=0, max_size=2, init=_plan_each_call
                )
            )
        except BaseException as exc:
            # Tried again while the server starts: nothing of a failed try stays open.
            with trio.CancelScope(shield=True):
                await asyncio_thread.call(_terminate, opened)
                await asyncio_thread.aclose()
            if isinstance(exc, Exception) and _outage(exc):
                raise DatabaseUnavailable(f"PostgreSQL: {exc!r}") from exc
            raise
        pool, custom_plans = opened
        return cls(asyncio_thread, pool, custom_plans)

    async def fetch(
        self, sql: str, args: Sequence[Any] = (), *, keyed: bool = False, custom_plan: bool = False
    ) -> Rows:
        pool = self._custom_plans if custom_plan else self._pool
        return await self._asyncio.call(self._fetch, pool, numbered(sql), tuple(args))

    async def _fetch(self, pool: asyncpg.Pool, sql: str, args: tuple[Any, ...]) -> Rows:
        async with self._connection(pool) as connection:
            return _rows(await connection.fetch(sql, *args))

    @contextlib.asynccontextmanager
    async def _connection(
        self, pool: asyncpg.Pool | None = None
    ) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection; anything that says the server is gone becomes an outage."""
        try:
            async with (pool or self._pool).acquire(timeout=_CONNECT_TIMEOUT_S) as connection:
                try:
                    yield connection
                except DatabaseUnavailable:
                    raise
                except Exception as exc:
                    if _outage(exc, connection):
                        raise DatabaseUnavailable(f"PostgreSQL: {exc!r}") from exc
                    raise
        except DatabaseUnavailable:
            raise
        except Exception as exc:
            if _outage(exc):
                raise DatabaseUnavailable(f"PostgreSQL: {exc!r}") from exc
            raise

    async def apply(
        self, items: Sequence[Sequence[Statement]], *, in_place: bool = True
    ) -> list[list[Rows] | Exception]:
        return await self._asyncio.call(self._apply, items)

    async def _apply(self, items: Sequence[Sequence[Statement]]) -> list[list[Rows] | Exception]:
        async with self._connection() as connection:
            return await self._apply_in_transaction(connection, items)

    @staticmethod
    async def _apply_in_transaction(
        connection: asyncpg.Connection, items: Sequence[Sequence[Statement]]
    ) -> list[list[Rows] | Exception]:
        # Most batches fail nowhere: they run without a savepoint per item, two round trips
        # fewer each (webhooks without BEGIN and COMMIT either). When one fails, the whole is
        # rolled back and run again item by item.
        one = _one_statement(items)
        if one is not None:
            ran = await _run_alone(connection, *one)
            if ran is not None:
                return ran
        else:
            try:
                async with connection.transaction():
                    return await _run_all(connection, items)
            except Exception as exc:
                if _outage(exc, connection):
                    raise
        results: list[list[Rows] | Exception] = []
        async with connection.transaction():
            for statements in items:
                try:
                    async with connection.transaction():  # nested: a savepoint per item
                        results.append(await _run(connection, statements))
                except Exception as exc:
                    # Whatever one item raised (a refused row, a value asyncpg cannot encode),
                    # it is that item's failure alone, unless the server itself is gone.
                    if _outage(exc, connection):
                        raise
                    results.append(exc)
        return results

    async def migrate(self, migrations: Sequence[Migration]) -> list[int]:
        return await self._asyncio.call(self._migrate, migrations)

    async def _migrate(self, migrations: Sequence[Migration]) -> list[int]:
        applied: list[int] = []
        async with self._connection() as connection:
            try:
                async with connection.transaction():
                    # Held until the transaction ends, on this one connection: a second
                    # process waits here, then finds every version applied.
                    await connection.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
                    await connection.execute(MIGRATIONS_TABLE)
                    rows = await connection.fetch("SELECT version FROM schema_migrations")
                    done = {row["version"] for row in rows}
                    for migration in migrations:
                        if migration.version in done:
                            continue
                        for statement in migration.statements:
                            await connection.execute(statement)
                        await connection.execute(
                            "INSERT INTO schema_migrations (version) VALUES ($1)",
                            migration.version,
                        )
                        applied.append(migration.version)
            except asyncpg.PostgresError as exc:
                if _outage(exc, connection):
                    raise
                raise StorageError(f"PostgreSQL: migrating failed: {exc!r}") from exc
        return applied

    async def aclose(self) -> None:
        pools = [self._pool, self._custom_plans]
        try:
            for pool in pools:
                await self._asyncio.call(pool.close)
        finally:
            # What did not close gracefully (an error, a cancellation) is cut off.
            with trio.CancelScope(shield=True):
                await self._asyncio.call(_terminate, pools)
                await self._asyncio.aclose()
