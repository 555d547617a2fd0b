"""A fake server's ``answer`` as an httpx transport: no sockets, so usable on virtual time."""

from __future__ import annotations

import httpx

from tests.support.fake_http import Answer


def mock_transport(answer: Answer) -> httpx.MockTransport:
    """Route every request of an httpx client to ``answer`` (a fake's request handler)."""

    def handle(request: httpx.Request) -> httpx.Response:
        headers = {name.lower(): value for name, value in request.headers.items()}
        status, content_type, body = answer(
            request.method, request.url.raw_path.decode("ascii"), headers, request.content
        )
        return httpx.Response(status, headers={"content-type": content_type}, content=body)

    return httpx.MockTransport(handle)
