"""Which ``ST_*`` names are settings, and values that parse but cannot work: each refused at
start in one line (``ConfigError``), a misspelt name found with the setting it misspells."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from status_tracker.config import (
    NOT_SETTINGS,
    SETTINGS,
    Config,
    ConfigError,
    find_unknown_variables,
    unknown_variable_problem,
)
from tests.support.process import SOURCE_TREE


class RecordingEnvironment(dict[str, str]):
    """An environment that notes every name looked up in it."""

    def __init__(self) -> None:
        super().__init__()
        self.read: set[str] = set()

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        self.read.add(key)
        return super().get(key, default)


def test_the_settings_are_exactly_the_variables_the_configuration_reads() -> None:
    environment = RecordingEnvironment()
    Config.from_env(environment)

    assert environment.read == SETTINGS


def test_every_setting_is_in_the_readme() -> None:
    readme = (SOURCE_TREE / "README.md").read_text()

    assert sorted(name for name in SETTINGS if f"`{name}`" not in readme) == []


ENVIRONMENT_READ = re.compile(r"""(?:environ(?:\.get\(|\[)|getenv\()\s*["'](ST_\w+)""")


def test_the_variables_the_image_and_the_tests_read_are_not_reported_as_unknown() -> None:
    named: set[str] = set()
    for path in (SOURCE_TREE / "Dockerfile", *(SOURCE_TREE / "docker").iterdir()):
        named.update(re.findall(r"\bST_\w+", path.read_text()))
    for folder in ("tests", "bench"):
        for path in (SOURCE_TREE / folder).rglob("*.py"):
            named.update(ENVIRONMENT_READ.findall(path.read_text()))

    assert {"ST_ENTRYPOINT_ROOT", "ST_TEST_POSTGRES_URL"} <= named
    assert find_unknown_variables(dict.fromkeys(named, "x")) == ()
    assert not SETTINGS & NOT_SETTINGS


def test_unknown_names_are_found_and_the_closest_setting_suggested() -> None:
    config = Config.from_env(
        {
            "ST_QBITORENT_URL": "http://localhost:8080",
            "ST_ENTRYPOINT_ROOT": "/tmp/root",
            "ST_API_TOKEN_FILE_": "x",
            "ST_ZZZ": "1",
            "PATH": "/usr/bin",
        }
    )

    assert config.unknown_variables == ("ST_API_TOKEN_FILE_", "ST_QBITORENT_URL", "ST_ZZZ")
    assert config.qbittorrent_url is None
    assert unknown_variable_problem("ST_QBITORENT_URL") == (
        "ST_QBITORENT_URL is not a setting of this version (did you mean ST_QBITTORRENT_URL?)"
    )
    assert unknown_variable_problem("ST_API_TOKEN_FILE_") == (
        "ST_API_TOKEN_FILE_ is not a setting of this version (did you mean ST_API_TOKEN_FILE?)"
    )
    assert unknown_variable_problem("ST_ZZZ") == "ST_ZZZ is not a setting of this version"


@pytest.mark.parametrize("service", ["JELLYFIN", "SONARR", "RADARR", "JELLYSEERR"])
def test_a_service_url_without_its_key_is_refused(service: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Config.from_env({f"ST_{service}_URL": "http://service.lan:1234"})

    assert str(refused.value) == f"ST_{service}_URL is set but ST_{service}_API_KEY is not"


def test_a_misspelt_key_is_named_when_the_url_lacks_it() -> None:
    with pytest.raises(ConfigError) as refused:
        Config.from_env({"ST_SONARR_URL": "http://sonarr:8989", "ST_SONARR_APIKEY": "key-1234"})

    assert str(refused.value) == (
        "ST_SONARR_URL is set but ST_SONARR_API_KEY is not "
        "(ST_SONARR_APIKEY is set: did you mean ST_SONARR_API_KEY?)"
    )


def test_a_service_key_from_its_file_is_enough(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text("key-1234\n")

    config = Config.from_env(
        {"ST_JELLYSEERR_URL": "http://jellyseerr:5055", "ST_JELLYSEERR_API_KEY_FILE": str(key)}
    )

    assert config.jellyseerr_api_key == "key-1234"


PASSWORD = "pg-secret-77"


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://u:{PASSWORD}@127.0.0.1:notaport/x",
        f"postgresql://u:{PASSWORD}@[::1/x",
        f"postgresql://u:{PASSWORD}@[::1]:99999/x",
        f"postgres://u:{PASSWORD}@db:0/x",
        f"postgresql://u:{PASSWORD}@db1:5432,db2:port/x",
        f"postgresql://u:pg/{PASSWORD}@db/x",
    ],
)
def test_a_postgresql_url_that_does_not_parse_is_refused_without_showing_it(url: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Config.from_env({"ST_DATABASE_URL": url})

    message = str(refused.value)
    assert message.startswith("ST_DATABASE_URL is not a usable postgresql:// URL"), message
    assert PASSWORD not in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1:5432",
        "postgresql://postgres@127.0.0.1:5432/",
        f"postgresql://u:{PASSWORD}@db/?sslmode=disable",
    ],
)
def test_a_postgresql_url_without_a_database_name_is_the_users_database(url: str) -> None:
    """As with libpq: PGDATABASE's, else the user's own (a setup that ran before keeps running)."""
    assert Config.from_env({"ST_DATABASE_URL": url}).database_url == url


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1:5432/test",
        "postgres://st:pa%2Fss@db/st",
        "postgresql://st:pa ss@db/st",
        "postgresql://st@[::1]:5432/st",
        "postgresql://st@db1:5432,db2:5433/st",
        "postgresql:///st?host=/var/run/postgresql",
        "postgresql://st@db/?database=st",
    ],
)
def test_a_usable_postgresql_url_is_taken_as_it_is(url: str) -> None:
    assert Config.from_env({"ST_DATABASE_URL": url}).database_url == url
