"""Real qbittorrent-nox daemons on loopback for integration tests (recipe: qbittorrent-offline.md).

``QbtDaemon`` runs one daemon with a throwaway profile; the ``qbt_pair`` fixture gives a seeder and
a downloader; ``seed``/``add_download``/``connect_peers`` drive them through an admin session.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import typing

import attrs
import httpx
import pytest

if typing.TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from tests.support.torrents import MadeTorrent

QBITTORRENT_BINARY: typing.Final = "qbittorrent-nox"
USERNAME: typing.Final = "admin"
PASSWORD: typing.Final = "status-tracker-test-password"
READY_TIMEOUT_S: typing.Final = 20.0
STOP_GRACE_S: typing.Final = 10.0
ADMIN_TIMEOUT_S: typing.Final = 10.0


def free_loopback_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports free on 127.0.0.1 right now (held together, then released)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def pbkdf2_password(password: str) -> str:
    """The ``WebUI\\Password_PBKDF2`` value qBittorrent accepts for ``password``."""
    salt = secrets.token_bytes(16)
    derived = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, 100_000, dklen=64)
    return f'"@ByteArray({base64.b64encode(salt).decode()}:{base64.b64encode(derived).decode()})"'


def _config(*, save_path: Path, webui_port: int, bt_port: int, password: str) -> str:
    """qBittorrent.conf: loopback only, no DHT/PeX/LSD/UPnP/GeoIP, no queueing, no login bans."""
    return f"""\
[LegalNotice]
Accepted=true

[BitTorrent]
Session\\DHTEnabled=false
Session\\PeXEnabled=false
Session\\LSDEnabled=false
Session\\AddTrackersEnabled=false
Session\\AnonymousModeEnabled=false
Session\\Interface=
Session\\InterfaceAddress=127.0.0.1
Session\\Port={bt_port}
Session\\BTProtocol=TCP
Session\\IgnoreLimitsOnLAN=false
Session\\IncludeOverheadInLimits=false
Session\\MultiConnectionsPerIp=true
Session\\QueueingSystemEnabled=false
Session\\RefreshInterval=500
Session\\Preallocation=false
Session\\AddExtensionToIncompleteFiles=false
Session\\DefaultSavePath={save_path}
Session\\TempPathEnabled=false
Session\\GlobalMaxRatio=-1
Session\\Encryption=0
Session\\PerformanceWarning=false
Session\\SaveResumeDataInterval=60

[Network]
PortForwardingEnabled=false
Proxy\\OnlyForTorrents=false

[Preferences]
Connection\\ResolvePeerCountries=false
Connection\\ResolvePeerHostNames=false
General\\Locale=en
WebUI\\Enabled=true
WebUI\\Address=127.0.0.1
WebUI\\Port={webui_port}
WebUI\\UseUPnP=false
WebUI\\LocalHostAuth=true
WebUI\\CSRFProtection=true
WebUI\\HostHeaderValidation=true
WebUI\\MaxAuthenticationFailCount=0
WebUI\\SessionTimeout=3600
DynDNS\\Enabled=false
MailNotification\\enabled=false
Search\\SearchEnabled=false
General\\UseRandomPort=false
WebUI\\Username={USERNAME}
WebUI\\Password_PBKDF2={pbkdf2_password(password)}

[RSS]
AutoDownloader\\EnableProcessing=false
Session\\EnableProcessing=false
"""


def wait_until(
    condition: Callable[[], bool], what: str, *, timeout: float = 30.0, interval: float = 0.05
) -> None:
    """Poll ``condition`` until it holds; raise ``TimeoutError`` naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout} s waiting until {what}")
        time.sleep(interval)


