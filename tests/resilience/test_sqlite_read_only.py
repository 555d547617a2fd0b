"""A SQLite file that is read-only when the service opens it: 503 until the permissions are
fixed, then it resumes by itself, without a restart.

Connections opened on a read-only file stay read-only after ``chmod``; they are opened again
during such an outage. (A read-only file at start now stops the service with a message, so
the file opened read-only here is a copy put back, read-only, in place of one removed.)

As root, permission bits do not stop writes; the service then runs without the capabilities
that override them (``setpriv``), as a service running as its own user would.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import trio
from status_tracker.storage import DatabaseUnavailable, open_store

from tests.support.fixtures import numbered_movie_request
from tests.support.process import service_process
from tests.support.service import API_TOKEN, WEBHOOK_TOKEN, wait_until


def movie(number: int) -> str:
    return json.dumps(numbered_movie_request(number, title="Locked Movie", first_tmdb_id=80_000))


def unprivileged() -> list[str]:
    """The command prefix that makes permission bits apply to this user."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root, and setpriv (util-linux) is not installed to drop privileges")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]


@contextlib.asynccontextmanager
async def service(folder: Path, database: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The service in its own process, without the right to write read-only files."""
    async with (
        service_process(
            folder,
            prefix=unprivileged(),
            healthy=False,
            ST_DATABASE_URL=f"sqlite:///{database}",
            ST_WEBHOOK_TOKEN=WEBHOOK_TOKEN,
            ST_API_TOKEN=API_TOKEN,
        ) as started,
        httpx.AsyncClient(base_url=started.url, timeout=10) as http,
    ):
        yield http


async def post(http: httpx.AsyncClient, number: int) -> httpx.Response:
    return await http.post(
        "/webhooks/jellyseerr",
        content=movie(number),
        headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
    )


async def test_a_read_only_database_recovers_once_it_is_writable(tmp_path: Path) -> None:
    database = tmp_path / "status-tracker.db"
    copy = tmp_path / "copy.db"
    async with service(tmp_path, database) as http:
        assert (await post(http, 1)).status_code == 200
        with sqlite3.connect(copy) as backup, sqlite3.connect(database) as live:
            live.backup(backup)
        remove(database)
        assert (await post(http, 2)).status_code == 503

        put_back_read_only(copy, database)

        async def read_only() -> bool:
            health = await http.get("/health")
            return "readonly" in health.json()["database"].get("error", "")

        await wait_until(read_only, what="the probe to open the read-only file")
        refused = await post(http, 3)
        assert refused.status_code == 503, refused.text
        assert refused.headers.get("Retry-After")
        assert (await http.get("/health")).status_code == 503

        database.chmod(0o644)

        async def stored() -> bool:  # as Jellyseerr does: the same webhook again
            return (await post(http, 3)).status_code == 200

        await wait_until(stored, what="the webhook to be stored without a restart")
        assert (await http.get("/health")).status_code == 200

    assert subjects_in(database) == ["Locked Movie 1 (2020)", "Locked Movie 3 (2020)"]
    log = (tmp_path / "service.log").read_text()
    assert log.count("database unavailable, waiting") == 1, log


def remove(database: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


def put_back_read_only(copy: Path, database: Path) -> None:
    shutil.copyfile(copy, database)
    database.chmod(0o444)


def subjects_in(database: Path) -> list[str]:
    with sqlite3.connect(database) as kept:
        bodies = [body for (body,) in kept.execute("SELECT body FROM mail ORDER BY id")]
    return [json.loads(body)["subject"] for body in bodies]


async def test_connections_open_read_only_are_opened_again_by_the_probe(tmp_path: Path) -> None:
    """The same at the driver, in-process: its writing connections read-only, as opened on a
    read-only file; the probe opens them again, and they write."""
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
