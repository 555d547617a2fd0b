"""``docker/entrypoint.sh`` under a temporary root, with fake ``id``, ``chown`` and ``setpriv``
first on PATH (no Docker engine here): which database it picks, whom it runs as, what it
owns."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ci import require_or_skip

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
FAKES = {
    # The image starts as root; ``--user`` runs are tried with FAKE_UID.
    "id": 'if [ "$1" = "-u" ]; then echo "${FAKE_UID:-0}"; else exec /usr/bin/id "$@"; fi\n',
    "chown": 'echo "chown $*" >> "$LOG"\n',
    "setpriv": 'echo "setpriv $*" >> "$LOG"\n'
    'while [ "$1" != "--" ]; do shift; done; shift\nexec "$@"\n',
}
SHOW = (
    'echo "run $* as database=${ST_DATABASE_URL:-unset} '
    'file=${ST_DATABASE_URL_FILE:-unset}" >> "$LOG"\n'
)


@pytest.fixture
def shell() -> str:
    for name in ("dash", "sh"):
        if found := shutil.which(name):
            return found
    require_or_skip("no POSIX shell")
    raise AssertionError


def run(
    shell: str, tmp_path: Path, *, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, body in {**FAKES, "status-tracker": SHOW}.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}")
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "log"
    log.write_text("")
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    environment = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "LOG": str(log),
        "ST_ENTRYPOINT_ROOT": str(root),
        **(env or {}),
    }
    done = subprocess.run(
        [shell, str(ENTRYPOINT), "status-tracker", "--flag"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done, log.read_text().splitlines()


def test_a_new_install_keeps_its_data_in_config_and_runs_as_1000(
    shell: str, tmp_path: Path
) -> None:
    done, log = run(shell, tmp_path)
    assert done.returncode == 0, done.stderr
    root = tmp_path / "root"
    assert (root / "config").is_dir()
    assert log == [
        f"chown 1000:1000 {root}/config",
        "setpriv --reuid=1000 --regid=1000 --clear-groups --inh-caps=-all -- status-tracker --flag",
        f"run --flag as database=sqlite:///{root}/config/status-tracker.db file=unset",
    ]


def test_puid_and_pgid_are_whom_it_runs_as(shell: str, tmp_path: Path) -> None:
    done, log = run(shell, tmp_path, env={"PUID": "1026", "PGID": "100"})
    assert done.returncode == 0, done.stderr
    assert log[0].startswith("chown 1026:100 ")
    assert log[1].startswith("setpriv --reuid=1026 --regid=100 ")


def test_an_existing_data_database_is_used_while_config_has_none(
    shell: str, tmp_path: Path
) -> None:
    data = tmp_path / "root" / "data"
    data.mkdir(parents=True)
    (data / "status-tracker.db").write_bytes(b"old")
    (data / "status-tracker.db-wal").write_bytes(b"")
    done, log = run(shell, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "using the database in /data" in done.stderr
    assert log[1] == f"chown 1000:1000 {data} {data}/status-tracker.db {data}/status-tracker.db-wal"
    assert log[-1] == f"run --flag as database=sqlite:///{data}/status-tracker.db file=unset"

    # Once /config has one (moved there), /config wins.
    (tmp_path / "root" / "config" / "status-tracker.db").write_bytes(b"moved")
    done, log = run(shell, tmp_path)
    config = tmp_path / "root" / "config"
    assert log[-1] == f"run --flag as database=sqlite:///{config}/status-tracker.db file=unset"


@pytest.mark.parametrize(
    ("variable", "value", "shown"),
    [
        ("ST_DATABASE_URL", "postgresql://db/st", "database=postgresql://db/st file=unset"),
        ("ST_DATABASE_URL_FILE", "/run/secrets/db", "database=unset file=/run/secrets/db"),
    ],
)  # fmt: skip
def test_a_database_url_the_user_set_is_left_alone(
    shell: str, tmp_path: Path, variable: str, value: str, shown: str
) -> None:
    data = tmp_path / "root" / "data"
    data.mkdir(parents=True)
    (data / "status-tracker.db").write_bytes(b"old")
    done, log = run(shell, tmp_path, env={variable: value})
    assert done.returncode == 0, done.stderr
    assert log[-1] == f"run --flag as {shown}"


def test_started_as_a_user_it_drops_nothing(shell: str, tmp_path: Path) -> None:
    done, log = run(shell, tmp_path, env={"FAKE_UID": "1000"})
    assert done.returncode == 0, done.stderr
    config = tmp_path / "root" / "config"
    assert log == [f"run --flag as database=sqlite:///{config}/status-tracker.db file=unset"]


def test_a_puid_that_is_not_a_number_is_refused(shell: str, tmp_path: Path) -> None:
    done, log = run(shell, tmp_path, env={"PUID": "tracker"})
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "status-tracker: PUID and PGID must be numbers, got 'tracker' and '1000'"
    )
    assert log == []


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A temporary folder other users can enter (pytest's own is private to its user)."""
    folder = Path(tempfile.mkdtemp(prefix="st-entrypoint-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def test_as_root_with_the_real_setpriv_it_runs_as_puid_pgid(shell: str, open_tmp: Path) -> None:
    if shutil.which("setpriv") is None:
        require_or_skip("setpriv (util-linux) is not installed")
    if os.geteuid() != 0:
        pytest.skip("needs root, as the image starts")
    tmp_path = open_tmp
    root = tmp_path / "root"
    (root / "data").mkdir(parents=True)
    (root / "data" / "status-tracker.db").write_bytes(b"old")
    probe = tmp_path / "probe"
    probe.write_text(
        '#!/bin/sh\necho "$(id -u):$(id -g) $(id -G) $ST_DATABASE_URL"\n'
        'test -w "${ST_DATABASE_URL#sqlite:///}" && echo writable\n'
    )
    probe.chmod(0o755)
    done = subprocess.run(
        [shell, str(ENTRYPOINT), str(probe)],
        env={**os.environ, "ST_ENTRYPOINT_ROOT": str(root), "PUID": "4321", "PGID": "4322"},
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"4321:4322 4322 sqlite:///{root}/data/status-tracker.db",
        "writable",
    ]
    assert (root / "config").stat().st_uid == 4321