@typing.final
class QbtDaemon:
    """One ``qbittorrent-nox`` process with its own profile under ``root``, Web UI on loopback.

    ``admin`` is a synchronous, logged-in httpx session for test setup; the code under test brings
    its own client (``url``, ``USERNAME``, ``password``).
    """

    def __init__(
        self,
        root: Path,
        *,
        webui_port: int,
        bt_port: int,
        binary: str = QBITTORRENT_BINARY,
        password: str = PASSWORD,
    ) -> None:
        self.root = root
        self.profile = root / "profile"
        self.save_path = root / "downloads"
        self.webui_port = webui_port
        self.bt_port = bt_port
        self.binary = binary
        self.password = password
        self.url = f"http://127.0.0.1:{webui_port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._admin: httpx.Client | None = None

    def spawn(self) -> None:
        """Write the config and start the process; returns at once (see ``wait_ready``)."""
        config_dir = self.profile / "qBittorrent" / "config"
        config_dir.mkdir(parents=True)
        self.save_path.mkdir(parents=True)
        (config_dir / "qBittorrent.conf").write_text(
            _config(
                save_path=self.save_path,
                webui_port=self.webui_port,
                bt_port=self.bt_port,
                password=self.password,
            )
        )
        with (self.root / "stdout.log").open("wb") as log:
            self._process = subprocess.Popen(
                [
                    self.binary,
                    f"--profile={self.profile}",
                    f"--webui-port={self.webui_port}",
                    f"--torrenting-port={self.bt_port}",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "HOME": str(self.profile)},
            )

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        """Poll ``app/version`` until the Web UI answers (403 before login counts as up)."""

        def web_ui_answers() -> bool:
            if self._process is None or self._process.poll() is not None:
                raise RuntimeError(f"{self.binary} exited early; log:\n{self.log_tail()}")
            try:
                httpx.get(f"{self.url}/api/v2/app/version", timeout=1.0)
            except httpx.TransportError:
                return False
            return True

        wait_until(web_ui_answers, f"{self.url} answers", timeout=timeout)

    @property
    def admin(self) -> httpx.Client:
        """A logged-in synchronous session (created on first use)."""
        if self._admin is None:
            client = httpx.Client(base_url=self.url, timeout=ADMIN_TIMEOUT_S)
            response = client.post(
                "/api/v2/auth/login", data={"username": USERNAME, "password": self.password}
            )
            if response.text != "Ok.":
                client.close()
                raise RuntimeError(f"admin login to {self.url} failed: {response.text!r}")
            self._admin = client
        return self._admin

    def api(self, method: str, path: str, **kwargs: typing.Any) -> httpx.Response:
        """Call the Web API through ``admin``; raise on any non-2xx status."""
        response = self.admin.request(method, path, **kwargs)
        response.raise_for_status()
        return response

    def torrent_fields(self, infohash: str) -> dict[str, typing.Any] | None:
        """The raw ``torrents/info`` object for ``infohash``, or None if the daemon lacks it."""
        torrents = self.api("GET", "/api/v2/torrents/info", params={"hashes": infohash}).json()
        return torrents[0] if torrents else None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if the process is still running after ``STOP_GRACE_S``."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def log_tail(self, lines: int = 30) -> str:
        """The end of the daemon's stdout/stderr, for failure messages."""
        log = self.root / "stdout.log"
        return (
            "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""
        )


@typing.final
@attrs.frozen
class QbtPair:
    """Two running daemons on loopback: ``seeder`` has the data, ``downloader`` fetches it."""

    seeder: QbtDaemon
    downloader: QbtDaemon


@contextlib.contextmanager
def running_qbt_pair(root: Path, *, binary: str = QBITTORRENT_BINARY) -> Iterator[QbtPair]:
    """Start a seeder and a downloader in parallel under ``root``; stop both on exit."""
    webui_a, bt_a, webui_b, bt_b = free_loopback_ports(4)
    pair = QbtPair(
        seeder=QbtDaemon(root / "seeder", webui_port=webui_a, bt_port=bt_a, binary=binary),
        downloader=QbtDaemon(root / "downloader", webui_port=webui_b, bt_port=bt_b, binary=binary),
    )
    with contextlib.ExitStack() as stack:
        for daemon in (pair.seeder, pair.downloader):
            stack.callback(daemon.stop)
            daemon.spawn()
        for daemon in (pair.seeder, pair.downloader):
            daemon.wait_ready()
        yield pair


