"""Running the real console script in its own process: a free port and the environment it needs."""

from __future__ import annotations

import os
import socket

from tests.support.service import API_TOKEN, WEBHOOK_TOKEN


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
