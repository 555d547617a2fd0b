"""The real console script in its own process, for tests that attack it from outside."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
import typing
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx

from tests.support.databases import POSTGRES_ADMIN_URL
from tests.support.process import free_port, service_env
from tests.support.service import API_TOKEN, WEBHOOK_TOKEN

START_DEADLINE_S = 30.0


@typing.final
class ServiceProcess:
    """A started service: its process, base URL, and the log file it writes."""

    def __init__(
        self, process: subprocess.Popen[bytes], url: str, log: Path, database_url: str
    ) -> None:
        self.process = process
        self.url = url
        self.log = log
        self.database_url = database_url

    def alive(self) -> bool:
        return self.process.poll() is None

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30.0)

    @staticmethod
    def webhook_headers() -> dict[str, str]:
        return {"Authorization": f"Bearer {WEBHOOK_TOKEN}", "Content-Type": "text/plain"}

    @staticmethod
    def api_headers() -> dict[str, str]:
        return {"Authorization": f"Bearer {API_TOKEN}"}


@contextlib.contextmanager
def service_process(database_url: str, folder: Path) -> Iterator[ServiceProcess]:
    """Start ``status-tracker`` on a free port against ``database_url``; kill it afterwards."""
    port = free_port()
    log = folder / "service.log"
    env = service_env(database_url, port)
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "status_tracker.main"], env=env, stdout=output, stderr=output
        )
    service = ServiceProcess(process, f"http://127.0.0.1:{port}", log, database_url)
    try:
        _wait_healthy(service)
        yield service
    finally:
        process.kill()
        process.wait(timeout=30)


def _wait_healthy(service: ServiceProcess) -> None:
    deadline = time.monotonic() + START_DEADLINE_S
    with service.client() as http:
        while time.monotonic() < deadline:
            if not service.alive():
                raise AssertionError(f"the service exited at start: {service.log.read_text()}")
            try:
                if http.get("/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    raise AssertionError(f"the service did not start within {START_DEADLINE_S} s")


@contextlib.contextmanager
def throwaway_postgres_url() -> Iterator[str]:
    """A new PostgreSQL database for a synchronous test, dropped afterwards."""
    name = f"st_fuzz_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE "{name}" WITH (FORCE)'))