def _add_torrent(daemon: QbtDaemon, torrent: MadeTorrent, options: dict[str, str]) -> None:
    response = daemon.api(
        "POST",
        "/api/v2/torrents/add",
        files={"torrents": (torrent.torrent_path.name, torrent.torrent_path.read_bytes())},
        data=options,
    )
    if response.text != "Ok.":
        raise RuntimeError(f"{daemon.url} refused {torrent.torrent_path.name}: {response.text!r}")


def seed(seeder: QbtDaemon, torrent: MadeTorrent, *, up_limit: int) -> None:
    """Add ``torrent`` on its existing data without a hash check, upload capped at ``up_limit`` B/s.

    Returns once the seeder reports the torrent complete.
    """
    _add_torrent(
        seeder,
        torrent,
        {
            "savepath": str(torrent.data_parent),
            "skip_checking": "true",
            "upLimit": str(up_limit),
        },
    )

    def is_complete() -> bool:
        fields = seeder.torrent_fields(torrent.infohash)
        return fields is not None and fields["progress"] == 1

    wait_until(is_complete, f"the seeder has {torrent.infohash} complete")


def add_download(downloader: QbtDaemon, torrent: MadeTorrent, *, sequential: bool = True) -> None:
    """Add ``torrent`` into the downloader's save path; returns once the daemon lists it."""
    _add_torrent(
        downloader,
        torrent,
        {"savepath": str(downloader.save_path), "sequentialDownload": str(sequential).lower()},
    )
    wait_until(
        lambda: downloader.torrent_fields(torrent.infohash) is not None,
        f"the downloader lists {torrent.infohash}",
    )


def connect_peers(downloader: QbtDaemon, infohash: str, seeder: QbtDaemon) -> None:
    """Tell the downloader where the seeder listens (the torrents are trackerless)."""
    downloader.api(
        "POST",
        "/api/v2/torrents/addPeers",
        data={"hashes": infohash, "peers": f"127.0.0.1:{seeder.bt_port}"},
    )


def delete_torrent(daemon: QbtDaemon, infohash: str, *, delete_files: bool = True) -> None:
    """Remove the torrent (and its files by default) from the daemon."""
    daemon.api(
        "POST",
        "/api/v2/torrents/delete",
        data={"hashes": infohash, "deleteFiles": str(delete_files).lower()},
    )


def end_session(daemon: QbtDaemon, session_id: str) -> None:
    """Log out the session holding cookie ``SID=session_id``, as an idle timeout would."""
    httpx.post(
        f"{daemon.url}/api/v2/auth/logout",
        headers={"Cookie": f"SID={session_id}"},
        timeout=ADMIN_TIMEOUT_S,
    ).raise_for_status()


@pytest.fixture(scope="session")
def qbittorrent_binary() -> str:
    """Path of ``qbittorrent-nox``: skips without it, but fails loudly when ``CI`` is set."""
    path = shutil.which(QBITTORRENT_BINARY)
    if path is None:
        if os.environ.get("CI", "").lower() in {"true", "1", "yes"}:
            pytest.fail(
                f"{QBITTORRENT_BINARY} is not installed but CI is set: "
                "apt-get install -y qbittorrent-nox",
                pytrace=False,
            )
        pytest.skip(f"{QBITTORRENT_BINARY} is not installed")
    return path


@pytest.fixture(scope="module")
def qbt_pair(
    qbittorrent_binary: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[QbtPair]:
    """A running seeder + downloader shared by one test module (use a distinct torrent per test)."""
    with running_qbt_pair(tmp_path_factory.mktemp("qbt"), binary=qbittorrent_binary) as pair:
        yield pair
