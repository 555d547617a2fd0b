"""The live feed hub on virtual time: leading edge per entity, trailing latest, shared text."""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import trio
import trio.testing
from status_tracker.ingress.http import views
from status_tracker.ingress.http.live_feed import STUCK_S, WRITERS, LiveFeed

from status_tracker.domain import EpisodeRow, RequestRow, TimelineEntry
from tests.storage.test_contract import movie


class Describer:
    """Describes a request as the list does (after a read taking ``read_s``), noting each."""

    def __init__(self, read_s: float = 0.0) -> None:
        self.read_s = read_s
        self.described: list[tuple[int, float]] = []

    async def __call__(self, row: RequestRow, episodes: Sequence[EpisodeRow]) -> dict[str, Any]:
        self.described.append((row.id, row.progress))
        await trio.sleep(self.read_s)
        return {**views.request_item(row, episodes), "reason": f"read at {trio.current_time()}"}

    async def episodes(self, rows: Sequence[EpisodeRow]) -> list[dict[str, Any]]:
        return [views.episode_item(row, reason=f"read at {trio.current_time()}") for row in rows]


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
    describe = Describer()
    feed = LiveFeed(describe=describe, describe_episodes=describe.episodes, coalesce_s=0.25)
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
    describe = Describer(read_s=0.01)
    feed = LiveFeed(describe=describe, describe_episodes=describe.episodes)
    first: list[tuple[float, str]] = []
    second: list[tuple[float, str]] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_client, feed, first)
        nursery.start_soon(_client, feed, second)
        await trio.testing.wait_all_tasks_blocked()
        feed.episode_changed(episode(1, 3, 42.0))
        feed.request_changed(movie(1, progress=42.0, state="downloading"), [])
        await trio.testing.wait_all_tasks_blocked()
        await trio.sleep(0.1)
        nursery.cancel_scope.cancel()
    assert [text for _, text in first[1:]] == [text for _, text in second[1:]]
    (_, one), (_, other) = first[1], second[1]
    assert one is other, "a change is encoded once for all clients"
    assert json.loads(one)["episode"]["progress"] == 42.0
    (_, request), (_, same) = first[2], second[2]
    assert request is same
    assert describe.described == [(1, 42.0)], "a request is described once for all clients"
    assert json.loads(request)["request"]["reason"].startswith("read at")


async def test_a_client_that_is_not_reading_holds_only_the_latest_state(
    autojump_clock: trio.testing.MockClock,
) -> None:
    describe = Describer()
    feed = LiveFeed(describe=describe, describe_episodes=describe.episodes)
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
    assert describe.described == [(1, 1.0), (1, 100.0)], "an overtaken change is never described"


async def test_clients_connecting_together_share_one_snapshot_read(
    autojump_clock: trio.testing.MockClock,
) -> None:
    describe = Describer()
    feed = LiveFeed(describe=describe, describe_episodes=describe.episodes)
    reads: list[float] = []
    received: list[list[str]] = [[] for _ in range(100)]

    async def snapshot() -> dict[str, object]:
        reads.append(trio.current_time())
        await trio.sleep(0.05)  # a read of a big library takes a while
        return {"type": "snapshot", "requests": [], "read_at": reads[-1]}

    async def client(texts: list[str]) -> None:
        async def send(text: str) -> None:
            texts.append(text)

        await feed.serve(snapshot, send)

    async with trio.open_nursery() as nursery:
        for texts in received:
            nursery.start_soon(client, texts)
        await trio.sleep(1.0)
        nursery.cancel_scope.cancel()
    assert all(texts for texts in received), "every client got its snapshot"
    assert len(reads) <= 2, f"a hundred clients connecting together cost {len(reads)} reads"
    assert len({id(texts[0]) for texts in received}) <= 2, "encoded once per read"


