"""``status-tracker check-config``: one line per item, exit 0 when all work, no secret shown."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest
import trio

from tests.cli.support import Finished, run_cli, run_cli_async, run_where_read_only
from tests.support.fake_http import Answer, open_fake_server
from tests.support.fake_jellyseerr import open_fake_jellyseerr
from tests.support.fake_postgres import open_stalling_postgres
from tests.support.fake_qbittorrent import open_fake_qbittorrent
from tests.support.fake_shoko import open_fake_shoko
from tests.support.process import free_port

SECRETS = {
    "ST_QBITTORRENT_PASSWORD": "qbt-password-1",
    "ST_JELLYFIN_API_KEY": "jellyfin-key-22",
    "ST_SONARR_API_KEY": "sonarr-key-333",
    "ST_RADARR_API_KEY": "radarr-key-4444",
    "ST_SHOKO_API_KEY": "shoko-key-55555",
    "ST_JELLYSEERR_API_KEY": "jellyseerr-key-8888",
    "ST_WEBHOOK_TOKEN": "webhook-token-666666",
    "ST_API_TOKEN": "api-token-7777777",
}


def jellyfin(api_key: str) -> Answer:
    def answer(
        method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, str, bytes]:
        if target != "/System/Info":
            return 404, "text/plain", b""
        if headers.get("authorization") != f'MediaBrowser Token="{api_key}"':
            return 401, "text/plain", b""
        return 200, "application/json", json.dumps({"Version": "10.11.11"}).encode()

    return answer


def arr(api_key: str, version: str) -> Answer:
    def answer(
        method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, str, bytes]:
        if target != "/api/v3/system/status":
            return 404, "text/plain", b""
        if headers.get("x-api-key") != api_key:
            return 401, "text/plain", b""
        return 200, "application/json", json.dumps({"version": version}).encode()

    return answer


@contextlib.asynccontextmanager
async def every_service() -> AsyncIterator[dict[str, str]]:
    """Fakes of every service; yields the ``ST_*`` variables that point at them."""
    async with (
        open_fake_qbittorrent("admin", SECRETS["ST_QBITTORRENT_PASSWORD"]) as qbittorrent,
        open_fake_server(jellyfin(SECRETS["ST_JELLYFIN_API_KEY"])) as jellyfin_url,
        open_fake_server(arr(SECRETS["ST_SONARR_API_KEY"], "4.0.14")) as sonarr_url,
        open_fake_server(arr(SECRETS["ST_RADARR_API_KEY"], "5.26.2")) as radarr_url,
        open_fake_shoko(SECRETS["ST_SHOKO_API_KEY"]) as shoko,
        open_fake_jellyseerr(SECRETS["ST_JELLYSEERR_API_KEY"]) as jellyseerr,
    ):
        jellyseerr.add_request(1, media_type="movie", tmdb_id=603, title="The Matrix", year=1999)
        jellyseerr.add_request(2, media_type="movie", tmdb_id=604, title="Reloaded", year=2003)
        yield {
            **SECRETS,
            "ST_QBITTORRENT_URL": qbittorrent.url,
            "ST_QBITTORRENT_USERNAME": "admin",
            "ST_JELLYFIN_URL": jellyfin_url,
            "ST_SONARR_URL": sonarr_url,
            "ST_RADARR_URL": radarr_url,
            "ST_SHOKO_URL": shoko.url,
            "ST_JELLYSEERR_URL": jellyseerr.url,
        }


def lines_by_item(done: Finished) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in done.stdout.splitlines())


def assert_no_secret_in(done: Finished, *also: str) -> None:
    for secret in (*SECRETS.values(), *also):
        assert secret not in done.output


async def test_every_configured_service_answering_is_exit_0(tmp_path: Path) -> None:
    async with every_service() as variables:
        done = await run_cli_async("check-config", cwd=tmp_path, **variables)

    assert done.status == 0, done.output
    items = lines_by_item(done)
    assert list(items) == [
        "settings",
        "database",
        "qbittorrent",
        "jellyfin",
        "sonarr",
        "radarr",
        "jellyseerr",
        "shoko",
    ]
    assert all(outcome.startswith("ok (") for outcome in items.values()), done.stdout
    assert items["jellyseerr"] == f"ok (Jellyseerr at {variables['ST_JELLYSEERR_URL']}, 2 requests)"
    assert "Jellyfin 10.11.11" in items["jellyfin"]
    assert "Sonarr 4.0.14" in items["sonarr"]
    assert "Radarr 5.26.2" in items["radarr"]
    assert_no_secret_in(done)
    assert not (tmp_path / "status-tracker.db").exists(), "checking must not create the database"


async def test_a_refused_key_fails_naming_the_item_and_its_variable(tmp_path: Path) -> None:
    async with every_service() as variables:
        done = await run_cli_async(
            "check-config", cwd=tmp_path, **{**variables, "ST_SONARR_API_KEY": "stale-key-8"}
        )

    assert done.status == 2
    items = lines_by_item(done)
    assert items["sonarr"].startswith("failed: ")
    assert "ST_SONARR_API_KEY" in items["sonarr"]
    assert "401" in items["sonarr"]
    assert all(items[item].startswith("ok (") for item in ("jellyfin", "radarr", "shoko"))
    assert_no_secret_in(done, "stale-key-8")


async def test_a_wrong_password_and_an_unreachable_service_both_fail(tmp_path: Path) -> None:
    async with every_service() as variables:
        done = await run_cli_async(
            "check-config",
            cwd=tmp_path,
            **{
                **variables,
                "ST_QBITTORRENT_PASSWORD": "not-the-password",
                "ST_JELLYFIN_URL": f"http://127.0.0.1:{free_port()}",
            },
        )

    assert done.status == 2
    items = lines_by_item(done)
    assert items["qbittorrent"].startswith("failed: ")
    assert "rejected" in items["qbittorrent"]
    assert items["jellyfin"].startswith("failed: ")
    assert "unreachable" in items["jellyfin"]
    assert_no_secret_in(done, "not-the-password")


def nested_status(
    method: str, target: str, headers: Mapping[str, str], body: bytes
) -> tuple[int, str, bytes]:
    """A status JSON nested 100,000 deep: deeper than Python's parser can recurse."""
    return 200, "application/json", b"[" * 100_000 + b"]" * 100_000


