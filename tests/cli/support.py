"""Running the real console entry (``python -m status_tracker.main``) as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import attrs
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
