"""PostgreSQL is an extra: on SQLite the service and every command run without asyncpg; a
PostgreSQL URL without it is one clear line and exit status 2, and with it nothing more is
needed (no trio-asyncio: asyncpg runs on an asyncio loop of its own thread). And the image's
HEALTHCHECK command passes against the real service under a URL base."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import trio

from tests.docker.test_image import instructions
from tests.support.process import free_port, service_env

ROOT = Path(__file__).resolve().parents[2]
# The console script, with the PostgreSQL extra made impossible to import.
WITHOUT_EXTRA = (
    "import sys; sys.modules['asyncpg'] = None; "
    "from status_tracker.main import main; sys.exit(main(sys.argv[1:]))"
)
WITHOUT_TRIO_ASYNCIO = (
    "import sys; sys.modules['trio_asyncio'] = None; "
    "from status_tracker.main import main; sys.exit(main(sys.argv[1:]))"
)
START_S = 30.0


def without_extra(*arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRA, *arguments],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_a_postgresql_url_without_the_extra_is_one_clear_line(tmp_path: Path) -> None:
    env = service_env("postgresql://tracker@127.0.0.1:5432/tracker", free_port())
    for arguments in [(), ("check-config",), ("tokens",)]:
        done = without_extra(*arguments, env=env)
        assert done.returncode == 2, (arguments, done.stderr)
        assert done.stderr.splitlines() == [
            "status-tracker: ST_DATABASE_URL is a PostgreSQL URL but PostgreSQL support is not "
            "installed; install it with: pip install '.[postgresql]' (from the source folder)"
        ]


def test_on_sqlite_serving_and_every_command_need_no_postgresql_support(tmp_path: Path) -> None:
    port = free_port()
    database = tmp_path / "status-tracker.db"
    env = {**service_env(f"sqlite:///{database}", port), "ST_URL_BASE": "/tracker"}
    service = subprocess.Popen(
        [sys.executable, "-c", WITHOUT_EXTRA], env=env, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        health = wait_for_health(f"http://127.0.0.1:{port}/tracker/health", service)
        assert health["database"]["dialect"] == "sqlite"
        # The image's HEALTHCHECK, as it is in the Dockerfile, with this Python.
        healthcheck = json.loads(
            next(arg for kind, arg in instructions() if kind == "HEALTHCHECK").split("CMD", 1)[1]
        )
        assert healthcheck[0] == "/app/.venv/bin/python"
        command = [sys.executable, *healthcheck[1:]]
        assert subprocess.run(command, env=env, timeout=30, check=False).returncode == 0
        no_base = {**env, "ST_URL_BASE": ""}
        assert subprocess.run(command, env=no_base, timeout=30, check=False).returncode != 0
    finally:
        service.send_signal(signal.SIGTERM)
        _, stderr = service.communicate(timeout=30)
    assert service.returncode == 0, stderr

    tokens = without_extra("tokens", env=env)
    assert tokens.returncode == 0, tokens.stderr
    assert "ST_API_TOKEN is set in the environment" in tokens.stdout
    check = without_extra("check-config", env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    copy = without_extra("backup", str(tmp_path / "copy.db"), env=env)
    assert copy.returncode == 0, copy.stderr
    assert (tmp_path / "copy.db").is_file()


async def test_on_postgresql_asyncpg_is_all_it_needs(postgres_url: str) -> None:
    env = service_env(postgres_url, free_port())
    said: dict[str, str] = {}
    for command in ["tokens", "check-config"]:  # tokens opens the store: migrates, reads
        done = await trio.run_process(
            [sys.executable, "-c", WITHOUT_TRIO_ASYNCIO, command],
            env=env, cwd=ROOT, capture_stdout=True, capture_stderr=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr.decode()
        said[command] = done.stdout.decode()
    assert "ST_API_TOKEN is set in the environment" in said["tokens"]
    assert "PostgreSQL, schema version" in said["check-config"]
    assert ", current" in said["check-config"]


def wait_for_health(url: str, service: subprocess.Popen[str]) -> dict:
    deadline = time.monotonic() + START_S
    while True:
        assert service.poll() is None, service.communicate()[1]
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return json.loads(answer.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