async def test_a_service_answering_json_too_deep_to_read_fails_in_one_line(
    tmp_path: Path,
) -> None:
    async with every_service() as variables, open_fake_server(nested_status) as sonarr_url:
        done = await run_cli_async(
            "check-config", cwd=tmp_path, **{**variables, "ST_SONARR_URL": sonarr_url}
        )

    assert done.status == 2, done.output
    items = lines_by_item(done)
    assert items["sonarr"] == (
        f"failed: Sonarr at {sonarr_url} answered /api/v3/system/status with something "
        "other than JSON"
    )
    assert "Traceback" not in done.output
    assert all(items[item].startswith("ok (") for item in ("jellyfin", "radarr", "shoko"))


def test_unconfigured_services_pass_and_say_what_is_off(tmp_path: Path) -> None:
    done = run_cli("check-config", cwd=tmp_path)

    assert done.status == 0, done.output
    items = lines_by_item(done)
    assert items["qbittorrent"].startswith("not configured (ST_QBITTORRENT_URL is not set")
    assert "created at the first start" in items["database"]
    assert list(tmp_path.iterdir()) == []


def test_a_database_newer_than_this_version_fails(tmp_path: Path) -> None:
    database = tmp_path / "status-tracker.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)")
        connection.execute("INSERT INTO schema_migrations VALUES (9999)")

    done = run_cli("check-config", cwd=tmp_path, ST_DATABASE_URL=f"sqlite:///{database}")

    assert done.status == 2
    assert "schema version 9999 is newer" in lines_by_item(done)["database"]


@pytest.mark.postgresql
async def test_an_empty_postgresql_database_is_checked_and_left_empty(
    postgres_url: str, tmp_path: Path
) -> None:
    done = await run_cli_async("check-config", cwd=tmp_path, ST_DATABASE_URL=postgres_url)

    assert done.status == 0, done.output
    assert lines_by_item(done)["database"] == (
        "ok (PostgreSQL, empty; the schema is created at the next start)"
    )


