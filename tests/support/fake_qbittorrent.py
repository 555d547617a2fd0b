"""A small fake qBittorrent Web API (v2 wire format) that can be told to answer garbage.

Serves ``/api/v2/auth/login``, ``/api/v2/sync/maindata``, ``/api/v2/torrents/info`` and
``/api/v2/torrents/files`` over HTTP/1.1 (or through ``mock_transport``, on virtual time); the
login is checked, sessions are not.
"""

from __future__ import annotations

import contextlib
import json
import typing
import urllib.parse

from tests.support.fake_http import open_fake_server

if typing.TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

Torrent = dict[str, typing.Any]


@typing.final
class FakeQBittorrent:
    """Torrents by hash, files by hash, and an optional garbage body for every API answer."""

    def __init__(self, username: str, password: str) -> None:
        self.url = ""
        self.torrents: dict[str, Torrent] = {}
        self.files: dict[str, list[dict[str, typing.Any]]] = {}
        self.paths: list[str] = []
        self._credentials = (username, password)
        self._garbage: bytes | None = None
        self._rid = 0

    def add_torrent(self, torrent_hash: str, **fields: typing.Any) -> None:
        """Add (or update) a torrent; fields use qBittorrent's names (``progress``, ``state``)."""
        defaults = {"name": torrent_hash, "progress": 0.0, "state": "downloading", "size": 1}
        self.torrents[torrent_hash] = {
            **defaults,
            **self.torrents.get(torrent_hash, {}),
            **fields,
            "hash": torrent_hash,
        }

    def answer_garbage(self, body: bytes | str | None) -> None:
        """Answer every API call but login with ``body`` (status 200); None answers well again."""
        self._garbage = body.encode() if isinstance(body, str) else body

    def answer(
        self, method: str, target: str, _headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, str, bytes]:
        """Route one request; returns status, content type and body."""
        path, _, query = target.partition("?")
        params = dict(urllib.parse.parse_qsl(query))
        self.paths.append(path)
        if path == "/api/v2/auth/login":
            form = dict(urllib.parse.parse_qsl(body.decode()))
            accepted = (form.get("username"), form.get("password")) == self._credentials
            return 200, "text/plain", b"Ok." if accepted else b"Fails."
        if self._garbage is not None:
            return 200, "application/json", self._garbage
        if path == "/api/v2/sync/maindata":
            self._rid += 1
            maindata = {"rid": self._rid, "full_update": True, "torrents": self._by_hash()}
            return self._json(maindata)
        if path == "/api/v2/torrents/info":
            wanted = params.get("hashes")
            chosen = wanted.split("|") if wanted else list(self.torrents)
            return self._json([self.torrents[h] for h in chosen if h in self.torrents])
        if path == "/api/v2/torrents/files":
            if params.get("hash") not in self.torrents:
                return 404, "text/plain", b"Not Found"
            return self._json(self.files.get(params["hash"], []))
        return 404, "text/plain", b"Not Found"

    def _by_hash(self) -> dict[str, Torrent]:
        return {h: {k: v for k, v in t.items() if k != "hash"} for h, t in self.torrents.items()}

    @staticmethod
    def _json(payload: object) -> tuple[int, str, bytes]:
        return 200, "application/json", json.dumps(payload).encode()


@contextlib.asynccontextmanager
async def open_fake_qbittorrent(username: str, password: str) -> AsyncIterator[FakeQBittorrent]:
    """Serve a fake qBittorrent on 127.0.0.1 (a free port) until the block exits."""
    fake = FakeQBittorrent(username, password)
    async with open_fake_server(fake.answer) as url:
        fake.url = url
        yield fake
