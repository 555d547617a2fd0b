"""``status-tracker backup PATH``: a consistent copy of SQLite that opens and holds the requests."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from tests.cli.support import run_cli, run_cli_async
from tests.support.service import started_service


def titles_in(database: Path) -> list[str]:
    with sqlite3.connect(database) as copy:
        return [title for (title,) in copy.execute("SELECT title FROM requests ORDER BY id")]


async def test_a_backup_taken_while_the_service_runs_holds_its_requests(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'status-tracker.db'}"
    target = tmp_path / "backups" / "status-tracker-copy.db"
    target.parent.mkdir()
    async with started_service(url) as service:
        await service.post_fixture("jellyseerr/media_auto_approved_movie.json")
        await service.post_fixture("jellyseerr/media_approved_tv.json")
        await service.settled()
        expected = [item["title"] for item in reversed(await service.requests())]

        done = await run_cli_async("backup", str(target), cwd=tmp_path, ST_DATABASE_URL=url)

    assert done.status == 0, done.output
    assert done.stdout.startswith(f"backup written to {target}: 2 request(s)")
    assert len(expected) == 2
    assert titles_in(target) == expected


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'status-tracker.db'}"
    (tmp_path / "status-tracker.db").touch()
    target = tmp_path / "precious.db"
    target.write_bytes(b"not to be lost")

    done = run_cli("backup", str(target), cwd=tmp_path, ST_DATABASE_URL=url)

    assert done.status == 2
    assert done.stderr == f"status-tracker: {target} already exists; name a new file\n"
    assert target.read_bytes() == b"not to be lost"


def test_without_a_database_there_is_nothing_to_back_up(tmp_path: Path) -> None:
    done = run_cli("backup", "copy.db", cwd=tmp_path)

    assert done.status == 2
    assert "no database at ./status-tracker.db" in done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.postgresql
async def test_postgresql_is_pointed_to_pg_dump(postgres_url: str, tmp_path: Path) -> None:
    done = await run_cli_async(
        "backup", str(tmp_path / "copy.db"), cwd=tmp_path, ST_DATABASE_URL=postgres_url
    )

    assert done.status == 2
    assert done.stderr.count("\n") == 1
    assert "pg_dump" in done.stderr
    assert not (tmp_path / "copy.db").exists()


def test_a_backup_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    """It holds the tokens, as the database does."""
    database = tmp_path / "status-tracker.db"
    with sqlite3.connect(database) as made:
        made.execute("CREATE TABLE requests (id INTEGER PRIMARY KEY, title TEXT)")
        made.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)")
    database.chmod(0o644)

    done = run_cli("backup", "copy.db", cwd=tmp_path, ST_DATABASE_URL=f"sqlite:///{database}")

    assert done.status == 0, done.output
    assert stat.S_IMODE((tmp_path / "copy.db").stat().st_mode) == 0o600
    assert stat.S_IMODE(database.stat().st_mode) == 0o644