@pytest.mark.postgresql
async def test_an_unreachable_postgresql_fails_without_showing_its_password(
    tmp_path: Path,
) -> None:
    url = f"postgresql://status:pg-password-9@127.0.0.1:{free_port()}/status"

    done = await run_cli_async("check-config", cwd=tmp_path, ST_DATABASE_URL=url)

    assert done.status == 2
    assert lines_by_item(done)["database"].startswith("failed: cannot connect to PostgreSQL")
    assert "pg-password-9" not in done.output


async def test_a_postgresql_that_stops_answering_once_connected_fails_in_time(
    tmp_path: Path,
) -> None:
    async with open_stalling_postgres() as port:
        url = f"postgresql://status:pg-password-9@127.0.0.1:{port}/status"
        with trio.fail_after(60):
            done = await run_cli_async("check-config", cwd=tmp_path, ST_DATABASE_URL=url)

    assert done.status == 2, done.output
    assert lines_by_item(done)["database"] == (
        "failed: PostgreSQL took the connection but did not answer within 5 s"
    )
    assert "Traceback" not in done.output
    assert "pg-password-9" not in done.output


def failures(done: Finished, item: str) -> list[str]:
    """The lines of ``item`` that failed, without the item's name (it may fail more than once)."""
    prefix = f"{item}: failed: "
    return [
        line.removeprefix(prefix) for line in done.stdout.splitlines() if line.startswith(prefix)
    ]


def test_an_unknown_variable_fails_naming_the_setting_it_may_misspell(tmp_path: Path) -> None:
    done = run_cli(
        "check-config",
        cwd=tmp_path,
        ST_QBITORENT_URL="http://localhost:8080",
        ST_NOTHING_LIKE_ANY="x",
    )

    assert done.status == 2, done.output
    assert failures(done, "settings") == [
        "ST_NOTHING_LIKE_ANY is not a setting of this version",
        "ST_QBITORENT_URL is not a setting of this version (did you mean ST_QBITTORRENT_URL?)",
    ]
    assert "localhost:8080" not in done.output
    assert lines_by_item(done)["database"].startswith("ok ("), "the other items are still tried"
    assert list(tmp_path.iterdir()) == []


def test_the_file_forms_and_the_variables_of_the_image_and_tests_are_known(
    tmp_path: Path,
) -> None:
    token = tmp_path / "api-token"
    token.write_text("api-token-from-a-file\n")

    done = run_cli(
        "check-config",
        cwd=tmp_path,
        ST_API_TOKEN_FILE=str(token),
        ST_ENTRYPOINT_ROOT=str(tmp_path),
        ST_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:5432/test",
        ST_FUZZ_EXAMPLES="10",
    )

    assert done.status == 0, done.output
    assert lines_by_item(done)["settings"] == "ok (every ST_ variable has a usable value)"


