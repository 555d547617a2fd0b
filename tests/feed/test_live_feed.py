"""The live feed hub on virtual time: leading edge per entity, trailing latest, shared text."""

from __future__ import annotations

import json

import trio
import trio.testing
from status_tracker.ingress.http.live_feed import LiveFeed

from status_tracker.domain import EpisodeRow
from tests.storage.test_contract import movie


def episode(request_id: int, number: int, progress: float) -> EpisodeRow:
    return EpisodeRow(
        request_id=request_id,
        season=1,
        episode=number,
        title=None,
        state="downloading",
        progress=progress,
        updated_at=1.0,
        last_change_at=1.0,
    )


async def _client(feed: LiveFeed, received: list[tuple[float, str]]) -> None:
    async def snapshot() -> dict[str, object]:
        return {"type": "snapshot", "requests": []}

    async def send(text: str) -> None:
        received.append((trio.current_time(), text))

    await feed.serve(snapshot, send)


async def test_a_change_goes_at_once_and_a_burst_ends_with_its_latest_state(
    autojump_clock: trio.testing.MockClock,
) -> None:
    feed = LiveFeed(coalesce_s=0.25)
    received: list[tuple[float, str]] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_client, feed, received)
        await trio.testing.wait_all_tasks_blocked()
        start = trio.current_time()
        for progress in (10.0, 20.0, 30.0):
            feed.request_changed(movie(1, progress=progress, state="downloading"), [])
            await trio.sleep(0.05)
        feed.request_changed(movie(2, state="grabbing"), [])  # another entity: not held
        await trio.testing.wait_all_tasks_blocked()
        await trio.sleep(1.0)
        nursery.cancel_scope.cancel()
    updates = [(at - start, json.loads(text)) for at, text in received[1:]]
    sent = [(round(at, 2), m["request"]["id"], m["request"]["progress"]) for at, m in updates]
    assert sent == [(0.0, 1, 10.0), (0.15, 2, 0.0), (0.25, 1, 30.0)]


async def test_every_client_gets_the_same_encoded_text(
    autojump_clock: trio.testing.MockClock,
) -> None:
    feed = LiveFeed()
    first: list[tuple[float, str]] = []
    second: list[tuple[float, str]] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_client, feed, first)
        nursery.start_soon(_client, feed, second)
        await trio.testing.wait_all_tasks_blocked()
        feed.episode_changed(episode(1, 3, 42.0))
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    (_, one), (_, other) = first[1], second[1]
    assert one is other, "a change is encoded once for all clients"
    assert json.loads(one)["episode"]["progress"] == 42.0


async def test_a_client_that_is_not_reading_holds_only_the_latest_state(
    autojump_clock: trio.testing.MockClock,
) -> None:
    feed = LiveFeed()
    blocked = trio.Event()
    received: list[str] = []

    async def snapshot() -> dict[str, object]:
        return {"type": "snapshot", "requests": []}

    async def slow_send(text: str) -> None:
        received.append(text)
        if len(received) == 2:
            await blocked.wait()  # the client stops reading after its first update

    async with trio.open_nursery() as nursery:
        nursery.start_soon(feed.serve, snapshot, slow_send)
        await trio.testing.wait_all_tasks_blocked()
        for progress in range(1, 101):
            feed.request_changed(movie(1, progress=float(progress), state="downloading"), [])
            await trio.sleep(0.01)
        blocked.set()
        await trio.sleep(1.0)
        nursery.cancel_scope.cancel()
    progresses = [json.loads(text)["request"]["progress"] for text in received[1:]]
    assert progresses == [1.0, 100.0]