async def test_a_client_never_gets_a_snapshot_begun_before_it_subscribed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    describe = Describer()
    feed = LiveFeed(describe=describe, describe_episodes=describe.episodes)
    subscribed_at: dict[str, float] = {}
    snapshots: dict[str, dict[str, Any]] = {}

    async def client(name: str) -> None:
        async def snapshot() -> dict[str, object]:
            begun = trio.current_time()
            await trio.sleep(0.5)
            return {"type": "snapshot", "requests": [], "begun": begun}

        async def send(text: str) -> None:
            snapshots.setdefault(name, json.loads(text))

        subscribed_at[name] = trio.current_time()
        await feed.serve(snapshot, send)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(client, "first")
        await trio.sleep(0.1)  # the first snapshot is being read
        feed.request_changed(movie(1, state="downloading"), [])  # not in that read
        nursery.start_soon(client, "second")
        await trio.sleep(2.0)
        nursery.cancel_scope.cancel()
    for name in ("first", "second"):
        assert snapshots[name]["begun"] >= subscribed_at[name], name


async def test_a_client_connecting_alone_gets_its_snapshot_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    describe = Describer()
    feed = LiveFeed(describe=describe, describe_episodes=describe.episodes)
    received: list[tuple[float, str]] = []
    async with trio.open_nursery() as nursery:
        for _ in range(2):
            connected_at = trio.current_time()
            nursery.start_soon(_client, feed, received)
            await trio.sleep(1.0)
            assert received[-1][0] == connected_at, "no wait for others to join"
        nursery.cancel_scope.cancel()
    assert len(received) == 2


