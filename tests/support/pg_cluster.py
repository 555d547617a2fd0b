"""A throwaway PostgreSQL cluster on its own port that a test can stop and start again."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import typing
from collections.abc import Iterator
from pathlib import Path

from tests.support.process import free_port


def postgres_bin_dir() -> Path | None:
    """Where Debian's ``initdb`` and ``pg_ctl`` live (the newest installed version), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def _version(path: str) -> int:
    part = path.split("/")[4]
    return int(part) if part.isdigit() else 0


@typing.final
class Cluster:
    """One cluster in a temporary folder; ``url`` reaches its ``postgres`` database."""

    def __init__(self, bin_dir: Path, folder: Path) -> None:
        self._bin = bin_dir
        self.data = folder / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as_postgres = os.geteuid() == 0  # initdb and postgres refuse to run as root

    def _run(self, *args: str) -> None:
        command = [str(self._bin / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.data / "log"),
                  "-w", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@contextlib.contextmanager
def throwaway_cluster(bin_dir: Path, *, started: bool = True) -> Iterator[Cluster]:
    """A cluster (started unless asked not to), stopped and deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="st-pg-") as folder:
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        cluster = Cluster(bin_dir, Path(folder))
        cluster.init()
        if started:
            cluster.start()
        try:
            yield cluster
        finally:
            if cluster.running():
                cluster.stop("immediate")
