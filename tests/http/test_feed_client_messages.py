"""The live feed is one-way: a client that sends anything is closed and let go at once."""

from __future__ import annotations

import contextlib
import json

import trio
from trio_websocket import (
    ConnectionClosed,
    DisconnectionTimeout,
    WebSocketConnection,
    open_websocket_url,
)

from tests.support.service import API_TOKEN, RunningService, started_service, wait_until

VIEW_TOKEN = "test-view-secret"
POLICY_VIOLATION = 1008


def feed(service: RunningService, token: str = API_TOKEN) -> str:
    return service.url.replace("http://", "ws://") + f"/ws?token={token}"


async def feed_clients(service: RunningService) -> int:
    return (await service.http.get("/health")).json()["live_feed"]["clients"]


async def send_until_closed(socket: WebSocketConnection, count: int) -> None:
    """Send ``count`` text messages, or as many as go out before the service closes."""
    for number in range(count):
        try:
            await socket.send_message(f"hello {number}")
        except ConnectionClosed:
            return


async def close_code(socket: WebSocketConnection) -> int:
    """Read (and drop) messages until the service closes the socket; its close code."""
    while True:
        try:
            await socket.get_message()
        except ConnectionClosed as closed:
            return closed.reason.code


async def test_a_message_from_the_client_closes_the_feed_with_policy_violation(
    service: RunningService,
) -> None:
    with trio.fail_after(10):
        async with open_websocket_url(feed(service)) as socket:
            assert json.loads(await socket.get_message())["type"] == "snapshot"
            await socket.send_message("hello")
            assert await close_code(socket) == POLICY_VIOLATION

    async def unsubscribed() -> bool:
        return await feed_clients(service) == 0

    await wait_until(unsubscribed, what="the client to leave the feed", deadline=10)


async def test_a_client_that_floods_and_hangs_up_is_let_go_and_others_are_still_served(
    sqlite_url: str,
) -> None:
    async with (
        started_service(sqlite_url, view_token=VIEW_TOKEN) as service,
        open_websocket_url(feed(service)) as watcher,
    ):
        with trio.fail_after(10):
            assert json.loads(await watcher.get_message())["type"] == "snapshot"
        # The flooder hangs up without waiting long for the service to answer its close (a tab
        # being closed does not wait); whether the service let go is what /health shows next.
        with contextlib.suppress(DisconnectionTimeout):
            async with open_websocket_url(
                feed(service, VIEW_TOKEN), disconnect_timeout=1
            ) as flooder:
                with trio.fail_after(10):
                    assert json.loads(await flooder.get_message())["type"] == "snapshot"
                    await send_until_closed(flooder, 50)

        async def only_the_watcher_left() -> bool:
            return await feed_clients(service) == 1

        await wait_until(only_the_watcher_left, what="the flooder to leave the feed", deadline=10)

        await service.post_fixture("jellyseerr/media_auto_approved_movie.json")
        with trio.fail_after(10):
            message = json.loads(await watcher.get_message())
            while message["type"] != "request":
                message = json.loads(await watcher.get_message())
        assert message["request"]["title"] == "Violet Evergarden: Recollections"
