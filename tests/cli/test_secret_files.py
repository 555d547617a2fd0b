"""Every secret may come from a file (Docker secrets): ``NAME_FILE``, trailing newline dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from status_tracker.config import Config, ConfigError
from tests.cli.support import run_cli

SECRETS = {
    "ST_WEBHOOK_TOKEN": "webhook_token",
    "ST_API_TOKEN": "api_token",
    "ST_QBITTORRENT_PASSWORD": "qbittorrent_password",
    "ST_JELLYFIN_API_KEY": "jellyfin_api_key",
    "ST_SHOKO_API_KEY": "shoko_api_key",
    "ST_SONARR_API_KEY": "sonarr_api_key",
    "ST_RADARR_API_KEY": "radarr_api_key",
    "ST_DATABASE_URL": "database_url",
}


def secret_file(folder: Path, content: str) -> str:
    path = folder / "secret"
    path.write_text(content)
    return str(path)


@pytest.mark.parametrize(("variable", "field"), SECRETS.items())
def test_a_secret_is_read_from_its_file(variable: str, field: str, tmp_path: Path) -> None:
    value = "postgresql://st:pa ss@db/st" if variable == "ST_DATABASE_URL" else "s3cret value"
    config = Config.from_env({f"{variable}_FILE": secret_file(tmp_path, f"{value}\n")})

    assert getattr(config, field) == value


def test_only_the_trailing_newline_is_dropped(tmp_path: Path) -> None:
    config = Config.from_env({"ST_API_TOKEN_FILE": secret_file(tmp_path, " two\nlines \r\n")})

    assert config.api_token == " two\nlines "


@pytest.mark.parametrize("variable", SECRETS)
def test_a_secret_set_both_ways_is_refused_naming_both(variable: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        Config.from_env(
            {variable: "sqlite:///a.db", f"{variable}_FILE": secret_file(tmp_path, "x\n")}
        )

    assert f"{variable} and {variable}_FILE are both set" in str(refused.value)


@pytest.mark.parametrize("content", [None, "", "\n", b"\xff\xfehunter2"])
def test_a_file_that_cannot_be_used_is_named_and_its_content_never(
    content: str | bytes | None, tmp_path: Path
) -> None:
    path = tmp_path / "api-token"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)

    with pytest.raises(ConfigError) as refused:
        Config.from_env({"ST_API_TOKEN_FILE": str(path)})

    message = str(refused.value)
    assert message.startswith("ST_API_TOKEN_FILE: ")
    assert str(path) in message
    assert "hunter2" not in message
    assert "\\xff" not in message


def test_the_console_script_refuses_a_conflict_in_one_line(tmp_path: Path) -> None:
    token_file = secret_file(tmp_path, "from-the-file\n")

    done = run_cli(cwd=tmp_path, ST_API_TOKEN="from-the-variable", ST_API_TOKEN_FILE=token_file)

    assert done.status == 2
    assert done.stderr == (
        "status-tracker: ST_API_TOKEN and ST_API_TOKEN_FILE are both set; set only one\n"
    )
    assert not (tmp_path / "status-tracker.db").exists()
