"""``--help``, ``-h`` and ``--version`` answer and touch nothing; bad input is one line, exit 2."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.cli.support import run_cli
from tests.support.process import SOURCE_TREE


@pytest.mark.parametrize("flag", ["--help", "-h", "--version"])
def test_help_and_version_answer_without_starting_anything(flag: str, tmp_path: Path) -> None:
    done = run_cli(flag, cwd=tmp_path)

    assert done.status == 0, done.output
    assert "status-tracker" in done.stdout
    assert done.stderr == ""
    assert list(tmp_path.iterdir()) == []


def test_help_lists_every_command(tmp_path: Path) -> None:
    done = run_cli("--help", cwd=tmp_path)

    for command in ("check-config", "tokens", "backup"):
        assert command in done.stdout


def test_version_is_the_package_version(tmp_path: Path) -> None:
    done = run_cli("--version", cwd=tmp_path)

    project = tomllib.loads((SOURCE_TREE / "pyproject.toml").read_text())["project"]
    assert done.stdout.strip() == f"status-tracker {project['version']}"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ST_LOG_LEVEL", "verbose"),
        ("ST_LOG_FORMAT", "yaml"),
        ("ST_POLL_ACTIVE_S", "soon"),
    ],
)
def test_a_bad_value_is_one_line_and_exit_2(variable: str, value: str, tmp_path: Path) -> None:
    done = run_cli(cwd=tmp_path, **{variable: value})

    assert done.status == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert variable in done.stderr
    assert repr(value) in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_command_is_a_usage_error(tmp_path: Path) -> None:
    done = run_cli("serve-forever", cwd=tmp_path)

    assert done.status == 2
    assert "usage: status-tracker" in done.stderr
    assert "invalid choice: 'serve-forever'" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_sqlite_url_without_a_path_is_a_bad_value(tmp_path: Path) -> None:
    done = run_cli(cwd=tmp_path, ST_DATABASE_URL="sqlite:///")

    assert done.status == 2
    assert done.stderr.startswith("status-tracker: ST_DATABASE_URL must be sqlite:///path.db")
