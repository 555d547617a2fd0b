"""The service itself (no command): a setting that cannot work stops it before it generates or
opens anything, in one line naming the variable, exit status 2; an unknown ``ST_*`` variable
is one warning and the service runs."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.cli.support import Finished, run_cli, run_where_read_only
from tests.support.process import free_port, service_process
from tests.support.service import API_TOKEN, WEBHOOK_TOKEN


def assert_one_line(done: Finished, start: str) -> None:
    assert done.status == 2, done.output
    assert done.stdout == ""
    assert done.stderr.startswith(f"status-tracker: {start}"), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "generated" not in done.stderr


@pytest.mark.parametrize("service", ["SONARR", "RADARR", "JELLYSEERR"])
def test_a_service_url_without_its_key_stops_the_start(service: str, tmp_path: Path) -> None:
    done = run_cli(cwd=tmp_path, **{f"ST_{service}_URL": "http://127.0.0.1:9"})

    assert_one_line(done, f"ST_{service}_URL is set but ST_{service}_API_KEY is not")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:pg-password-9@127.0.0.1:notaport/x",
        "postgresql://u:pg-password-9@[::1",
    ],
)
def test_a_malformed_postgresql_url_stops_the_start_without_its_password(
    url: str, tmp_path: Path
) -> None:
    done = run_cli(cwd=tmp_path, ST_DATABASE_URL=url)

    assert_one_line(done, "ST_DATABASE_URL is not a usable postgresql:// URL")
    assert "pg-password-9" not in done.output


def test_a_sqlite_folder_that_cannot_be_created_stops_the_start(tmp_path: Path) -> None:
    done = run_cli(cwd=tmp_path, ST_DATABASE_URL="sqlite:////proc/nope/x.db")

    assert_one_line(
        done,
        "ST_DATABASE_URL: the folder /proc/nope does not exist and cannot be created in /proc "
        "(No such file or directory)",
    )


@pytest.mark.parametrize("existing", [False, True])
def test_a_read_only_sqlite_folder_stops_the_start_naming_it(
    existing: bool, tmp_path: Path
) -> None:
    folder = tmp_path / "config"
    folder.mkdir()
    database = folder / "status-tracker.db"
    if existing:
        database.write_bytes(b"")

    done = run_where_read_only(folder, cwd=tmp_path, ST_DATABASE_URL=f"sqlite:///{database}")

    assert_one_line(done, f"ST_DATABASE_URL: cannot write in the folder {folder} (")
    assert sorted(path.name for path in folder.iterdir()) == (
        ["status-tracker.db"] if existing else []
    )


def test_a_listen_host_that_does_not_resolve_stops_the_start_before_anything(
    tmp_path: Path,
) -> None:
    done = run_cli(cwd=tmp_path, ST_BIND=f"no-such-host.invalid:{free_port()}")

    assert_one_line(done, "ST_BIND: cannot listen on 'no-such-host.invalid:")
    assert "its host does not resolve" in done.stderr
    assert list(tmp_path.iterdir()) == [], "no database, no tokens before the address works"


async def test_an_unknown_variable_is_one_warning_and_the_service_runs(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with (
        service_process(
            tmp_path,
            ST_DATABASE_URL=sqlite_url,
            ST_WEBHOOK_TOKEN=WEBHOOK_TOKEN,
            ST_API_TOKEN=API_TOKEN,
            ST_QBITORENT_URL="http://localhost:8080",
            ST_ENTRYPOINT_ROOT=str(tmp_path),
        ) as service,
        httpx.AsyncClient(base_url=service.url) as http,
    ):
        health = await http.get("/health")

    assert health.status_code == 200
    mentioned = [line for line in service.log.read_text().splitlines() if "ST_" in line]
    assert len(mentioned) == 1, mentioned
    [warning] = mentioned
    assert " WARNING " in warning
    assert warning.endswith(
        "ignoring variables that are not settings of this version: "
        "ST_QBITORENT_URL (did you mean ST_QBITTORRENT_URL?)"
    )
