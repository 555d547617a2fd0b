"""A real HTTP server on loopback that records what Apprise ``json://`` notifications post.

It runs in a thread of its own (stdlib ``ThreadingHTTPServer``), so the service under test, in
this process or another, reaches it over a real socket. ``down()`` closes the socket (the
target refuses connections) and ``up()`` listens again on the same port.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import typing
from collections.abc import Iterator
from typing import Any

from .process import free_port


@typing.final
class Receiver:
    """Records each JSON body posted to it, with the path it was posted to."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def url(self, path: str = "notify") -> str:
        """The Apprise URL that posts JSON here."""
        return f"json://127.0.0.1:{self.port}/{path}"

    @property
    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.received)

    def titles(self) -> list[str]:
        return [message["title"] for message in self.messages]

    def up(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with receiver._lock:
                    receiver.received.append({"path": self.path, **body})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


@contextlib.contextmanager
def receiving() -> Iterator[Receiver]:
    """A receiver listening for the duration of the block."""
    receiver = Receiver()
    receiver.up()
    try:
        yield receiver
    finally:
        receiver.down()