async def test_an_unreachable_jellyseerr_fails(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"

    done = await run_cli_async(
        "check-config", cwd=tmp_path, ST_JELLYSEERR_URL=url, ST_JELLYSEERR_API_KEY="k-123456"
    )

    assert done.status == 2, done.output
    assert lines_by_item(done)["jellyseerr"].startswith(
        f"failed: Jellyseerr at {url} is unreachable"
    )
    assert "k-123456" not in done.output


async def test_a_refused_jellyseerr_key_fails_naming_its_variable(tmp_path: Path) -> None:
    async with every_service() as variables:
        done = await run_cli_async(
            "check-config",
            cwd=tmp_path,
            **{**variables, "ST_JELLYSEERR_API_KEY": "stale-key-9"},
        )

    assert done.status == 2
    items = lines_by_item(done)
    assert items["jellyseerr"] == (
        f"failed: Jellyseerr at {variables['ST_JELLYSEERR_URL']} refused ST_JELLYSEERR_API_KEY "
        "(HTTP 403)"
    )
    assert all(items[item].startswith("ok (") for item in ("jellyfin", "sonarr", "radarr"))
    assert_no_secret_in(done, "stale-key-9")


def test_jellyseerr_not_configured_says_what_is_off(tmp_path: Path) -> None:
    done = run_cli("check-config", cwd=tmp_path)

    assert lines_by_item(done)["jellyseerr"] == (
        "not configured (ST_JELLYSEERR_URL is not set: requests the tracker never heard of are "
        "not caught up)"
    )


@pytest.mark.parametrize("service", ["SONARR", "RADARR", "JELLYSEERR"])
def test_a_service_url_without_its_key_is_one_line_and_exit_2(service: str, tmp_path: Path) -> None:
    done = run_cli("check-config", cwd=tmp_path, **{f"ST_{service}_URL": "http://127.0.0.1:9"})

    assert done.status == 2
    assert done.stdout == ""
    assert done.stderr == (
        f"status-tracker: ST_{service}_URL is set but ST_{service}_API_KEY is not\n"
    )


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:pg-password-9@127.0.0.1:notaport/x",
        "postgresql://u:pg-password-9@[::1/x",
    ],
)
@pytest.mark.parametrize("command", ["check-config", "tokens"])
def test_a_malformed_postgresql_url_is_one_line_without_its_password(
    command: str, url: str, tmp_path: Path
) -> None:
    done = run_cli(command, cwd=tmp_path, ST_DATABASE_URL=url)

    assert done.status == 2, done.output
    assert done.stdout == ""
    assert done.stderr.startswith("status-tracker: ST_DATABASE_URL is not a usable postgresql://")
    assert done.stderr.count("\n") == 1
    assert "pg-password-9" not in done.output


def test_a_sqlite_folder_that_cannot_be_created_fails(tmp_path: Path) -> None:
    done = run_cli("check-config", cwd=tmp_path, ST_DATABASE_URL="sqlite:////proc/nope/x.db")

    assert done.status == 2, done.output
    assert lines_by_item(done)["database"] == (
        "failed: ST_DATABASE_URL: the folder /proc/nope does not exist and cannot be created in "
        "/proc (No such file or directory)"
    )


def test_a_sqlite_path_below_a_file_fails(tmp_path: Path) -> None:
    (tmp_path / "notes").write_text("not a folder")

    done = run_cli(
        "check-config", cwd=tmp_path, ST_DATABASE_URL=f"sqlite:///{tmp_path}/notes/db/x.db"
    )

    assert done.status == 2, done.output
    assert lines_by_item(done)["database"] == (
        f"failed: ST_DATABASE_URL: {tmp_path}/notes is a file, so the folder "
        f"{tmp_path}/notes/db cannot exist"
    )


def test_a_sqlite_folder_yet_to_be_made_passes_and_is_not_made(tmp_path: Path) -> None:
    done = run_cli("check-config", cwd=tmp_path, ST_DATABASE_URL="sqlite:///data/sub/x.db")

    assert done.status == 0, done.output
    assert "created at the first start" in lines_by_item(done)["database"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("existing", [False, True])
def test_a_read_only_sqlite_folder_fails(existing: bool, tmp_path: Path) -> None:
    folder = tmp_path / "config"
    folder.mkdir()
    if existing:
        sqlite3.connect(folder / "status-tracker.db").close()

    done = run_where_read_only(
        folder,
        "check-config",
        cwd=tmp_path,
        ST_DATABASE_URL=f"sqlite:///{folder}/status-tracker.db",
    )

    assert done.status == 2, done.output
    assert lines_by_item(done)["database"].startswith(
        f"failed: ST_DATABASE_URL: cannot write in the folder {folder} ("
    )


def test_a_listen_address_whose_host_does_not_resolve_fails(tmp_path: Path) -> None:
    done = run_cli("check-config", cwd=tmp_path, ST_BIND="no-such-host.invalid:8601")

    assert done.status == 2, done.output
    [problem] = failures(done, "settings")
    assert problem.startswith(
        "ST_BIND: cannot listen on 'no-such-host.invalid:8601': its host does not resolve ("
    )
