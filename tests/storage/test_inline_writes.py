"""SQLite runs small write transactions on the event loop, but the loop never waits long there:
told "busy" by another writer, finding its inline writes slow (a slow disk's sync), or given a
prune that may delete many rows, the driver writes from its thread, and the loop goes on
serving meanwhile; the log is copied into the database by the thread, never inline."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trio
from status_tracker.storage import PruneMail, SaveRequest, Store, open_store
from status_tracker.storage import _sqlite as sqlite_driver

from tests.storage.test_contract import movie
from tests.storage.test_failures import bad_values_fail_only_their_own_write
from tests.support.fixtures import numbered_movie_request
from tests.support.service import wait_until

SLOW_WRITE_S = 0.1


class Ticker:
    """Counts the turns a task gets while the event loop is free to run it."""

    def __init__(self) -> None:
        self.ticks = 0

    async def run(self) -> None:
        while True:
            await trio.sleep(0.005)
            self.ticks += 1


class CountedConnection:
    """The inline connection, counting the transactions begun on it."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self.begun = 0

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == "BEGIN IMMEDIATE":
            self.begun += 1
        return self._connection.execute(sql, *args)

    def executemany(self, sql: str, *args: Any) -> sqlite3.Cursor:
        return self._connection.executemany(sql, *args)

    @property
    def in_transaction(self) -> bool:
        return self._connection.in_transaction

    def close(self) -> None:
        self._connection.close()


def counted_inline(store: Store) -> CountedConnection:
    driver = store._driver  # type: ignore[attr-defined]
    counted = CountedConnection(driver._inline_writer)
    driver._inline_writer = counted
    return counted


def slow_inserts(store: Store) -> None:
    """Every insert into ``requests`` now takes as long as a sync on a failing SD card."""
    driver = store._driver  # type: ignore[attr-defined]
    for connection in (driver._inline_writer, driver._writer):
        connection.create_function("pause", 0, lambda: time.sleep(SLOW_WRITE_S))
    driver._writer.execute(
        "CREATE TRIGGER slow_disk AFTER INSERT ON requests BEGIN SELECT pause(); END"
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with open_store(f"sqlite:///{tmp_path / 'inline.db'}") as opened:
        yield opened


async def test_a_write_meeting_another_writer_waits_off_the_event_loop(
    store: Store, tmp_path: Path
) -> None:
    inline = counted_inline(store)
    other = sqlite3.connect(tmp_path / "inline.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    ticker = Ticker()
    landed = trio.Event()

    async def write() -> None:
        await store.commit([SaveRequest(row=movie(1))])
        landed.set()

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(ticker.run)
            nursery.start_soon(write)

            async def served_meanwhile() -> bool:
                return ticker.ticks >= 20

            await wait_until(served_meanwhile, what="the loop to serve while the write waits")
            assert not landed.is_set()
            assert inline.begun == 1, "tried in place first"
            other.execute("COMMIT")
            with trio.fail_after(10):
                await landed.wait()
            nursery.cancel_scope.cancel()
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()
    assert await store.load_request(1) == movie(1)
    assert store.available


async def test_once_inline_writes_are_slow_the_next_ones_leave_the_loop_free(
    store: Store,
) -> None:
    slow_inserts(store)
    ticker = Ticker()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(ticker.run)
        await store.commit([SaveRequest(row=movie(1))])  # in place: nothing told it otherwise
        before = ticker.ticks
        await store.commit([SaveRequest(row=movie(2))])
        during_second = ticker.ticks - before
        nursery.cancel_scope.cancel()
    assert during_second >= 5, "the loop should have served while the slow write ran"
    assert await store.load_request(2) == movie(2)


async def test_after_a_pause_a_disk_quick_again_gets_inline_writes_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_driver, "INLINE_PAUSE_S", 0.2)
    driver = store._driver  # type: ignore[attr-defined]
    slow_inserts(store)
    await store.commit([SaveRequest(row=movie(1))])  # slow, in place: the pause begins
    driver._writer.execute("DROP TRIGGER slow_disk")
    # A sync slowed by a busy machine would begin another pause: not the case tested here.
    monkeypatch.setattr(sqlite_driver, "INLINE_BUDGET_S", 60.0)
    inline = counted_inline(store)

    async def pause_over() -> bool:
        return time.monotonic() >= driver._inline_paused_until

    await wait_until(pause_over, what="the pause to end")
    for number in range(2, 7):
        await store.commit([SaveRequest(row=movie(number))])
    assert inline.begun == 5, "a quick disk's writes should all go in place again"


async def test_a_prune_goes_to_the_writer_thread(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_driver, "INLINE_BUDGET_S", 60.0)  # however slow the disk is
    for number in range(3):
        body = json.dumps(numbered_movie_request(number, title="Old", first_tmdb_id=10))
        await store.accept_webhook(
            source="jellyseerr",
            kind="MEDIA_AUTO_APPROVED",
            body=body,
            dedupe_key=f"old-{number}",
            now=1.0,
        )
    inline = counted_inline(store)
    await store.commit([PruneMail(before=1e12)])
    assert inline.begun == 0, "a prune may delete many rows: not on the event loop"
    await store.commit([SaveRequest(row=movie(1))])
    assert inline.begun == 1


async def test_the_writer_thread_fails_a_bad_write_alone_too(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_driver, "INLINE_STATEMENTS", 0)
    await bad_values_fail_only_their_own_write(store)


async def test_the_log_is_checkpointed_while_writes_go_inline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The inline connection never copies the log into the database (the slow part); the
    writer thread's does, every ``INLINE_CHECKPOINT_EVERY`` transactions: 1,500 webhooks
    stored one by one left a 35 MB log otherwise. (However slow the disk is meanwhile: on a
    busy machine a slow sync would send writes to the thread for seconds, the case this test
    is not about.)"""
    monkeypatch.setattr(sqlite_driver, "INLINE_BUDGET_S", 60.0)
    path = tmp_path / "log.db"
    async with open_store(f"sqlite:///{path}") as store:
        inline = counted_inline(store)
        for number in range(1_500):
            body = numbered_movie_request(number, title="Log", first_tmdb_id=10)
            await store.accept_webhook(
                source="jellyseerr",
                kind="MEDIA_AUTO_APPROVED",
                body=json.dumps(body),
                dedupe_key=f"log-{number}",
                now=1.0,
            )
        assert (await store.mail_counts())["pending"] == 1_500
        assert inline.begun > 1_000, "most should have gone in place"
        log, database = await trio.Path(f"{path}-wal").stat(), await trio.Path(path).stat()
        assert log.st_size < 8 * 1024 * 1024
        assert database.st_size > 256 * 1024, "the webhooks should be in the database file"
