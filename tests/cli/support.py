"""Running the real console entry (``python -m status_tracker.main``) as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import attrs
import pytest
import trio

from tests.support.process import environment


@attrs.frozen
class Finished:
    status: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(*arguments: str, cwd: Path, **variables: str) -> Finished:
    """Run ``status-tracker ARGUMENTS`` in ``cwd`` with only ``variables`` set among ``ST_*``."""
    done = subprocess.run(
        [sys.executable, "-m", "status_tracker.main", *arguments],
        cwd=cwd,
        env=environment(variables),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return Finished(done.returncode, done.stdout, done.stderr)


async def run_cli_async(*arguments: str, cwd: Path, **variables: str) -> Finished:
    """``run_cli`` for a Trio test that serves fakes meanwhile."""
    done = await trio.run_process(
        [sys.executable, "-m", "status_tracker.main", *arguments],
        cwd=cwd,
        env=environment(variables),
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )
    return Finished(done.returncode, done.stdout.decode(), done.stderr.decode())


def read_only_command(folder: Path, command: list[str]) -> list[str]:
    """``command``, run where ``folder`` cannot be written: a read-only bind mount of its own
    (as root, whom permissions do not stop), else the folder's write permission taken away."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return command
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    mount = 'mount --bind -o ro "$0" "$0" && exec "$@"'
    wrapped = ["unshare", "--mount", "--propagation", "private", "sh", "-c", mount, str(folder)]
    probe = subprocess.run([*wrapped, "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"cannot mount read-only here: {probe.stderr.decode().strip()}")
    return [*wrapped, *command]


def run_where_read_only(folder: Path, *arguments: str, cwd: Path, **variables: str) -> Finished:
    command = read_only_command(folder, [sys.executable, "-m", "status_tracker.main", *arguments])
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            env=environment(variables),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        folder.chmod(0o755)
    return Finished(done.returncode, done.stdout, done.stderr)
