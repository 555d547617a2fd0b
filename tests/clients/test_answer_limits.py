"""A dependency's answer is read whole within a deadline and a size: one that trickles forever,
or unpacks into gigabytes, degrades that dependency instead of holding a client or the memory."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator

import httpx
import pytest
import trio
import trio.testing
from status_tracker.clients import (
    MAX_ANSWER_BYTES,
    WHOLE_ANSWER_TIMEOUTS,
    JellyfinClient,
    ServiceUnavailable,
    SonarrClient,
    UnexpectedResponse,
)

KEY = "answer-limits-key"


class Trickle(httpx.AsyncByteStream):
    """A body sent a byte a second, for as long as it is read."""

    def __init__(self) -> None:
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"["
        while True:
            await trio.sleep(1.0)
            self.sent += 1
            yield b" "


async def test_an_answer_trickling_forever_is_too_slow_after_its_whole_deadline(
    autojump_clock: trio.testing.MockClock,
) -> None:
    trickle = Trickle()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Type": "application/json"}, stream=trickle)

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    jellyfin = JellyfinClient("http://jellyfin.test", KEY, http=http, timeout=5.0)
    started = trio.current_time()
    with pytest.raises(ServiceUnavailable) as raised:
        await jellyfin.ping()
    whole = 5.0 * WHOLE_ANSWER_TIMEOUTS
    assert trio.current_time() - started == pytest.approx(whole)
    assert raised.value.reason == f"unreachable: took over {whole:g} s to answer"
    assert KEY not in str(raised.value)
    assert trickle.sent == pytest.approx(whole, abs=1)


@pytest.mark.parametrize("encoding", ["gzip", None])
async def test_an_answer_larger_than_the_limit_is_refused_while_it_is_read(
    encoding: str | None,
) -> None:
    plain = b"[" + b" " * MAX_ANSWER_BYTES + b"]"
    headers = {"Content-Type": "application/json"}
    if encoding:
        headers["Content-Encoding"] = encoding
    body = gzip.compress(plain, compresslevel=1) if encoding else plain
    assert not encoding or len(body) < MAX_ANSWER_BYTES // 100, "a bomb: small on the wire"

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers, content=body)

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    sonarr = SonarrClient("http://sonarr.test", KEY, http=http)
    with pytest.raises(UnexpectedResponse) as raised:
        await sonarr.queue()
    limit = MAX_ANSWER_BYTES // 2**20
    assert raised.value.reason == f"Sonarr sent an answer over {limit} MB"
    assert raised.value.status_code == 200


async def test_a_compressed_answer_inside_the_limit_reads_as_sent() -> None:
    records = b'{"page": 1, "pageSize": 250, "totalRecords": 0, "records": []}'

    def answer(request: httpx.Request) -> httpx.Response:
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        return httpx.Response(200, headers=headers, content=gzip.compress(records))

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    assert await SonarrClient("http://sonarr.test", KEY, http=http).queue() == []
