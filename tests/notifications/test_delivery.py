"""Notifications end to end: the service in-process, a real HTTP receiver as the Apprise target."""

from __future__ import annotations

import contextlib
import functools
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trio
from status_tracker.actors.notify import NotificationRequested
from status_tracker.clients import ServiceUnavailable, apprise_notifier
from status_tracker.clients.apprise_notifier import MAX_SENDS, AppriseNotifier
from status_tracker.storage import QueueNotification

from status_tracker.domain import Notice
from tests.notifications.flows import (
    MOVIE_JELLYFIN_ID,
    MOVIE_TITLE,
    PACK_TITLE,
    movie_to_available,
    pack_to_available,
)
from tests.support.process import free_port
from tests.support.receiver import Receiver, receiving
from tests.support.service import API_TOKEN, RunningService, started_service, wait_until

WINDOW_S = 0.3
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


@contextlib.asynccontextmanager
async def notifying(
    sqlite_url: str, *urls: str, window_s: float = WINDOW_S, **overrides: Any
) -> AsyncIterator[RunningService]:
    async with started_service(
        sqlite_url, notify_urls=urls, notify_batch_s=window_s, **overrides
    ) as service:
        assert service.system.notifier is not None
        service.system.notifier.retry_first_s = 0.2
        yield service


async def messages(
    receiver: Receiver, count: int, window_s: float = WINDOW_S
) -> list[dict[str, Any]]:
    """Wait until ``receiver`` has ``count`` messages, then make sure no more arrive."""

    async def arrived() -> bool:
        return len(receiver.messages) >= count

    await wait_until(arrived, what=f"{count} notification(s)")
    await trio.sleep(window_s * 4)
    return receiver.messages


async def health(service: RunningService) -> dict[str, Any]:
    return (await service.http.get("/health")).json()


async def _trickle(stream: trio.SocketStream) -> None:
    """Take one request, then answer it a byte at a time, forever."""
    request = b""
    try:
        while b"\r\n\r\n" not in request:
            chunk = await stream.receive_some()
            if not chunk:
                return
            request += chunk
        await stream.send_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        while True:
            await stream.send_all(b"1\r\nx\r\n")
            await trio.sleep(0.2)
    except trio.BrokenResourceError:
        return


@contextlib.asynccontextmanager
async def trickling(port: int = 0) -> AsyncIterator[int]:
    """A notification target on ``port`` (yielded) whose answers never end; leaving the block
    closes every connection, which is what ends the threads still reading them."""
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            functools.partial(trio.serve_tcp, _trickle, port, host="127.0.0.1")
        )
        yield listeners[0].socket.getsockname()[1]
        nursery.cancel_scope.cancel()


async def test_an_available_movie_is_one_message_with_its_links(sqlite_url: str) -> None:
    with receiving() as receiver:
        async with notifying(
            sqlite_url,
            receiver.url(),
            public_url="https://tracker.example",
            jellyfin_public_url="https://jf.example",
        ) as service:
            await movie_to_available(service)
            (message,) = await messages(receiver, 1)
            section = (await health(service))["notifications"]
    assert message["title"] == MOVIE_TITLE
    assert message["type"] == "success"
    assert message["path"] == "/notify"
    (item_id,) = {
        line.rsplit("=", 1)[1] for line in message["message"].splitlines() if "#open=" in line
    }
    assert f"Dashboard: https://tracker.example/#open={item_id}" in message["message"]
    assert (
        f"Jellyfin: https://jf.example/web/index.html#/details?id={MOVIE_JELLYFIN_ID}"
        in message["message"]
    )
    assert section["configured"] is True
    assert section["events"] == ["available", "failed", "stuck"]
    assert (section["pending"], section["sent"], section["messages_sent"]) == (0, 1, 1)
    assert section["last_error"] is None


