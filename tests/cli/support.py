"""Running the real console entry (``python -m status_tracker.main``) as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
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


def run_cli(*arguments: str, cwd: Path, prefix: Sequence[str] = (), **variables: str) -> Finished:
    """Run ``status-tracker ARGUMENTS`` (after the command ``prefix``) in ``cwd`` with only
    ``variables`` set among ``ST_*``."""
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "status_tracker.main", *arguments],
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


def read_only_prefix(folder: Path) -> list[str]:
    """What to run a command after so that ``folder`` cannot be written: a read-only bind mount
    of its own (as root, whom permissions do not stop), else nothing (the folder's write
    permission is taken away)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return []
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    mount = 'mount --bind -o ro "$0" "$0" && exec "$@"'
    wrapped = ["unshare", "--mount", "--propagation", "private", "sh", "-c", mount, str(folder)]
    probe = subprocess.run([*wrapped, "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"cannot mount read-only here: {probe.stderr.decode().strip()}")
    return wrapped


def run_where_read_only(folder: Path, *arguments: str, cwd: Path, **variables: str) -> Finished:
    """``run_cli`` where ``folder`` cannot be written."""
    try:
        return run_cli(*arguments, cwd=cwd, prefix=read_only_prefix(folder), **variables)
    finally:
        folder.chmod(0o755)
