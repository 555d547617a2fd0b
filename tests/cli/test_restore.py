"""``status-tracker restore BACKUP``: the backup put back whole, even after a crash left a -wal.

Before, there was no such command, and the README's "stop the service and put the copy in
place of the database file" left a crashed service's -wal and -shm beside the copy: SQLite
replayed that log into it ("database disk image is malformed"), or undid the restore.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import httpx
import pytest
from status_tracker.storage import open_store

from status_tracker.backup import backup
from status_tracker.checks import latest_schema_version
from tests.cli.support import run_cli, run_cli_async
from tests.support.fixtures import numbered_movie_request
from tests.support.process import ServiceProcess, service_process
from tests.support.service import API_TOKEN, WEBHOOK_TOKEN, wait_until

pytestmark = pytest.mark.usefixtures("usual_umask")


def variables(database: Path) -> dict[str, str]:
    return {
        "ST_DATABASE_URL": f"sqlite:///{database}",
        "ST_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "ST_API_TOKEN": API_TOKEN,
    }


async def post_movie(service: ServiceProcess, number: int) -> None:
    body = numbered_movie_request(number, title="Restored Movie", first_tmdb_id=90_000)
    async with httpx.AsyncClient(base_url=service.url) as http:
        response = await http.post(
            "/webhooks/jellyseerr",
            content=json.dumps(body),
            headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
        )
    assert response.status_code == 200, response.text


async def titles_listed(service: ServiceProcess) -> list[str]:
    async with httpx.AsyncClient(base_url=service.url) as http:
        response = await http.get("/api/requests", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert response.status_code == 200, response.text
    return sorted(item["title"] for item in response.json()["items"])


async def wait_for_titles(service: ServiceProcess, expected: list[str]) -> None:
    async def listed() -> bool:
        return await titles_listed(service) == expected

    await wait_until(listed, what=f"the service to list {expected}")


def integrity(database: Path) -> str:
    with sqlite3.connect(database) as opened:
        return opened.execute("PRAGMA integrity_check").fetchone()[0]


def beside(database: Path) -> list[str]:
    return sorted(path.name for path in database.parent.iterdir() if path.name != "service.log")


async def make_backup(folder: Path, *, movies: int = 1) -> Path:
    """A status-tracker database holding ``movies`` webhooks, backed up to folder/backup.db."""
    database = folder / "made.db"
    async with open_store(f"sqlite:///{database}") as store:
        for number in range(movies):
            await store.accept_webhook(
                source="s", kind="k", body=str(number), dedupe_key=str(number), now=1.0
            )
    backup(f"sqlite:///{database}", folder / "backup.db")
    return folder / "backup.db"


async def test_a_restore_after_a_crash_gives_back_the_backup_whole(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    database = data / "status-tracker.db"
    copy = tmp_path / "backup.db"
    async with service_process(tmp_path, **variables(database)) as service:
        await post_movie(service, 1)
        await post_movie(service, 2)
        await wait_for_titles(service, ["Restored Movie 1", "Restored Movie 2"])
        made = await run_cli_async("backup", str(copy), cwd=tmp_path, **variables(database))
        assert made.status == 0, made.output
        await post_movie(service, 3)
        await post_movie(service, 4)
        await wait_for_titles(service, [f"Restored Movie {n}" for n in (1, 2, 3, 4)])
        service.process.kill()  # kill -9: its -wal and -shm stay
        await service.process.wait()
    assert beside(database) == [
        "status-tracker.db",
        "status-tracker.db-shm",
        "status-tracker.db-wal",
    ]

    done = await run_cli_async("restore", str(copy), cwd=tmp_path, **variables(database))

    assert done.status == 0, done.output
    assert done.stdout.startswith(f"restored {database} from {copy}: 2 request(s), schema")
    assert f"removed the old {database}-wal, {database}-shm" in done.stdout
    assert done.stdout.count("\n") == 1
    assert beside(database) == ["status-tracker.db"]
    assert integrity(database) == "ok"
    async with service_process(tmp_path, **variables(database)) as service:
        assert await titles_listed(service) == ["Restored Movie 1", "Restored Movie 2"]
        await post_movie(service, 5)
        await wait_for_titles(service, [f"Restored Movie {n}" for n in (1, 2, 5)])
    assert integrity(database) == "ok"


async def test_a_restore_is_refused_while_the_service_runs(tmp_path: Path) -> None:
    database = tmp_path / "status-tracker.db"
    copy = await make_backup(tmp_path, movies=3)
    async with service_process(tmp_path, **variables(database)) as service:
        await post_movie(service, 1)
        await wait_for_titles(service, ["Restored Movie 1"])

        done = await run_cli_async("restore", str(copy), cwd=tmp_path, **variables(database))

        assert done.status == 2
        assert done.stdout == ""
        assert done.stderr == (
            f"status-tracker: {database} is open in another process: stop the service (and "
            "any backup running), then restore\n"
        )
        await post_movie(service, 2)
        await wait_for_titles(service, ["Restored Movie 1", "Restored Movie 2"])
    assert not [name for name in beside(database) if name.startswith(".")], "no copy left"


def not_sqlite(backup: Path) -> None:
    backup.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)


def another_database(backup: Path) -> None:
    backup.unlink()
    with sqlite3.connect(backup) as other:
        other.execute("CREATE TABLE notes (text TEXT)")


def newer_schema(backup: Path) -> None:
    with sqlite3.connect(backup) as newer:
        newer.execute(
            "INSERT INTO schema_migrations (version) VALUES (?)", (latest_schema_version() + 1,)
        )


def torn(backup: Path) -> None:
    data = backup.read_bytes()
    backup.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    ("spoil", "said"),
    [
        (not_sqlite, "cannot be read whole as a SQLite database: file is not a database"),
        (torn, "cannot be read whole as a SQLite database: database disk image is malformed"),
        (another_database, "is not a status-tracker database"),
        (newer_schema, "newer than this status-tracker knows"),
        (Path.unlink, "there is no backup at"),
    ],
)
async def test_a_backup_that_cannot_be_restored_is_refused_and_nothing_changes(
    tmp_path: Path, spoil: object, said: str
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    copy = await make_backup(tmp_path, movies=2)
    database = data / "status-tracker.db"
    database.write_bytes(b"the database as it was")
    (data / "status-tracker.db-wal").write_bytes(b"its log")
    spoil(copy)  # type: ignore[operator]

    done = await run_cli_async("restore", str(copy), cwd=tmp_path, **variables(database))

    assert done.status == 2, done.output
    assert done.stderr.count("\n") == 1
    assert said in done.stderr
    assert "Traceback" not in done.stderr
    assert database.read_bytes() == b"the database as it was"
    assert beside(database) == ["status-tracker.db", "status-tracker.db-wal"]


async def test_a_new_database_is_private_and_a_replaced_one_keeps_its_mode(
    tmp_path: Path,
) -> None:
    copy = await make_backup(tmp_path)
    new = tmp_path / "new" / "status-tracker.db"
    new.parent.mkdir()
    done = await run_cli_async("restore", str(copy), cwd=tmp_path, **variables(new))
    assert done.status == 0, done.output
    assert stat.S_IMODE(new.stat().st_mode) == 0o600

    shared = tmp_path / "shared.db"
    shared.write_bytes(b"")
    shared.chmod(0o640)
    done = await run_cli_async("restore", str(copy), cwd=tmp_path, **variables(shared))
    assert done.status == 0, done.output
    assert stat.S_IMODE(shared.stat().st_mode) == 0o640
    assert integrity(shared) == "ok"


def test_postgresql_is_pointed_to_pg_restore(tmp_path: Path) -> None:
    (tmp_path / "backup.db").touch()
    done = run_cli(
        "restore",
        "backup.db",
        cwd=tmp_path,
        ST_DATABASE_URL="postgresql://tracker@127.0.0.1:9/tracker",
    )

    assert done.status == 2
    assert done.stderr.count("\n") == 1
    assert "pg_restore" in done.stderr


def test_help_lists_restore(tmp_path: Path) -> None:
    done = run_cli("--help", cwd=tmp_path)

    assert "restore BACKUP" in done.stdout
    assert "restore" in done.stdout.split("positional arguments:")[1]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root gives files away")
async def test_restoring_as_root_keeps_the_services_user_the_owner(tmp_path: Path) -> None:
    """Root restoring (``docker exec``) for a service that runs as its own user: the restored
    file is the user's, as the one it replaces was, or as its folder is."""
    copy = await make_backup(tmp_path)
    folder = tmp_path / "config"
    folder.mkdir()
    os.chown(folder, 65534, 65534)
    new = folder / "status-tracker.db"
    done = await run_cli_async("restore", str(copy), cwd=tmp_path, **variables(new))
    assert done.status == 0, done.output
    assert owner_and_mode(new) == (65534, 65534, 0o600)

    os.chown(folder, 0, 0)
    new.chmod(0o640)
    done = await run_cli_async("restore", str(copy), cwd=tmp_path, **variables(new))
    assert done.status == 0, done.output
    assert owner_and_mode(new) == (65534, 65534, 0o640)


def owner_and_mode(path: Path) -> tuple[int, int, int]:
    found = path.stat()
    return found.st_uid, found.st_gid, stat.S_IMODE(found.st_mode)