async def test_grabbed_and_downloaded_are_told_only_when_asked_for(sqlite_url: str) -> None:
    with receiving() as receiver:
        async with notifying(
            sqlite_url, receiver.url(), notify_events=("grabbed", "available")
        ) as service:
            await movie_to_available(service)
            found = await messages(receiver, 2)
    assert sorted(m["title"] for m in found) == sorted(
        ["Violet Evergarden: Recollections (2021) was grabbed", MOVIE_TITLE]
    )


async def test_a_season_pack_of_thirteen_episodes_is_one_message(sqlite_url: str) -> None:
    # The 13 Jellyfin webhooks are applied one after another; on a loaded machine two of them
    # can be more than WINDOW_S apart, which (rightly) splits the batch. The quiet window here
    # is wider than any gap between them, so what is tested is the batching, not the machine.
    pack_window_s = 2.0
    with receiving() as receiver:
        async with notifying(sqlite_url, receiver.url(), window_s=pack_window_s) as service:
            await pack_to_available(service)
            (message,) = await messages(receiver, 1, pack_window_s)
    assert message["title"] == PACK_TITLE
    assert "Episodes: S01E01-E13" in message["message"]


async def test_deliveries_retry_while_the_target_is_down_then_arrive_once(
    sqlite_url: str,
) -> None:
    receiver = Receiver()  # not listening yet: connections are refused
    async with notifying(sqlite_url, receiver.url("secret-path")) as service:
        await movie_to_available(service)

        async def retried_twice() -> bool:
            section = (await health(service))["notifications"]
            return section["delivery_failures"] >= 2

        await wait_until(retried_twice, what="two failed attempts")
        body = await health(service)
        section = body["notifications"]
        assert body["status"] == "degraded"
        assert section["status"] == "degraded"
        assert (section["pending"], section["retrying"], section["sent"]) == (1, 1, 0)
        assert f"json://127.0.0.1:{receiver.port}" in section["last_error"]
        assert "secret-path" not in str(body)
        receiver.up()
        try:
            (message,) = await messages(receiver, 1)
            section = (await health(service))["notifications"]
        finally:
            receiver.down()
    assert message["title"] == MOVIE_TITLE
    assert (section["pending"], section["sent"], section["status"]) == (0, 1, "ok")


async def test_a_target_that_has_a_message_is_not_sent_it_again_when_another_fails(
    sqlite_url: str,
) -> None:
    down = Receiver()
    with receiving() as up:
        async with notifying(sqlite_url, up.url(), down.url()) as service:
            await movie_to_available(service)

            async def failed_twice() -> bool:
                return (await health(service))["notifications"]["delivery_failures"] >= 2

            await wait_until(failed_twice, what="retries to the target that is down")
            assert len(up.messages) == 1
            down.up()
            try:
                (late,) = await messages(down, 1)
            finally:
                down.down()
            assert len(up.messages) == 1
    assert late["title"] == MOVIE_TITLE


async def test_the_requester_gets_their_own_copy(sqlite_url: str) -> None:
    with receiving() as everyone, receiving() as ann:
        async with notifying(
            sqlite_url, everyone.url(), notify_users=(("Ann", (ann.url("ann"),)),)
        ) as service:
            await service.system.store.commit(
                [
                    QueueNotification(
                        notice=Notice(
                            request_id=1, kind="available", media_type="movie", title="Dune",
                            year=2021, requested_by="ann",
                        ),
                        at=service.system.clock.now(),
                    ),
                    QueueNotification(
                        notice=Notice(
                            request_id=2, kind="available", media_type="movie", title="Heat",
                            year=1995, requested_by="Bob",
                        ),
                        at=service.system.clock.now(),
                    ),
                ]
            )  # fmt: skip
            await messages(everyone, 2)
            (own,) = await messages(ann, 1)
    assert own["title"] == "Dune (2021) is ready"
    assert "Requested by ann" in own["message"]
    assert sorted(m["title"] for m in everyone.messages) == [
        "Dune (2021) is ready",
        "Heat (1995) is ready",
    ]


