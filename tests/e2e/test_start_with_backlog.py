"""A service killed (SIGKILL) with thousands of unapplied rows starts again serving at once:
``/health`` and the API answer while the backlog is replayed behind them, and every row ends
applied exactly once.

The replay is held open deterministically: the oldest row is a deletion to sync to Radarr, and
this Radarr answers a deletion only when the test releases it (trickling its headers meanwhile,
as a stalled server does, so the client keeps waiting). A wave of the replay ends when all its
rows are applied, so every row beyond the first wave waits until the release.
"""

from __future__ import annotations

import contextlib
import functools
import json
import signal
import time
import typing
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import httpx
import trio
from status_tracker.actors.mail import SERVICES_TARGET, encode
from status_tracker.actors.media_request.messages import DeletionSyncWanted
from status_tracker.ingress.translate import dedupe_key, event_key, event_type_of, translate
from status_tracker.storage import IncomingMail, PostMail, SaveRequest, open_store

from status_tracker.domain import RequestRow
from tests.support.fixtures import numbered_movie_request
from tests.support.process import service_process
from tests.support.service import API_TOKEN, WEBHOOK_TOKEN, wait_until

APPROVALS = 2000
DELETED_MOVIE = 77


@typing.final
@attrs.define
class HeldRadarr:
    """Answers ``DELETE /api/v3/movie/{id}`` once released; anything else with 503."""

    url: str = ""
    released: trio.Event = attrs.Factory(trio.Event)
    deletions_answered: int = 0

    async def serve(self, stream: trio.SocketStream) -> None:
        async with stream:
            with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = await stream.receive_some(4096)
                    if not chunk:
                        return
                    head += chunk
                method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
                if method != "DELETE" or not target.startswith("/api/v3/movie/"):
                    await stream.send_all(
                        b"HTTP/1.1 503 Service Unavailable\r\n"
                        b"Content-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                    return
                await stream.send_all(b"HTTP/1.1 200 OK\r\n")
                while not self.released.is_set():
                    with trio.move_on_after(0.5):
                        await self.released.wait()
                    await stream.send_all(b"X-Held: yes\r\n")
                await stream.send_all(
                    b"Content-Type: application/json\r\nContent-Length: 2\r\n"
                    b"Connection: close\r\n\r\n{}"
                )
                self.deletions_answered += 1


@contextlib.asynccontextmanager
async def held_radarr() -> AsyncIterator[HeldRadarr]:
    radarr = HeldRadarr()
    async with trio.open_nursery() as nursery:
        (listener,) = await nursery.start(
            functools.partial(trio.serve_tcp, radarr.serve, 0, host="127.0.0.1")
        )
        radarr.url = f"http://127.0.0.1:{listener.socket.getsockname()[1]}"
        yield radarr
        nursery.cancel_scope.cancel()


def approval(number: int) -> IncomingMail:
    """A Jellyseerr approval as ``POST /webhooks/jellyseerr`` stores it in the inbox."""
    body = numbered_movie_request(number, title="Backlog Movie", first_tmdb_id=2_000_000)
    raw = json.dumps(body)
    return IncomingMail(
        target="dispatch",
        source="jellyseerr",
        kind=event_type_of("jellyseerr", body) or "unknown",
        body=raw,
        dedupe_key=dedupe_key("jellyseerr", raw.encode()),
        event_key=event_key("jellyseerr", translate("jellyseerr", body)),
    )


async def leave_unapplied(database_url: str) -> None:
    """The inbox a killed service leaves: a deletion to sync (as ``DELETE /api/requests/1``
    posts it), then thousands of accepted approvals, none applied."""
    kind, body = encode(
        DeletionSyncWanted(request_id=1, media_type="movie", radarr_id=DELETED_MOVIE)
    )
    async with open_store(database_url) as store:
        deleted = RequestRow(
            id=1,
            media_type="movie",
            title="Deleted Movie",
            state="deleted",
            radarr_id=DELETED_MOVIE,
        )
        await store.commit(
            [
                SaveRequest(row=deleted),
                PostMail(
                    target=SERVICES_TARGET, source="api", kind=kind, body=body, at=time.time()
                ),
            ]
        )
        for first in range(0, APPROVALS, 500):
            batch = [approval(n) for n in range(first, min(APPROVALS, first + 500))]
            await store.accept_mail(batch, now=time.time())


async def serving_while_replaying(http: httpx.AsyncClient) -> dict[str, typing.Any]:
    """The first ``/health``: the backlog is still being replayed, and the API answers too."""
    health = (await http.get("/health")).json()
    assert health["backlog"]["replaying"] is True, health["backlog"]
    assert health["inbox"]["pending"] > 0, health["inbox"]
    listing = await http.get("/api/requests", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert listing.status_code == 200
    return health


async def test_a_service_killed_with_a_backlog_serves_at_once_and_applies_it_exactly_once(
    database_url: str, tmp_path: Path
) -> None:
    await leave_unapplied(database_url)
    async with held_radarr() as radarr:
        variables = {
            "ST_DATABASE_URL": database_url,
            "ST_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
            "ST_API_TOKEN": API_TOKEN,
            "ST_RADARR_URL": radarr.url,
            "ST_RADARR_API_KEY": "radarr-key",
            "ST_LOG_LEVEL": "WARNING",
        }
        async with service_process(tmp_path, **variables) as first:
            async with httpx.AsyncClient(base_url=first.url, timeout=30) as http:
                health = await serving_while_replaying(http)
            assert health["backlog"]["at_start"] == APPROVALS + 1
            first.process.send_signal(signal.SIGKILL)
            await first.process.wait()

        async with (
            service_process(tmp_path, **variables) as second,
            httpx.AsyncClient(base_url=second.url, timeout=30) as http,
        ):
            health = await serving_while_replaying(http)
            assert health["backlog"]["at_start"] > 0
            radarr.released.set()

            async def drained() -> bool:
                backlog = (await http.get("/health")).json()["backlog"]
                return backlog["pending"] == 0 and backlog["drained_at"] is not None

            await wait_until(drained, what="the replay of the backlog", deadline=120)
            health = (await http.get("/health")).json()
            assert health["dead_letters"]["count"] == 0
            assert health["backlog"]["replaying"] is False
    assert radarr.deletions_answered == 1

    async with open_store(database_url) as store:
        approved = await store.fetch(
            "SELECT request_id, COUNT(*) AS n FROM timeline WHERE event = 'approved' "
            "GROUP BY request_id"
        )
        assert len(approved) == APPROVALS
        assert {row["n"] for row in approved} == {1}
        synced = await store.fetch(
            "SELECT COUNT(*) AS n FROM timeline WHERE request_id = 1 AND event = 'services_synced'"
        )
        assert synced[0]["n"] == 1
        assert (await store.mail_counts())["pending"] == 0
