"""The SQLite file removed (or replaced) under a running service is an outage, not a silent loss.

Before, the service went on writing into the deleted file: webhooks got 200, ``/health`` said
the database was reachable, and after a restart everything, those webhooks included, was gone.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from pathlib import Path

import pytest
import trio
from status_tracker.storage import DatabaseUnavailable, Store, open_store
from status_tracker.storage import _sqlite as sqlite_driver
from status_tracker.storage._sqlite import SqliteDriver

from tests.cli.support import run_cli_async
from tests.support.fixtures import numbered_movie_request
from tests.support.service import RunningService, started_service, wait_until


def movie(number: int) -> dict:
    return numbered_movie_request(number, title="Kept Movie", first_tmdb_id=70_000)


def remove_database(database: Path, suffixes: tuple[str, ...] = ("", "-wal", "-shm")) -> None:
    """What ``rm st.db st.db-wal st.db-shm`` does."""
    for suffix in suffixes:
        Path(f"{database}{suffix}").unlink(missing_ok=True)


def replace_with_copy(database: Path) -> None:
    """A copy of the database (another file) moved into its place."""
    replacement = database.with_name("other.db")
    with sqlite3.connect(replacement) as other, sqlite3.connect(database) as live:
        live.backup(other)
    replacement.replace(database)


def titles_in(database: Path) -> list[str]:
    with sqlite3.connect(database) as copy:
        return [title for (title,) in copy.execute("SELECT title FROM requests ORDER BY title")]


async def health(service: RunningService) -> tuple[int, dict]:
    response = await service.http.get("/health")
    return response.status_code, response.json()


def outage_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.getMessage().startswith("database unavailable")
    ]


@pytest.mark.parametrize("put_back", ["by hand", "with restore"])
async def test_a_removed_database_file_answers_503_until_it_is_put_back_and_restarted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, put_back: str
) -> None:
    caplog.set_level(logging.WARNING)
    database = tmp_path / "status-tracker.db"
    url = f"sqlite:///{database}"
    copy = tmp_path / "copy.db"
    async with started_service(url) as service:
        assert (await service.post_webhook("jellyseerr", movie(1))).status_code == 200
        await service.settled()
        with sqlite3.connect(copy) as backup, sqlite3.connect(database) as live:
            live.backup(backup)

        remove_database(database)

        # Told by /health with no write needed (its reads check the file too).
        status, body = await health(service)
        assert (status, body["status"]) == (503, "failing")
        assert "removed or replaced" in body["database"]["error"]
        for number in (2, 3, 4):
            refused = await service.post_webhook("jellyseerr", movie(number))
            assert refused.status_code == 503, refused.text
            assert refused.headers.get("Retry-After")
        status, body = await health(service)
        assert status == 503
        assert body["status"] == "failing"
        assert body["database"]["reachable"] is False
        assert "removed or replaced" in body["database"]["error"]

        async def told(words: str) -> bool:
            return words in (await health(service))[1]["database"].get("error", "")

        # The outage probe has looked, found nothing at the path, and created nothing there:
        # a new empty database under the running service would hide the loss.
        await wait_until(
            lambda: told("no database file at"), what="the probe to find no file at the path"
        )
        assert not database.exists()
        assert (await service.post_webhook("jellyseerr", movie(5))).status_code == 503

        if put_back == "by hand":
            shutil.copyfile(copy, database)
        else:
            done = await run_cli_async("restore", str(copy), cwd=tmp_path, ST_DATABASE_URL=url)
            assert done.status == 0, done.output

        # Not taken up in place: the service still holds what it read from the removed file
        # (the last inbox row it applied, its requests), which would skip or misroute rows.
        await wait_until(lambda: told("restart the service"), what="the probe to see the copy")
        assert (await service.post_webhook("jellyseerr", movie(6))).status_code == 503
    assert len(outage_messages(caplog)) == 1, outage_messages(caplog)

    async with started_service(url) as service:
        assert (await service.post_webhook("jellyseerr", movie(7))).status_code == 200
        await service.settled()
        titles = sorted(item["title"] for item in await service.requests())
    assert titles == ["Kept Movie 1", "Kept Movie 7"]


async def test_writes_committed_into_a_removed_file_are_all_refused(tmp_path: Path) -> None:
    """The check runs after COMMIT: a whole batch that went to the deleted file fails."""
    database = tmp_path / "status-tracker.db"
    url = f"sqlite:///{database}"
    outcomes: dict[int, str] = {}
    async with open_store(url) as store:
        await accept(store, 0)
        remove_database(database)

        async def one(number: int) -> None:
            try:
                await accept(store, number)
                outcomes[number] = "stored"
            except DatabaseUnavailable:
                outcomes[number] = "refused"

        async with trio.open_nursery() as nursery:
            for number in range(1, 9):
                nursery.start_soon(one, number)
        assert not store.available
    assert outcomes == dict.fromkeys(range(1, 9), "refused")
    assert store.writer_statistics().largest_batch > 1, "the writes should share a transaction"
    assert not database.exists()


async def test_a_removed_log_is_noticed_and_the_database_taken_up_again(tmp_path: Path) -> None:
    """Only the -wal removed: the next write is refused; the last old connection to close
    writes what the log held into the database file, which the new connections take up."""
    database = tmp_path / "status-tracker.db"
    url = f"sqlite:///{database}"
    async with open_store(url) as store:
        await accept(store, 0)
        remove_database(database, suffixes=("-wal",))
        with pytest.raises(DatabaseUnavailable, match="removed or replaced"):
            await accept(store, 1)
        with trio.fail_after(10):
            await store.wait_available()
        await accept(store, 2)
    async with open_store(url) as store:
        kept = await store.fetch("SELECT source FROM mail ORDER BY id")
    assert [row["source"] for row in kept] == ["test 0", "test 1", "test 2"]


async def test_another_file_at_the_path_is_refused_until_a_restart(tmp_path: Path) -> None:
    """A copy moved into the database's place: the write that finds it is refused, and so is
    every write until the service starts again; a restart takes up the copy, without the old
    file's log replayed into it."""
    database = tmp_path / "status-tracker.db"
    url = f"sqlite:///{database}"
    async with open_store(url) as store:
        await accept(store, 0)
        replace_with_copy(database)
        with pytest.raises(DatabaseUnavailable, match="removed or replaced"):
            await accept(store, 1)

        async def told_to_restart() -> bool:
            return "restart the service" in (store.outage_statistics().reason or "")

        await wait_until(told_to_restart, what="the probe to find another file at the path")
        with pytest.raises(DatabaseUnavailable):
            await accept(store, 2)
        assert not store.available
    async with open_store(url) as store:
        await accept(store, 3)
        kept = await store.fetch("SELECT source FROM mail ORDER BY id")
    assert [row["source"] for row in kept] == ["test 0", "test 3"]


async def test_the_file_check_costs_one_stat_per_file_and_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a syscall per statement: a transaction of 200 statements stats each file once."""
    database = str(tmp_path / "status-tracker.db")
    driver = SqliteDriver(database)
    try:
        await driver.apply([[("CREATE TABLE t (x INTEGER)", ())]])
        looked_at: list[str] = []
        real_identity = sqlite_driver._identity

        def counted(path: str) -> tuple[int, int] | None:
            looked_at.append(path)
            return real_identity(path)

        monkeypatch.setattr(sqlite_driver, "_identity", counted)
        await driver.apply([[("INSERT INTO t VALUES (?)", (n,))] for n in range(200)])
        assert sorted(looked_at) == [database, f"{database}-wal"]
    finally:
        await driver.aclose()


async def accept(store: Store, number: int) -> None:
    await store.accept_webhook(
        source=f"test {number}", kind="k", body=f"body {number}", dedupe_key=f"d{number}", now=1.0
    )
