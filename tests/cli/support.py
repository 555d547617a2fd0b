"""Running the real console entry (``python -m status_tracker.main``) as a user would."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import attrs
import httpx
import trio

from tests.support.service import wait_until

SOURCE_TREE = Path(__file__).resolve().parents[2]


def environment(variables: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any ``ST_*`` variable, plus ``variables``."""
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("ST_")}
    return {**inherited, "PYTHONPATH": str(SOURCE_TREE), **variables}


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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@attrs.frozen
class ServiceProcess:
    url: str
    log: Path


@contextlib.asynccontextmanager
async def service_process(cwd: Path, **variables: str) -> AsyncIterator[ServiceProcess]:
    """The service in its own process on a free port; stopped with SIGTERM when the block ends.

    Everything it writes to stderr is in ``log`` once the block has ended.
    """
    port = free_port()
    log = cwd / "service.log"
    variables = {"ST_BIND": f"127.0.0.1:{port}", **variables}
    with log.open("wb") as output:
        process = await trio.lowlevel.open_process(
            [sys.executable, "-m", "status_tracker.main"],
            cwd=cwd,
            env=environment(variables),
            stdout=output,
            stderr=output,
        )
    service = ServiceProcess(f"http://127.0.0.1:{port}", log)
    try:
        async with httpx.AsyncClient(base_url=service.url) as http:

            async def healthy() -> bool:
                if process.returncode is not None:
                    raise AssertionError(f"the service exited at start: {log.read_text()}")
                try:
                    return (await http.get("/health")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_until(healthy, what="the service to start")
        yield service
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        with trio.move_on_after(20):
            await process.wait()
        if process.returncode is None:
            process.kill()
            await process.wait()
