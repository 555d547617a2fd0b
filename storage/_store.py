"""The store: every read the service makes, and one writer that group-commits all writes.

Backends (SQLite, PostgreSQL) only provide a driver that runs SQL; everything else is shared.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.resources
import json
import logging
import math
import sqlite3
import time
import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import attrs
import trio

from status_tracker.domain import (
    ACTIVE_STATES,
    DownloadRow,
    EpisodeRow,
    EpisodeSummary,
    ReplacementWait,
    RequestRow,
    TimelineEntry,
    WaitingItems,
)
from status_tracker.strict import storable

from . import _sql
from ._coalesce import Coalesced
from ._ops import Op
from ._records import (
    Accepted,
    ArrDownload,
    DeadLetter,
    DownloadWatch,
    IncomingMail,
    Mail,
    RequestQuery,
    StoredNotification,
    StoredSession,
)
from ._together import read_together

logger = logging.getLogger(__name__)

DEDUPE_WINDOW_S = 3600.0
"""How long an identical body (a webhook's dedupe key) stays a duplicate."""
EVENT_DEDUPE_WINDOW_S = 14 * 86400.0
"""How long an event identity (a grab, an import... of one download) stays a duplicate for the
reconciler's report of that event: longer than a tracker is likely to be down, so its history
read after a restart still matches the webhook that came before. Webhooks never match each
other by their event (see ``LATE_WEBHOOK_WINDOW_S``)."""
LATE_WEBHOOK_WINDOW_S = 600.0
"""How long after the reconciler reported an event (caught up from a service's API) a webhook
of the same event identity is that event, delivered late: a webhook is a duplicate by its event
only within this, and only of the reconciler's report, never of another webhook.

A service sends a webhook when its event happens, and the reconciler reads only what already
happened, so a webhook of an event it caught up comes seconds after the read at most. Later, or
after another webhook, the same identity is the event happening again: Radarr or Sonarr grab the
same release (one infohash) again after its file was deleted, import it to the same path, delete
that file by hand again. Identical bodies are still one delivery within ``DEDUPE_WINDOW_S``."""
MAX_BATCH = 256
_IN_CHUNK = 500
"""Values in one ``IN`` list at most, well below either backend's limit on parameters."""
_LOOKUP_COLUMNS = frozenset(
    ("id", "tmdb_id", "tvdb_id", "imdb_id", "radarr_id", "sonarr_id", "jellyseerr_request_id")
)
_OWNER_COLUMNS = {
    "hash": ("download_hash", "torrent_hash"),
    "episode": (None, "tvdb_id"),
    "shoko_file": ("shoko_file_id", "shoko_file_id"),
}
"""Per kind of value: the request column and the episode column that hold it."""
Described = TypeVar("Described")
PROBE_FIRST_S = 0.1
PROBE_MAX_S = 1.0
Rows = list[dict[str, Any]]


class Driver(Protocol):
    """What a backend provides: reads, and atomic batches of statement lists."""

    dialect: str

    async def fetch(
        self, sql: str, args: Sequence[Any] = (), *, keyed: bool = False, custom_plan: bool = False
    ) -> Rows:
        """The rows ``sql`` gives. ``keyed``: a read of a few rows by an index, which a driver
        may run in place rather than hand to a thread. ``custom_plan``: a read whose best plan
        depends on its values (a title search), which a driver plans for them at every call."""
        ...

    async def apply(
        self, items: Sequence[Sequence[_sql.Statement]], *, in_place: bool = True
    ) -> list[list[Rows] | Exception]:
        """Run every item in one transaction, each as if in its own savepoint.

        Returns, per item, the rows each of its statements returned, or the error that rolled
        that item (alone) back. Raises when the transaction as a whole cannot commit.
        ``in_place``: False for a write that may touch many rows (pruning), which a driver
        that runs small writes on the event loop hands to a thread.
        """
        ...

    async def migrate(self, migrations: Sequence[Migration]) -> list[int]:
        """Apply each migration ``schema_migrations`` lacks, in order; returns their versions.

        Reading the applied versions and applying the missing ones happen under one lock that
        every process migrating the same database takes, so each version is applied once.

        Raises:
            DatabaseUnavailable: the database cannot be reached or cannot write.
            StorageError: a migration failed; nothing of this call is kept.
        """
        ...

    async def aclose(self) -> None: ...


@typing.final
@attrs.frozen(kw_only=True)
class Migration:
    """One schema version: its statements, written for the backend at hand."""

    version: int
    statements: tuple[str, ...]


MIGRATIONS_TABLE = "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)"


class StorageError(Exception):
    """A write the database refused."""


class DatabaseUnavailable(StorageError):
    """The database cannot be reached or cannot write (down, full disk, read-only file).

    Raised by any read or write while the outage lasts; ``Store.wait_available`` returns once
    the database answers again. Callers that can wait do so; the HTTP layer answers 503.
    """


@typing.final
@attrs.frozen(kw_only=True)
class WriterStatistics:
    pending: int
    pending_max: int
    batches: int
    writes: int
    largest_batch: int
    last_error: str | None


@typing.final
@attrs.frozen(kw_only=True)
class OutageStatistics:
    available: bool
    reason: str | None
    outages: int
    unavailable_since: float | None


def _probe_write(now: float) -> _sql.Statement:
    return (
        "INSERT INTO settings (key, value) VALUES ('database_probe', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (repr(now),),
    )


@attrs.define(eq=False)
class _Write:
    statements: list[_sql.Statement]
    posts_mail: bool
    queues_notification: bool = False
    in_place: bool = True
    done: trio.Event = attrs.field(factory=trio.Event)
    result: list[Rows] | Exception | None = None


def _first_id(rows: Rows) -> int | None:
    """The ``id`` of the first row, if there is one and it is not null."""
    return int(rows[0]["id"]) if rows and rows[0]["id"] is not None else None


_CLAIM_EXPIRES = (
    "CASE WHEN EXISTS (SELECT 1 FROM event_keys AS claim JOIN mail AS claimant "
    "ON claimant.id = claim.mail_id WHERE claim.key = ? AND claimant.dedupe_key = claim.key) "
    "THEN CAST(? AS DOUBLE PRECISION) ELSE CAST(? AS DOUBLE PRECISION) END"
)
"""The time at or before which the claim on a mail's event key has expired for that mail: the
first value when the reconciler made the claim (its mail is keyed by its event alone), else the
second (a webhook made it, or its mail has since been pruned). Its arguments:
``_claim_expires``."""


def _claim_expires(mail: IncomingMail, now: float) -> tuple[str | float | None, ...]:
    """The arguments of ``_CLAIM_EXPIRES`` for ``mail``: the dedupe rule of event keys.

    The reconciler's report of an event (a mail keyed by its event alone: its dedupe key is its
    event key) is a duplicate of any report of that event, webhook or its own, within
    ``EVENT_DEDUPE_WINDOW_S``. A webhook (keyed by its body) is a duplicate by its event only
    of the reconciler's report of it within ``LATE_WEBHOOK_WINDOW_S``; it takes over a claim
    another webhook made, so a later report of the event matches the latest webhook.
    """
    if mail.event_key is not None and mail.dedupe_key != mail.event_key:
        return (mail.event_key, now - LATE_WEBHOOK_WINDOW_S, math.inf)
    return (mail.event_key, now - EVENT_DEDUPE_WINDOW_S, now - EVENT_DEDUPE_WINDOW_S)


def _accept_statements(mail: IncomingMail, now: float) -> tuple[list[_sql.Statement], int, int]:
    """The statements that store ``mail`` unless it is a duplicate, and the positions of the
    one giving its new id (no row for a duplicate) and of the one giving the earlier mail's
    (``by_event``, ``by_body``). SQLite runs them; PostgreSQL's ``accept_mail`` (migration 18)
    runs the same, and must be changed with them. The expired claim on the event key goes
    first: PostgreSQL computes when it expires (``_CLAIM_EXPIRES``) before the call runs."""
    return (
        [
            (
                f"DELETE FROM event_keys WHERE key = ? AND at <= {_CLAIM_EXPIRES}",
                (mail.event_key, *_claim_expires(mail, now)),
            ),
            (
                "UPDATE mail SET dedupe_key = NULL WHERE dedupe_key = ? AND received_at <= ?",
                (mail.dedupe_key, now - DEDUPE_WINDOW_S),
            ),
            (
                "INSERT INTO mail (target, source, kind, body, dedupe_key, received_at) "
                "SELECT ?, ?, ?, ?, ?, ? "
                "WHERE NOT EXISTS (SELECT 1 FROM event_keys WHERE key = ?) "
                "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
                (mail.target, mail.source, mail.kind, mail.body, mail.dedupe_key, now,
                 mail.event_key),
            ),
            (
                "INSERT INTO event_keys (key, mail_id, at) "
                "SELECT ?, id, ? FROM mail WHERE dedupe_key = ? AND ? IS NOT NULL "
                "ON CONFLICT (key) DO NOTHING",
                (mail.event_key, now, mail.dedupe_key, mail.event_key),
            ),
            (
                _sql.one_row(
                    "SELECT (SELECT mail_id FROM event_keys WHERE key = ?) AS by_event, "
                    "(SELECT id FROM mail WHERE dedupe_key = ?) AS by_body"
                ),
                (mail.event_key, mail.dedupe_key),
            ),
        ],
        2,
        4,
    )  # fmt: skip


def _accept_in_one_call(mail: IncomingMail, now: float) -> tuple[list[_sql.Statement], int, int]:
    """``_accept_statements`` as one call of PostgreSQL's ``accept_mail`` (migration 18), which
    runs them on the server: one row with the new id and the earlier mail's. Alike, a burst's
    webhooks are then sent as one pipelined statement, one round trip."""
    return (
        [
            (
                _sql.one_row(
                    "SELECT inserted AS id, by_event, by_body "
                    f"FROM accept_mail(?, ?, ?, ?, ?, ?, ?, ?, {_CLAIM_EXPIRES})"
                ),
                (mail.target, mail.source, mail.kind, mail.body, mail.dedupe_key,
                 mail.event_key, now, now - DEDUPE_WINDOW_S, *_claim_expires(mail, now)),
            )
        ],
        0,
        0,
    )  # fmt: skip


@typing.final
class Store:
    """Reads from, and group-commits writes to, one database."""

    def __init__(self, driver: Driver, *, queue_size: int = 1024) -> None:
        self._driver = driver
        self._send, self._receive = trio.open_memory_channel[_Write](queue_size)
        self._queue_size = queue_size
        self.mail_posted = _Signal()
        self.notifications_queued = _Signal()
        self._batches = 0
        self._writes = 0
        self._largest_batch = 0
        self._last_error: str | None = None
        self._available = trio.Event()
        self._available.set()
        self._outage_began = trio.Event()
        self._outage_reason = ""
        self._outages = 0
        self._unavailable_since = 0.0
        self._keys_in_flight: dict[str, trio.Event] = {}
        self._downloads = Coalesced(functools.partial(self._read_downloads, keyed=True))

    @property
    def dialect(self) -> str:
        return self._driver.dialect

    @property
    def available(self) -> bool:
        """False while the database is known to be unreachable."""
        return self._available.is_set()

    async def wait_available(self) -> None:
        """Return once the database answers (at once when it does now)."""
        await self._available.wait()

    def outage_statistics(self) -> OutageStatistics:
        return OutageStatistics(
            available=self.available,
            reason=None if self.available else self._outage_reason,
            outages=self._outages,
            unavailable_since=None if self.available else self._unavailable_since,
        )

    def _mark_unavailable(self, reason: str) -> None:
        if not self.available:
            self._outage_reason = reason
            return
        logger.warning("database unavailable, waiting for it to come back: %s", reason)
        self._available = trio.Event()
        self._outage_reason = reason
        self._outages += 1
        self._unavailable_since = time.time()
        self._outage_began.set()

    def _mark_available(self) -> None:
        logger.warning(
            "database available again after %.1f s", time.time() - self._unavailable_since
        )
        self._outage_began = trio.Event()
        self._available.set()

    async def run_probe(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """During an outage, try a small write with backoff until the database takes it."""
        task_status.started()
        while True:
            await self._outage_began.wait()
            delay = PROBE_FIRST_S
            while not self.available:
                await trio.sleep(delay)
                delay = min(delay * 2, PROBE_MAX_S)
                try:
                    (result,) = await self._driver.apply([[_probe_write(time.time())]])
                except Exception as exc:  # still down, whatever it says
                    self._outage_reason = storable(str(exc)) or type(exc).__name__
                    continue
                if isinstance(result, Exception):
                    self._outage_reason = storable(str(result)) or type(result).__name__
                    continue
                self._mark_available()

    # -- writing -------------------------------------------------------------------------

    async def run_writer(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Commit queued writes, many per transaction, until cancelled."""
        task_status.started()
        while True:
            batch = [await self._receive.receive()]
            # A turn of the scheduler first: the tasks woken with this write's submitter (a
            # wave's deliveries, webhooks read together) submit theirs into this transaction
            # rather than the next.
            await trio.lowlevel.cancel_shielded_checkpoint()
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._receive.receive_nowait())
                except trio.WouldBlock:
                    break
            results = await self._apply_batch(batch)
            self._batches += 1
            self._writes += len(batch)
            self._largest_batch = max(self._largest_batch, len(batch))
            for write, result in zip(batch, results, strict=True):
                write.result = result
                write.done.set()
            if any(write.posts_mail for write in batch):
                self.mail_posted.pulse()
            if any(write.queues_notification for write in batch):
                self.notifications_queued.pulse()

    async def _apply_batch(self, batch: list[_Write]) -> Sequence[list[Rows] | Exception]:
        """Each write's rows or its own error; an outage fails them all with DatabaseUnavailable."""
        if not self.available:
            return [DatabaseUnavailable(self._outage_reason)] * len(batch)
        try:
            results = await self._driver.apply(
                [write.statements for write in batch],
                in_place=all(write.in_place for write in batch),
            )
        except DatabaseUnavailable as exc:
            self._mark_unavailable(str(exc))
            return [exc] * len(batch)
        except Exception as exc:
            logger.warning("storage transaction failed: %s", storable(repr(exc)))
            self._last_error = storable(repr(exc))
            if len(batch) == 1:
                return [exc]
            # Something failed the transaction as a whole: find the culprit by committing
            # each write alone, so its neighbours are not failed with it.
            results = []
            for write in batch:
                results.extend(await self._apply_batch([write]))
            return results
        self._last_error = None
        return results

    async def _submit(
        self,
        statements: list[_sql.Statement],
        *,
        posts_mail: bool,
        queues_notification: bool = False,
        in_place: bool = True,
    ) -> list[Rows]:
        write = _Write(statements, posts_mail, queues_notification, in_place)
        # Cancelled already, nothing is queued (a write queued and then abandoned would
        # commit with its keys released).
        await trio.lowlevel.checkpoint_if_cancelled()
        try:
            # Queued without a turn of the scheduler: waiting for the commit is the checkpoint,
            # and a turn more is a round of every runnable task added to a webhook's answer.
            self._send.send_nowait(write)
        except trio.WouldBlock:
            await self._send.send(write)
        await write.done.wait()
        if isinstance(write.result, DatabaseUnavailable):
            raise DatabaseUnavailable(str(write.result)) from write.result
        if isinstance(write.result, Exception):
            raise StorageError(storable(str(write.result))) from write.result
        assert write.result is not None
        return write.result

    async def commit(self, ops: Sequence[Op]) -> None:
        """Apply ``ops`` atomically (with other writers' ops in the same transaction)."""
        statements = [stmt for op in ops for stmt in _sql.statements_for(op)]
        if statements:
            await self._submit(
                statements,
                posts_mail=_sql.posts_mail(ops),
                queues_notification=_sql.queues_notification(ops),
                in_place=not _sql.touches_many(ops),
            )

    async def accept_webhook(
        self,
        *,
        source: str,
        kind: str,
        body: str,
        dedupe_key: str,
        now: float,
        event_key: str | None = None,
    ) -> Accepted:
        """Store a webhook in the inbox unless it is a duplicate.

        A duplicate is the same body within ``DEDUPE_WINDOW_S``, or, when ``event_key`` is given,
        the same event the reconciler reported within ``LATE_WEBHOOK_WINDOW_S`` before (never
        another webhook: two webhooks with different bodies are two events, e.g. the same
        release grabbed again). The webhook's event key then stands for it, so the reconciler's
        later report of the event is the duplicate (``_claim_expires``).
        """
        incoming = IncomingMail(
            target="dispatch",
            source=source,
            kind=kind,
            body=body,
            dedupe_key=dedupe_key,
            event_key=event_key,
        )
        (accepted,) = await self.accept_mail([incoming], now=now)
        return accepted

    async def accept_mail(
        self, mails: Sequence[IncomingMail], *, now: float, ops: Sequence[Op] = ()
    ) -> list[Accepted]:
        """Store each mail unless it is a duplicate (see ``accept_webhook``), and apply ``ops``,
        all in one transaction: a cursor saved in ``ops`` moves only with the mail it covers."""
        statements: list[_sql.Statement] = []
        positions: list[tuple[int, int]] = []
        accept = _accept_in_one_call if self.dialect == "postgresql" else _accept_statements
        for mail in mails:
            mine, inserted, found = accept(mail, now)
            positions.append((len(statements) + inserted, len(statements) + found))
            statements.extend(mine)
        for op in ops:
            statements.extend(_sql.statements_for(op))
        keys = {key for mail in mails for key in (mail.dedupe_key, mail.event_key) if key}
        async with self._own_keys(keys):
            results = await self._submit(statements, posts_mail=bool(mails))
        accepted = []
        for inserted, found in positions:
            new_id = _first_id(results[inserted])
            if new_id is not None:
                accepted.append(Accepted(mail_id=new_id, duplicate=False))
                continue
            (earlier,) = results[found]
            existing = earlier["by_event"] or earlier["by_body"] or 0
            accepted.append(Accepted(mail_id=int(existing), duplicate=True))
        return accepted

    @contextlib.asynccontextmanager
    async def _own_keys(self, keys: Collection[str]) -> AsyncIterator[None]:
        """Hold ``keys`` (dedupe and event keys) while their mail is being stored: a mail with
        a key in flight waits for that write. So two mails with one key never share a
        transaction, where a driver may run alike items statement by statement and the second
        would not see the first's key yet; it sees the first committed, and is a duplicate."""
        while busy := [self._keys_in_flight[key] for key in keys if key in self._keys_in_flight]:
            for done in busy:
                await done.wait()
        done = trio.Event()
        for key in keys:
            self._keys_in_flight[key] = done
        try:
            yield
        finally:
            for key in keys:
                del self._keys_in_flight[key]
            done.set()

    async def allocate_request_ids(self, count: int) -> list[int]:
        """``count`` new request ids, in order, durably taken: never handed out again, by any
        process or run.

        Ids only grow, and stay above every stored request, even one saved with an id of its own.
        """
        results = await self._submit(
            [
                (
                    "UPDATE request_ids SET last_id = (SELECT MAX(id) FROM requests) "
                    "WHERE last_id < (SELECT COALESCE(MAX(id), 0) FROM requests)",
                    (),
                ),
                ("UPDATE request_ids SET last_id = last_id + ? RETURNING last_id", (count,)),
            ],
            posts_mail=False,
        )
        last = int(results[1][0]["last_id"])
        return list(range(last - count + 1, last + 1))

    def writer_statistics(self) -> WriterStatistics:
        stats = self._send.statistics()
        return WriterStatistics(
            pending=stats.current_buffer_used,
            pending_max=self._queue_size,
            batches=self._batches,
            writes=self._writes,
            largest_batch=self._largest_batch,
            last_error=self._last_error,
        )

    # -- migrations ----------------------------------------------------------------------

    async def migrate(self) -> list[int]:
        """Bring the schema up to date; returns the versions this call applied.

        Safe when several processes start on one database at once: the driver's lock lets
        one of them apply each missing version, and the others find it applied.
        """
        id_type = (
            "INTEGER PRIMARY KEY AUTOINCREMENT"
            if self.dialect == "sqlite"
            else ("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
        )
        real_type = "REAL" if self.dialect == "sqlite" else "DOUBLE PRECISION"
        migrations = [
            Migration(
                version=version,
                statements=tuple(
                    _split_sql(
                        script.replace("{id}", id_type).replace("{real}", real_type), self.dialect
                    )
                ),
            )
            for version, script in _migration_scripts(self.dialect)
        ]
        return await self._driver.migrate(migrations)

    # -- reading -------------------------------------------------------------------------

    async def fetch(
        self, sql: str, args: Sequence[Any] = (), *, keyed: bool = False, custom_plan: bool = False
    ) -> Rows:
        if not self.available:
            raise DatabaseUnavailable(self._outage_reason)
        try:
            return await self._driver.fetch(sql, args, keyed=keyed, custom_plan=custom_plan)
        except DatabaseUnavailable as exc:
            self._mark_unavailable(str(exc))
            raise

    async def ping(self) -> None:
        await self.fetch("SELECT 1 AS ok")

    async def get_setting(self, key: str) -> str | None:
        rows = await self.fetch("SELECT value FROM settings WHERE key = ?", (key,), keyed=True)
        return rows[0]["value"] if rows else None

    async def load_request(self, request_id: int) -> RequestRow | None:
        rows = await self.fetch(f"{_sql.SELECT_REQUEST} WHERE id = ?", (request_id,), keyed=True)
        return _sql.request_from(rows[0]) if rows else None

    async def load_episodes(self, request_id: int) -> list[EpisodeRow]:
        rows = await self.fetch(
            f"{_sql.SELECT_EPISODES} WHERE request_id = ? ORDER BY season, episode",
            (request_id,),
            keyed=True,
        )
        return [_sql.episode_from(row) for row in rows]

    async def load_download(self, torrent_hash: str) -> DownloadRow | None:
        """The stored download, read with those other tasks ask for at the same moment (the
        actors a wave starts)."""
        return await self._downloads.get(torrent_hash)

    async def load_downloads(self, hashes: Collection[str]) -> dict[str, DownloadRow]:
        """The stored downloads among ``hashes``, by hash: what ``load_download`` gives for each,
        in one read per 500 hashes."""
        return await self._read_downloads(hashes, keyed=False)

    async def _read_downloads(
        self, hashes: Collection[str], *, keyed: bool
    ) -> dict[str, DownloadRow]:
        """``load_downloads``; ``keyed`` for the few a wave's actors ask for at once (at most
        ``CONCURRENT_DELIVERIES`` of the dispatcher), which a driver may read in place."""
        found: dict[str, DownloadRow] = {}
        distinct = list(dict.fromkeys(hashes))
        for first in range(0, len(distinct), _IN_CHUNK):
            chunk = distinct[first : first + _IN_CHUNK]
            rows = await self.fetch(
                f"{_sql.SELECT_DOWNLOADS} WHERE hash IN ({', '.join('?' * len(chunk))})",
                chunk,
                keyed=keyed,
            )
            found.update((row["hash"], _sql.download_from(row)) for row in rows)
        return found

    async def downloads_of(self, request_id: int) -> list[DownloadRow]:
        return (await self.downloads_by_request([request_id])).get(request_id, [])

    async def downloads_by_request(
        self, request_ids: Sequence[int]
    ) -> dict[int, list[DownloadRow]]:
        """The downloads of each request (its own, and its episodes'), oldest first, in one read;
        a request without any is left out."""
        if not request_ids:
            return {}
        marks = ", ".join("?" * len(request_ids))
        rows = await self.fetch(
            f"SELECT held.request_id, {', '.join(f'd.{c}' for c in _sql.DOWNLOAD_COLUMNS)} "
            "FROM downloads d JOIN ("
            f"SELECT id AS request_id, download_hash AS hash FROM requests WHERE id IN ({marks}) "
            "UNION SELECT request_id, torrent_hash AS hash FROM episodes "
            f"WHERE request_id IN ({marks})) held ON held.hash = d.hash "
            "ORDER BY d.created_at, d.hash",
            (*request_ids, *request_ids),
            keyed=True,  # by request id, for a page's items: see episodes_by_request
        )
        found: dict[int, list[DownloadRow]] = {}
        for row in rows:
            found.setdefault(row["request_id"], []).append(_sql.download_from(row))
        return found

    async def unfinished_downloads(self) -> list[DownloadWatch]:
        """The downloads still to watch, without decoding their links and files."""
        rows = await self.fetch(
            "SELECT hash, name, progress, state, client_state, episode_count, seeds, peers, "
            "CASE WHEN files = '[]' THEN 0 ELSE 1 END AS has_files FROM downloads "
            "WHERE state NOT IN ('completed', 'seeding', 'missing')"
        )
        return [DownloadWatch(**{**row, "has_files": bool(row["has_files"])}) for row in rows]

    async def timeline(self, request_id: int) -> list[TimelineEntry]:
        rows = await self.fetch(
            f"SELECT {', '.join(_sql.TIMELINE_COLUMNS)} FROM timeline "
            "WHERE request_id = ? ORDER BY id",
            (request_id,),
        )
        return [_sql.timeline_from(row) for row in rows]

    async def request_ids_for_hash(self, torrent_hash: str) -> list[int]:
        """Requests holding the download, themselves or in an episode, newest first."""
        owners = await self.request_owners("hash", [torrent_hash])
        return sorted(owners.get(torrent_hash, ()), reverse=True)

    async def request_owners(
        self, kind: str, values: Collection[object]
    ) -> dict[object, frozenset[int]]:
        """For each of ``values`` held by some request (itself or in an episode), in any state,
        the ids of those requests.

        ``kind`` says what the values are: ``hash`` (a download), ``episode`` (an episode's own
        TVDB id) or ``shoko_file`` (a Shoko file id).
        """
        found: dict[object, set[int]] = {}
        distinct = list(dict.fromkeys(values))
        for first in range(0, len(distinct), _IN_CHUNK):
            chunk = distinct[first : first + _IN_CHUNK]
            marks = ", ".join("?" * len(chunk))
            own, episodes = _OWNER_COLUMNS[kind]
            sql = (
                f"SELECT {episodes} AS value, request_id FROM episodes "
                f"WHERE {episodes} IN ({marks})"
            )
            args = list(chunk)
            if own is not None:
                sql += f" UNION SELECT {own}, id FROM requests WHERE {own} IN ({marks})"
                args += chunk
            for row in await self.fetch(sql, args, keyed=True):
                found.setdefault(row["value"], set()).add(row["request_id"])
        return {value: frozenset(ids) for value, ids in found.items()}

    async def requests_holding(self, values: Mapping[str, Collection[object]]) -> list[RequestRow]:
        """Requests, in any state, whose column holds one of the values given for it.

        The columns are ``id``, ``tmdb_id``, ``tvdb_id``, ``imdb_id``, ``radarr_id``,
        ``sonarr_id`` and ``jellyseerr_request_id``.
        """
        unknown = set(values) - _LOOKUP_COLUMNS
        if unknown:
            raise ValueError(f"not a look-up column: {sorted(unknown)}")
        wanted = [
            (column, value) for column, given in values.items() for value in dict.fromkeys(given)
        ]
        found: dict[int, RequestRow] = {}
        for first in range(0, len(wanted), _IN_CHUNK):
            by_column: dict[str, list[object]] = {}
            for column, value in wanted[first : first + _IN_CHUNK]:
                by_column.setdefault(column, []).append(value)
            where = " OR ".join(
                f"{column} IN ({', '.join('?' * len(given))})"
                for column, given in by_column.items()
            )
            args = [value for given in by_column.values() for value in given]
            for row in await self.fetch(f"{_sql.SELECT_REQUEST} WHERE {where}", args, keyed=True):
                request = _sql.request_from(row)
                found[request.id] = request
        return list(found.values())

    async def requests_to_check(self, since: float) -> list[RequestRow]:
        """Requests someone asked to check again after ``since`` (oldest ask first)."""
        rows = await self.fetch(
            f"{_sql.SELECT_REQUEST} WHERE check_requested_at > ? ORDER BY check_requested_at",
            (since,),
        )
        return [_sql.request_from(row) for row in rows]

    async def requests_in_states(self, states: Sequence[str]) -> list[RequestRow]:
        rows = await self.fetch(
            f"{_sql.SELECT_REQUEST} WHERE state IN ({', '.join('?' * len(states))}) ORDER BY id",
            tuple(states),
        )
        return [_sql.request_from(row) for row in rows]

    async def active_requests(self) -> list[RequestRow]:
        return await self.requests_in_states(ACTIVE_STATES)

    async def waiting_items(self, *, stale_before: float) -> list[WaitingItems]:
        """The active requests' items (a series' episodes that are not deleted, else the request
        itself), counted alike for /health's problems in one query instead of reading every
        active request and episode (/health is asked often); ``stale``: last changed at or
        before ``stale_before``."""
        states = ", ".join("?" * len(ACTIVE_STATES))
        rows = await self.fetch(
            "SELECT media_type, state, matched, stale, COUNT(*) AS n FROM ("
            "SELECT r.media_type, e.state, "
            "CASE WHEN e.shoko_file_id IS NULL THEN 0 ELSE 1 END AS matched, "
            "CASE WHEN e.last_change_at <= ? THEN 1 ELSE 0 END AS stale "
            "FROM episodes e JOIN requests r ON r.id = e.request_id "
            f"WHERE r.state IN ({states}) AND r.media_type = 'tv' AND e.state <> 'deleted' "
            "UNION ALL "
            "SELECT r.media_type, r.state, "
            "CASE WHEN r.shoko_file_id IS NULL THEN 0 ELSE 1 END, "
            "CASE WHEN r.last_change_at <= ? THEN 1 ELSE 0 END "
            f"FROM requests r WHERE r.state IN ({states}) AND NOT (r.media_type = 'tv' AND "
            "EXISTS (SELECT 1 FROM episodes e WHERE e.request_id = r.id AND e.state <> 'deleted'))"
            ") items GROUP BY media_type, state, matched, stale "
            "ORDER BY media_type, state, matched, stale",
            (stale_before, *ACTIVE_STATES, stale_before, *ACTIVE_STATES),
        )
        return [
            WaitingItems(
                media_type=row["media_type"],
                state=row["state"],
                shoko_matched=bool(row["matched"]),
                stale=bool(row["stale"]),
                count=int(row["n"]),
            )
            for row in rows
        ]

    async def list_requests(self, query: RequestQuery) -> tuple[list[RequestRow], int]:
        """One page of requests newest first, and how many match the filters in all."""
        rows, _, total = await self.describe_page(query, _as_they_are)
        return rows, total

    async def describe_page(
        self,
        query: RequestQuery,
        describe: Callable[[list[RequestRow]], Awaitable[Described]],
    ) -> tuple[list[RequestRow], Described, int]:
        """One page of requests newest first, what ``describe`` makes of it, and how many
        match the filters in all, counted meanwhile: the count of a title search can take as
        long as reading and describing its page."""
        matches = None
        indexed = _sql.indexed_title(query, self.dialect)
        if indexed is not None:
            (found,) = await self.fetch(*_sql.count_title_matches(indexed))
            matches = int(found["n"])
        (page, page_args), count = _sql.request_list_query(
            query, self.dialect, title_matches=matches
        )
        searching = query.title_contains is not None

        async def read_and_describe() -> tuple[list[RequestRow], Described]:
            found = [] if matches == 0 else await self.fetch(page, page_args, custom_plan=searching)
            rows = [_sql.request_from(row) for row in found]
            return rows, await describe(rows)

        if matches is not None and (not matches or not (query.states or query.media_type)):
            # The title is the only filter (or nothing matches): the index has counted already.
            return (*await read_and_describe(), matches)
        (rows, described), counted = await read_together(
            read_and_describe,
            functools.partial(self.fetch, *count, keyed=not searching, custom_plan=searching),
        )
        return rows, described, int(counted[0]["n"])

    async def episodes_of(self, request_ids: Sequence[int]) -> list[EpisodeRow]:
        if not request_ids:
            return []
        rows = await self.fetch(
            f"{_sql.SELECT_EPISODES} WHERE request_id IN ({', '.join('?' * len(request_ids))})",
            tuple(request_ids),
        )
        return [_sql.episode_from(row) for row in rows]

    async def episodes_by_request(self, request_ids: Sequence[int]) -> dict[int, list[EpisodeRow]]:
        """The episodes of each request, in one read, by season and episode as ``load_episodes``
        gives them (a list item's reason then reads as the request's own); a request without
        any is left out."""
        found: dict[int, list[EpisodeRow]] = {}
        if not request_ids:
            return found
        rows = await self.fetch(
            f"{_sql.SELECT_EPISODES} WHERE request_id IN ({', '.join('?' * len(request_ids))}) "
            "ORDER BY request_id, season, episode",
            tuple(request_ids),
            # By request id, an index look-up each, for a page's items (or the feed's): read in
            # place, the 500-item page answered 0.4-1.5 ms sooner than with these handed to
            # threads, where turning their rows into records waited for the interpreter anyway.
            keyed=True,
        )
        for row in rows:
            episode = _sql.episode_from(row)
            found.setdefault(episode.request_id, []).append(episode)
        return found

    async def episode_summaries(self, request_ids: Sequence[int]) -> dict[int, EpisodeSummary]:
        """What each request's list item shows of its episodes (``summarize`` of them), counted
        here rather than read episode by episode; a request without any is left out."""
        if not request_ids:
            return {}
        marks = ", ".join("?" * len(request_ids))
        groups = await self.fetch(
            "SELECT request_id, state, COUNT(*) AS n, "
            "MAX(CASE WHEN torrent_hash <> '' THEN 1 ELSE 0 END) AS in_torrent, "
            "MAX(CASE WHEN jellyfin_id <> '' THEN 1 ELSE 0 END) AS listed "
            f"FROM episodes WHERE request_id IN ({marks}) GROUP BY request_id, state",
            tuple(request_ids),
            keyed=True,  # by request id, for a page's items: see episodes_by_request
        )
        counts: dict[int, list[tuple[str, int]]] = {}
        in_torrent: set[int] = set()
        listed: set[int] = set()
        for group in groups:
            request_id = group["request_id"]
            counts.setdefault(request_id, []).append((group["state"], int(group["n"])))
            if group["in_torrent"]:
                in_torrent.add(request_id)
            if group["listed"] and group["state"] != "deleted":
                listed.add(request_id)
        first_listed = await self._first_listed_episodes(sorted(listed))
        return {
            request_id: EpisodeSummary(
                counts=tuple(sorted(states)),
                first_listed=first_listed.get(request_id),
                in_torrent=request_id in in_torrent,
            )
            for request_id, states in counts.items()
        }

    async def _first_listed_episodes(self, request_ids: Sequence[int]) -> dict[int, str]:
        """The Jellyfin id of each request's first episode (by season and episode) that Jellyfin
        lists and is not deleted."""
        if not request_ids:
            return {}
        rows = await self.fetch(
            "SELECT request_id, jellyfin_id FROM (SELECT request_id, jellyfin_id, "
            "ROW_NUMBER() OVER (PARTITION BY request_id ORDER BY season, episode) AS place "
            f"FROM episodes WHERE request_id IN ({', '.join('?' * len(request_ids))}) "
            "AND jellyfin_id <> '' AND state <> 'deleted') listed WHERE place = 1",
            tuple(request_ids),
        )
        return {row["request_id"]: row["jellyfin_id"] for row in rows}

    async def unapplied_mail(self, *, after_id: int = 0, limit: int = 100) -> list[Mail]:
        rows = await self.fetch(
            f"{_sql.SELECT_MAIL} WHERE applied_at IS NULL AND id > ? ORDER BY id LIMIT ?",
            (after_id, limit),
            keyed=True,
        )
        return [_sql.mail_from(row) for row in rows]

    async def count_timeline_events(self, event: str) -> int:
        rows = await self.fetch("SELECT COUNT(*) AS n FROM timeline WHERE event = ?", (event,))
        return int(rows[0]["n"])

    async def mail_applied(self, mail_id: int) -> bool:
        rows = await self.fetch("SELECT applied_at FROM mail WHERE id = ?", (mail_id,), keyed=True)
        return not rows or rows[0]["applied_at"] is not None

    async def arr_downloads(self, *services: str) -> list[ArrDownload]:
        """What the reconciler last saw in each service's queue, one row per download: the
        services in the order given, each one's downloads by id."""
        found = await self.fetch(
            f"SELECT {', '.join(_sql.ARR_DOWNLOAD_COLUMNS)} FROM arr_downloads "
            f"WHERE service IN ({', '.join('?' * len(services))}) ORDER BY download_id",
            services,
            keyed=True,  # queues are short
        )
        rows = sorted(found, key=lambda row: services.index(row["service"]))
        return [
            ArrDownload(
                **{
                    **row,
                    "queue_ids": tuple(json.loads(row["queue_ids"])),
                    "item_ids": tuple(json.loads(row["item_ids"])),
                    "stalled": bool(row["stalled"]),
                }
            )
            for row in rows
        ]

    async def replacement_waits(self, service: str) -> list[ReplacementWait]:
        """Recovery's waits for replacement grabs in ``service``, open and recently settled."""
        rows = await self.fetch(
            f"SELECT {', '.join(_sql.REPLACEMENT_WAIT_COLUMNS)} FROM replacement_waits "
            "WHERE service = ? ORDER BY removed_at, download_id",
            (service,),
        )
        return [_sql.replacement_wait_from(row) for row in rows]

    async def library_nudges(self) -> set[tuple[int, float]]:
        """(request id, waiting since) of every library refresh already asked for."""
        rows = await self.fetch("SELECT request_id, since FROM library_nudges")
        return {(int(row["request_id"]), float(row["since"])) for row in rows}

    async def jellyseerr_requests(self) -> dict[int, RequestRow]:
        """The newest request of each Jellyseerr request id the tracker knows."""
        rows = await self.fetch(
            f"{_sql.SELECT_REQUEST} WHERE jellyseerr_request_id IS NOT NULL ORDER BY id"
        )
        found: dict[int, RequestRow] = {}
        for row in rows:
            request = _sql.request_from(row)
            assert request.jellyseerr_request_id is not None
            found[request.jellyseerr_request_id] = request
        return found

    async def mail_counts(self) -> dict[str, int]:
        """Webhooks ever stored, hand-offs between actors, and rows not yet applied."""
        rows = await self.fetch(
            "SELECT SUM(CASE WHEN target = 'dispatch' THEN 1 ELSE 0 END) AS webhooks, "
            "SUM(CASE WHEN target <> 'dispatch' THEN 1 ELSE 0 END) AS handoffs, "
            "SUM(CASE WHEN applied_at IS NULL THEN 1 ELSE 0 END) AS pending FROM mail"
        )
        return {name: int(rows[0][name] or 0) for name in ("webhooks", "handoffs", "pending")}

    async def dead_letters(
        self, *, limit: int = 50, offset: int = 0
    ) -> tuple[list[DeadLetter], int]:
        """The newest dead letters (bodies included: never show them unauthenticated)."""
        rows = await self.fetch(
            f"SELECT {', '.join(_sql.DEAD_LETTER_COLUMNS)} FROM dead_letters "
            "ORDER BY id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )
        count = await self.fetch("SELECT COUNT(*) AS n FROM dead_letters")
        return [_sql.dead_letter_from(row) for row in rows], int(count[0]["n"])

    async def dead_letter(self, dead_letter_id: int) -> DeadLetter | None:
        rows = await self.fetch(
            f"SELECT {', '.join(_sql.DEAD_LETTER_COLUMNS)} FROM dead_letters WHERE id = ?",
            (dead_letter_id,),
        )
        return _sql.dead_letter_from(rows[0]) if rows else None

    async def oldest_unapplied_mail_at(self) -> float | None:
        """When the oldest mail row not yet applied was received, or None when all are."""
        rows = await self.fetch("SELECT MIN(received_at) AS at FROM mail WHERE applied_at IS NULL")
        return rows[0]["at"] if rows else None

    async def requests_by_state(self) -> Rows:
        """``media_type``, ``state`` and ``n`` for every pair with at least one request."""
        return await self.fetch(
            "SELECT media_type, state, COUNT(*) AS n FROM requests GROUP BY media_type, state"
        )

    async def episodes_by_state(self) -> Rows:
        return await self.fetch("SELECT state, COUNT(*) AS n FROM episodes GROUP BY state")

    async def downloads_by_state(self) -> Rows:
        """``state``, ``client_state`` (None: never seen by the client) and ``n``."""
        return await self.fetch(
            "SELECT state, client_state, COUNT(*) AS n FROM downloads GROUP BY state, client_state"
        )

    async def pending_notifications(self, *, limit: int = 500) -> list[StoredNotification]:
        """Outbox rows neither sent nor given up, oldest first."""
        rows = await self.fetch(
            f"SELECT {', '.join(_sql.NOTIFICATION_COLUMNS)} FROM notifications "
            "WHERE sent_at IS NULL AND given_up_at IS NULL ORDER BY id LIMIT ?",
            (limit,),
        )
        return [_sql.notification_from(row) for row in rows]

    async def notification_counts(self) -> dict[str, int]:
        """Outbox rows: ``pending`` (of which ``retrying`` failed at least once), ``sent`` and
        ``failed`` (given up) among those kept."""
        rows = await self.fetch(
            "SELECT SUM(CASE WHEN sent_at IS NULL AND given_up_at IS NULL THEN 1 ELSE 0 END) "
            "AS pending, SUM(CASE WHEN sent_at IS NULL AND given_up_at IS NULL AND attempts > 0 "
            "THEN 1 ELSE 0 END) AS retrying, "
            "SUM(CASE WHEN sent_at IS NOT NULL THEN 1 ELSE 0 END) AS sent, "
            "SUM(CASE WHEN given_up_at IS NOT NULL THEN 1 ELSE 0 END) AS failed "
            "FROM notifications"
        )
        return {name: int(rows[0][name] or 0) for name in ("pending", "retrying", "sent", "failed")}

    async def session(self, id_hash: str) -> StoredSession | None:
        """The sign-in whose id hashes to ``id_hash``, expired or not (the caller decides)."""
        rows = await self.fetch(
            f"SELECT {', '.join(_sql.SESSION_COLUMNS)} FROM sessions WHERE id_hash = ?", (id_hash,)
        )
        return StoredSession(**rows[0]) if rows else None

    async def aclose(self) -> None:
        await self._driver.aclose()


@typing.final
class _Signal:
    """Wakes every task waiting for "something new was committed"."""

    def __init__(self) -> None:
        self._event = trio.Event()

    def pulse(self) -> None:
        self._event.set()
        self._event = trio.Event()

    def next_pulse(self) -> trio.Event:
        """The event the next pulse sets: take it before looking, then wait on it."""
        return self._event

    async def wait(self) -> None:
        await self._event.wait()


async def _as_they_are(rows: list[RequestRow]) -> None:
    """Describes a page as nothing more than its rows."""


def _migration_scripts(dialect: str) -> list[tuple[int, str]]:
    """Each schema version's script for ``dialect``, in order.

    ``NNNN_name.sql`` serves both backends; ``NNNN_name.sqlite.sql`` and
    ``NNNN_name.postgresql.sql`` hold what only one of them can run, and follow the shared
    script of their version.
    """
    folder = importlib.resources.files("status_tracker.storage") / "migrations"
    parts: dict[int, list[tuple[bool, str]]] = {}
    for entry in folder.iterdir():
        stem = entry.name.removesuffix(".sql")
        if stem == entry.name:
            continue
        only = stem.rpartition(".")[2] if "." in stem else None
        if only in (None, dialect):
            version = int(stem.split("_", 1)[0])
            parts.setdefault(version, []).append((only is not None, entry.read_text()))
    return [
        (version, ";\n".join(text for _, text in sorted(scripts)))
        for version, scripts in sorted(parts.items())
    ]


def _split_sql(script: str, dialect: str) -> list[str]:
    """The statements of a script, split at each ``;`` that ends one: not one inside a quoted
    string (a PostgreSQL function or ``DO`` body) nor, in SQLite, a trigger's ``BEGIN ... END``."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    statements: list[str] = []
    pending = ""
    for piece in "\n".join(lines).split(";"):
        pending += f"{piece};"
        if _complete(pending, dialect):
            statement = pending.removesuffix(";").strip()
            if statement:
                statements.append(statement)
            pending = ""
    if pending:
        unfinished = pending.removesuffix(";").strip()
        raise StorageError(f"a migration ends inside a statement: {unfinished[:80]!r}")
    return statements


def _complete(text: str, dialect: str) -> bool:
    if dialect == "sqlite":
        return sqlite3.complete_statement(text)
    return text.count("'") % 2 == 0  # outside quotes: a doubled '' inside keeps the count even
