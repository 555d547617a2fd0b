"""The live feed hub: fans committed changes out to websocket clients, coalescing per client.

A client that cannot keep up only ever has the latest state of each request and episode
waiting (a dict per client, overwritten in place), never a growing queue.
"""

from __future__ import annotations

import collections
import contextlib
import typing
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import attrs
import trio

from status_tracker.domain import EpisodeRow, RequestRow, TimelineEntry

from . import views

COALESCE_S = 0.25
TIMELINE_BACKLOG = 500

Send = Callable[[dict[str, Any]], Awaitable[None]]


@attrs.define(eq=False)
class _Client:
    requests: dict[int, dict[str, Any]] = attrs.field(factory=dict)
    episodes: dict[tuple[int, int, int], dict[str, Any]] = attrs.field(factory=dict)
    timeline: collections.deque[dict[str, Any]] = attrs.field(
        factory=lambda: collections.deque(maxlen=TIMELINE_BACKLOG)
    )
    wake: trio.Event = attrs.field(factory=trio.Event)

    def take(self) -> list[dict[str, Any]]:
        messages = [
            *({"type": "request", "request": item} for item in self.requests.values()),
            *self.episodes.values(),
            *self.timeline,
        ]
        self.requests.clear()
        self.episodes.clear()
        self.timeline.clear()
        self.wake = trio.Event()
        return messages


@typing.final
@attrs.frozen(kw_only=True)
class FeedStatistics:
    clients: int
    messages_sent: int


@typing.final
class LiveFeed:
    """Receives every committed change (it is the actors' Publisher) and serves clients."""

    def __init__(self, *, coalesce_s: float = COALESCE_S) -> None:
        self._clients: set[_Client] = set()
        self._coalesce_s = coalesce_s
        self._sent = 0

    def statistics(self) -> FeedStatistics:
        return FeedStatistics(clients=len(self._clients), messages_sent=self._sent)

    def request_changed(self, row: RequestRow, episodes: Sequence[EpisodeRow]) -> None:
        if not self._clients:
            return
        item = views.request_item(row, episodes)
        for client in self._clients:
            client.requests[row.id] = item
            client.wake.set()

    def episode_changed(self, row: EpisodeRow) -> None:
        message = {
            "type": "episode",
            "request_id": row.request_id,
            "episode": views.episode_item(row),
        }
        for client in self._clients:
            client.episodes[(row.request_id, row.season, row.episode)] = message
            client.wake.set()

    def timeline_added(self, entry: TimelineEntry) -> None:
        message = {
            "type": "timeline",
            "request_id": entry.request_id,
            "entry": views.timeline_item(entry),
        }
        for client in self._clients:
            client.timeline.append(message)
            client.wake.set()

    @contextlib.contextmanager
    def _subscribed(self) -> Iterator[_Client]:
        client = _Client()
        self._clients.add(client)
        try:
            yield client
        finally:
            self._clients.discard(client)

    async def serve(self, snapshot: Callable[[], Awaitable[dict[str, Any]]], send: Send) -> None:
        """Send the snapshot, then every change, until the client goes away.

        Subscribes before taking the snapshot, so no change made in between is missed.
        """
        with self._subscribed() as client:
            await send(await snapshot())
            while True:
                await client.wake.wait()
                for message in client.take():
                    await send(message)
                    self._sent += 1
                await trio.sleep(self._coalesce_s)