async def test_timeline_entries_yield_to_a_change_and_all_follow(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A client busy sending history sends a request's new state next, then the rest of the
    history: under a flood the board stays current, and no entry is lost."""
    describe = Describer()
    feed = LiveFeed(describe=describe, describe_episodes=describe.episodes, coalesce_s=0.25)
    received: list[str] = []

    async def snapshot() -> dict[str, object]:
        return {"type": "snapshot", "requests": []}

    async def slow_send(text: str) -> None:
        await trio.sleep(0.01)  # a socket write that takes a while
        received.append(text)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(feed.serve, snapshot, slow_send)
        await trio.sleep(0.1)  # the snapshot sent
        for n in range(5):
            feed.timeline_added(TimelineEntry(request_id=1, at=1.0, source="radarr", event=f"e{n}"))
        await trio.sleep(0.015)  # the first entry sent, the second under way
        feed.request_changed(movie(1, state="importing"), [])
        await trio.sleep(1.0)
        nursery.cancel_scope.cancel()
    sent = [json.loads(text) for text in received[1:]]
    order = [m["entry"]["event"] if m["type"] == "timeline" else m["type"] for m in sent]
    assert order == ["e0", "e1", "request", "e2", "e3", "e4"]


async def _serve_with(feed: LiveFeed, received: list[tuple[float, str]], write_s: float) -> None:
    """A client whose socket takes ``write_s`` per message after the snapshot (inf: stuck)."""

    async def snapshot() -> dict[str, object]:
        return {"type": "snapshot", "requests": []}

    async def send(text: str) -> None:
        if received:
            await trio.sleep(write_s)
        received.append((trio.current_time(), json.loads(text)["type"]))

    await feed.serve(snapshot, send)


async def _an_import_heard_by(
    other_write_s: float, listen_s: float
) -> tuple[list[tuple[float, str]], list[tuple[float, str]]]:
    """A request's change and its timeline entry, as heard after them by a quick client and by
    one whose socket takes ``other_write_s`` per message: (time after the change, type)."""
    describe = Describer()
    feed = LiveFeed(describe=describe, describe_episodes=describe.episodes)
    quick: list[tuple[float, str]] = []
    other: list[tuple[float, str]] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_serve_with, feed, quick, 0.0)
        nursery.start_soon(_serve_with, feed, other, other_write_s)
        await trio.sleep(0.1)
        start = trio.current_time()
        feed.request_changed(movie(1, state="importing"), [])
        feed.timeline_added(TimelineEntry(request_id=1, at=1.0, source="radarr", event="imported"))
        await trio.sleep(listen_s)
        nursery.cancel_scope.cancel()
    return (
        [(round(at - start, 2), kind) for at, kind in quick[1:]],
        [(round(at - start, 2), kind) for at, kind in other[1:]],
    )


async def test_history_waits_until_every_client_has_sent_its_changes(
    autojump_clock: trio.testing.MockClock,
) -> None:
    quick, slow = await _an_import_heard_by(0.05, listen_s=1.0)
    assert quick == [
        (0.0, "request"),
        (0.05, "timeline"),  # once the slow client had written its request message
    ]
    assert slow == [(0.05, "request"), (0.1, "timeline")]


async def test_a_client_stuck_on_its_socket_holds_back_history_for_stuck_s_only(
    autojump_clock: trio.testing.MockClock,
) -> None:
    quick, stuck = await _an_import_heard_by(math.inf, listen_s=5.0)
    (request_at, _), (timeline_at, kind) = quick
    assert request_at == 0.0
    assert kind == "timeline"
    assert STUCK_S < timeline_at <= 2 * STUCK_S
    assert stuck == []  # nothing after its snapshot


async def test_no_more_than_writers_clients_write_at_once_and_stuck_ones_block_no_one(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A change for many clients makes no more runnable writers than ``WRITERS`` (the rest of
    the loop is not queued behind them all), and clients stuck on their sockets, holding every
    slot, keep another from its message no longer than ``STUCK_S``."""
    describe = Describer()
    feed = LiveFeed(describe=describe, describe_episodes=describe.episodes)
    writing = 0
    most_writing = 0

    async def snapshot() -> dict[str, object]:
        return {"type": "snapshot", "requests": []}

    def client(write_s: float, received: list[float]) -> Callable[[str], Awaitable[None]]:
        async def send(text: str) -> None:
            nonlocal writing, most_writing
            writing += 1
            most_writing = max(most_writing, writing)
            try:
                if json.loads(text)["type"] != "snapshot":
                    await trio.sleep(write_s)
                    received.append(trio.current_time())
            finally:
                writing -= 1

        return send

    received: list[list[float]] = [[] for _ in range(3 * WRITERS)]
    async with trio.open_nursery() as nursery:
        for heard in received:
            nursery.start_soon(feed.serve, snapshot, client(0.01, heard))
        await trio.sleep(1.0)
        feed.request_changed(movie(1, state="importing"), [])
        await trio.sleep(5.0)
        assert most_writing == WRITERS
        assert all(len(heard) == 1 for heard in received)
        # now a WRITERS of them are stuck, and one more is not
        stuck_heard: list[float] = []
        most_writing = 0
        for _ in range(WRITERS):
            nursery.start_soon(feed.serve, snapshot, client(math.inf, []))
        nursery.start_soon(feed.serve, snapshot, client(0.0, stuck_heard))
        await trio.sleep(1.0)
        start = trio.current_time()
        feed.request_changed(movie(2, state="importing"), [])
        await trio.sleep(5.0)
        nursery.cancel_scope.cancel()
    (heard_at,) = stuck_heard
    assert heard_at <= start + STUCK_S + 0.5


async def test_while_a_burst_of_webhooks_is_stored_one_client_is_written_to_at_a_time(
    autojump_clock: trio.testing.MockClock,
) -> None:
    describe = Describer()
    burst = [True]
    feed = LiveFeed(
        describe=describe, describe_episodes=describe.episodes, webhook_burst=lambda: burst[0]
    )
    writing = most_writing = 0
    received: list[list[str]] = [[] for _ in range(10)]

    async def snapshot() -> dict[str, object]:
        return {"type": "snapshot", "requests": []}

    def client(heard: list[str]) -> Callable[[str], Awaitable[None]]:
        async def send(text: str) -> None:
            nonlocal writing, most_writing
            writing += 1
            most_writing = max(most_writing, writing)
            await trio.sleep(0.01)
            writing -= 1
            heard.append(json.loads(text)["type"])

        return send

    async with trio.open_nursery() as nursery:
        for heard in received:
            nursery.start_soon(feed.serve, snapshot, client(heard))
        await trio.sleep(1.0)
        assert most_writing == 1  # the snapshots too
        feed.request_changed(movie(1, state="importing"), [])
        await trio.sleep(1.0)
        assert most_writing == 1
        assert all(heard == ["snapshot", "request"] for heard in received)
        burst[0] = False
        feed.request_changed(movie(2, state="importing"), [])
        await trio.sleep(1.0)
        nursery.cancel_scope.cancel()
    assert most_writing == len(received)
    assert all(heard == ["snapshot", "request", "request"] for heard in received)
