"""``status-tracker tokens`` shows the stored secrets; ``--rotate`` replaces one for good."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.cli.support import run_cli, run_cli_async, run_where_read_only
from tests.support.service import started_service


def stored_tokens(stdout: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in stdout.splitlines())


async def test_tokens_shows_what_the_service_generated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'status-tracker.db'}"
    async with started_service(url, webhook_token=None, api_token=None) as service:
        tokens = service.system.tokens

    done = await run_cli_async("tokens", cwd=tmp_path, ST_DATABASE_URL=url)

    assert done.status == 0, done.output
    assert stored_tokens(done.stdout) == {
        "ST_WEBHOOK_TOKEN": tokens.webhook,
        "ST_API_TOKEN": tokens.api,
    }


async def test_a_rotated_api_token_replaces_the_old_one_from_the_next_start(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'status-tracker.db'}"
    async with started_service(url, webhook_token=None, api_token=None) as service:
        old = service.system.tokens
        # Rotating while the service runs is what a user would do before restarting it.
        done = await run_cli_async("tokens", "--rotate", "api", cwd=tmp_path, ST_DATABASE_URL=url)

    assert done.status == 0, done.output
    new = stored_tokens(done.stdout)["ST_API_TOKEN"]
    assert new != old.api
    assert "dashboard sign-in ends" in done.stderr
    async with started_service(url, webhook_token=None, api_token=None) as service:
        assert service.system.tokens.webhook == old.webhook

        async def list_requests(token: str) -> httpx.Response:
            return await service.http.get(
                "/api/requests", headers={"Authorization": f"Bearer {token}"}
            )

        assert (await list_requests(old.api)).status_code == 401
        assert (await list_requests(new)).status_code == 200


def test_rotating_a_token_set_in_the_environment_is_refused(tmp_path: Path) -> None:
    database = tmp_path / "status-tracker.db"
    database.touch()

    done = run_cli(
        "tokens",
        "--rotate",
        "webhook",
        cwd=tmp_path,
        ST_DATABASE_URL=f"sqlite:///{database}",
        ST_WEBHOOK_TOKEN="configured-webhook-token",
    )

    assert done.status == 2
    assert "ST_WEBHOOK_TOKEN is set" in done.stderr
    assert "configured-webhook-token" not in done.output
    assert database.stat().st_size == 0


def test_without_a_database_nothing_is_created(tmp_path: Path) -> None:
    done = run_cli("tokens", cwd=tmp_path)

    assert done.status == 2
    assert done.stderr.startswith("status-tracker: there is no database at ./status-tracker.db")
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_token_name_is_a_usage_error(tmp_path: Path) -> None:
    done = run_cli("tokens", "--rotate", "view", cwd=tmp_path)

    assert done.status == 2
    assert "invalid choice: 'view'" in done.stderr


def test_tokens_in_a_read_only_folder_is_one_line_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "config"
    folder.mkdir()
    database = folder / "status-tracker.db"
    database.touch()

    done = run_where_read_only(
        folder, "tokens", cwd=tmp_path, ST_DATABASE_URL=f"sqlite:///{database}"
    )

    assert done.status == 2, done.output
    assert done.stdout == ""
    assert done.stderr.startswith(
        f"status-tracker: ST_DATABASE_URL: cannot write in the folder {folder} ("
    )
    assert done.stderr.count("\n") == 1, done.stderr
