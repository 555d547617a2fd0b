"""Notifications end to end: the service in-process, a real HTTP receiver as the Apprise target."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import trio
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
