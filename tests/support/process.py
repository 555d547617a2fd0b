"""Running the real console script in its own process: a free port, its environment, the process."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import attrs
import httpx
import trio

from tests.support.service import API_TOKEN, DEADLINE_S, WEBHOOK_TOKEN, wait_until

SOURCE_TREE = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def service_env(database_url: str, port: int) -> dict[str, str]:
    """The environment for ``status-tracker`` on ``port`` with the test secrets."""
    return {
        **os.environ,
        "ST_DATABASE_URL": database_url,
        "ST_BIND": f"127.0.0.1:{port}",
        "ST_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "ST_API_TOKEN": API_TOKEN,
        "ST_LOG_LEVEL": "WARNING",
    }


def environment(variables: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any ``ST_*`` variable, plus ``variables``.

    ``PYTHONPATH`` points at the source tree, so the child runs this checkout's code.
    """
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("ST_")}
    return {**inherited, "PYTHONPATH": str(SOURCE_TREE), **variables}


@attrs.frozen
class ServiceProcess:
    """A started service: its base URL, the file its output goes to, and the process."""

    url: str
    log: Path
    process: trio.Process


@contextlib.asynccontextmanager
async def service_process(
    cwd: Path,
    *,
    port: int | None = None,
    start_deadline: float = DEADLINE_S,
    poll_s: float = 0.05,
    **variables: str,
) -> AsyncIterator[ServiceProcess]:
    """The service in its own process (on ``port``, or a free one) once ``/health`` answers
    (asked every ``poll_s`` seconds for up to ``start_deadline``).

    Stopped with SIGTERM when the block ends (killed if it does not stop within 20 s); what
    it wrote is in ``log``.
    """
    port = port or free_port()
    log = cwd / "service.log"
    variables = {"ST_BIND": f"127.0.0.1:{port}", **variables}
    with log.open("ab") as output:
        process = await trio.lowlevel.open_process(
            [sys.executable, "-m", "status_tracker.main"],
            cwd=cwd,
            env=environment(variables),
            stdout=output,
            stderr=output,
        )
    service = ServiceProcess(f"http://127.0.0.1:{port}", log, process)
    try:
        async with httpx.AsyncClient(base_url=service.url) as http:

            async def healthy() -> bool:
                if process.returncode is not None:
                    raise AssertionError(f"the service exited at start: {log.read_text()}")
                try:
                    return (await http.get("/health")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_until(
                healthy, what="the service to start", deadline=start_deadline, every=poll_s
            )
        yield service
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        with trio.move_on_after(20):
            await process.wait()
        if process.returncode is None:
            process.kill()
            await process.wait()