async def test_the_test_endpoint_reports_each_target(sqlite_url: str) -> None:
    refused = f"json://127.0.0.1:{free_port()}/private-token"
    with receiving() as receiver:
        async with notifying(sqlite_url, receiver.url(), refused) as service:
            assert (await service.http.post("/api/notifications/test")).status_code == 401
            response = await service.http.post("/api/notifications/test", headers=AUTH)
            body = response.json()
    assert response.status_code == 200
    assert body["ok"] is False
    first, second = body["targets"]
    assert first == {"url": f"json://127.0.0.1:{receiver.port}/…", "ok": True, "error": None}
    assert second["ok"] is False
    assert second["url"].endswith("/…")
    assert "private-token" not in response.text
    assert receiver.titles() == ["status-tracker test notification"]


async def test_without_targets_nothing_is_queued_and_the_test_endpoint_says_so(
    service: RunningService,
) -> None:
    response = await service.http.post("/api/notifications/test", headers=AUTH)
    assert response.status_code == 409
    assert "ST_NOTIFY_URLS" in response.json()["error"]
    await movie_to_available(service)
    assert await service.system.store.pending_notifications() == []
    assert (await health(service))["notifications"] == {"configured": False}


async def test_targets_that_never_finish_answering_hold_the_notifiers_threads_only() -> None:
    notifier = AppriseNotifier(timeout_s=1.0)
    notice = NotificationRequested(kind="available", title="Heat (1995) is ready", body="Heat")
    reasons: list[str] = []

    async def send(url: str) -> None:
        with pytest.raises(ServiceUnavailable) as caught:
            await notifier.send(url, notice)
        reasons.append(caught.value.reason.split(": ", 1)[1])

    async with trickling() as port:
        async with trio.open_nursery() as nursery:
            for target in range(48):
                nursery.start_soon(send, f"json://127.0.0.1:{port}/{target}")
        # Host-name lookups (every dependency's connect) take trio's default thread slots.
        with trio.fail_after(5):
            await trio.socket.getaddrinfo("localhost", 80)
            ran = await trio.to_thread.run_sync(lambda: "ran")
        stuck = notifier.statistics().running

    async def ended() -> bool:
        return notifier.statistics().running == 0

    await wait_until(ended, what="the sends to the closed target to end")
    with receiving() as receiver:
        await notifier.send(receiver.url(), notice)
    assert ran == "ran"
    assert stuck == MAX_SENDS == 8
    assert Counter(reasons) == {
        "timed out after 1 s": 8,
        "not sent, all 8 notification slots are held by sends that have not finished"
        " (a target keeps its connection open)": 40,
    }
    assert receiver.titles() == ["Heat (1995) is ready"]


async def test_a_target_that_never_finishes_answering_is_named_on_health_and_keeps_its_message(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(apprise_notifier, "SEND_TIMEOUT_S", 0.5)
    port = free_port()
    async with notifying(sqlite_url, f"json://127.0.0.1:{port}/secret-path") as service:
        async with trickling(port):
            await movie_to_available(service)

            async def refused_at_once() -> bool:
                section = (await health(service))["notifications"]
                return "not sent" in (section["last_error"] or "")

            await wait_until(refused_at_once, what="a send refused for the stuck ones")
            body = await health(service)
        receiver = Receiver(port)
        receiver.up()
        try:
            (message,) = await messages(receiver, 1)
            after = (await health(service))["notifications"]
        finally:
            receiver.down()
    section = body["notifications"]
    assert section["last_error"] == (
        f"json://127.0.0.1:{port}/…: not sent, 2 earlier sends to it have not finished"
        " (it keeps its connection open)"
    )
    assert (section["status"], section["pending"], section["retrying"]) == ("degraded", 1, 1)
    assert "secret-path" not in str(body)
    assert message["title"] == MOVIE_TITLE
    assert message["path"] == "/secret-path"
    assert (after["status"], after["pending"], after["sent"]) == ("ok", 0, 1)
