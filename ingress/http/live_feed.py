"""The live feed hub: fans committed changes out to websocket clients, coalescing per entity.

A change goes out at once unless the same request or episode was sent within the last 250 ms;
then only its latest state follows when that window ends. A client that cannot keep up only
ever has the latest state of each request and episode waiting (a dict per client,
overwritten in place), never a growing queue. History yields to state: timeline entries (a
client keeps the last 500) go out while no client has a request or episode change left to
send, but for one stuck on its socket for ``STUCK_S``. A request or episode is described (its
reason read from the downloads it follows) when it is first sent, once for every client, as
the API would describe it then; a change overtaken before any client sent it is never
described. The episodes that go out together (a pack's, changed in one commit) are described
together. Clients that connect together (every dashboard reconnecting after a restart) share one
snapshot, read and encoded once.
"""

from __future__ import annotations

import collections
import contextlib
import math
import typing
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import attrs
import trio

from status_tracker.domain import EpisodeRow, RequestRow, TimelineEntry
from status_tracker.json_text import dumps_text

from . import views

COALESCE_S = 0.25
TIMELINE_BACKLOG = 500
STUCK_S = 1.0
"""A client whose socket took no message for this long holds back no one's history."""
WRITERS = 32
"""Clients writing a message at once at most; one while webhooks arrive in a burst."""

Send = Callable[[str], Awaitable[None]]
EntityKey = tuple[str, int, int, int]
Describe = Callable[[RequestRow, Sequence[EpisodeRow]], Awaitable[dict[str, Any]]]
DescribeEpisodes = Callable[[Sequence[EpisodeRow]], Awaitable[list[dict[str, Any]]]]


@attrs.define(eq=False)
class _Change:
    """A committed change, described into a message by the first client that sends it."""

    message: Callable[[], Awaitable[dict[str, Any]]]
    episode: EpisodeRow | None = None
    """The episode changed, when it is one: described with the others sent at the same time."""
    _text: str | None = None
    _describing: trio.Event | None = None

    @property
    def undescribed(self) -> bool:
        return self._text is None and self._describing is None

    async def text(self) -> str:
        # Another client describing it may be cancelled (gone) midway: then the next one does.
        while self._text is None:
            if self._describing is not None:
                await self._describing.wait()
                continue
            self._describing = trio.Event()
            try:
                self._text = dumps_text(await self.message())
            finally:
                self._describing.set()
                self._describing = None
        return self._text

    @staticmethod
    async def describe_together(
        changes: Sequence[_Change], messages: Callable[[], Awaitable[list[dict[str, Any]]]]
    ) -> None:
        """Describe undescribed ``changes`` with one call of ``messages`` (theirs, in order)."""
        described = trio.Event()
        for change in changes:
            change._describing = described
        try:
            for change, message in zip(changes, await messages(), strict=True):
                change._text = dumps_text(message)
        finally:
            for change in changes:
                change._describing = None
            described.set()


Outgoing = str | _Change


@attrs.define(eq=False)
class _Snapshot:
    """One snapshot read, for every client that subscribed before the read began."""

    covers: int
    """Once begun, the clients subscribed before it began: their tickets are at most this."""
    done: trio.Event = attrs.field(factory=trio.Event)
    text: str | None = None


@attrs.define(eq=False)
class _Client:
    """What one client has still to receive: the latest change per entity, and new entries."""

    ticket: int
    """The order it subscribed in: a snapshot begun after that serves it."""
    pending: dict[EntityKey, Outgoing] = attrs.field(factory=dict)
    timeline: collections.deque[str] = attrs.field(
        factory=lambda: collections.deque(maxlen=TIMELINE_BACKLOG)
    )
    sent_at: dict[EntityKey, float] = attrs.field(factory=dict)
    wake: trio.Event = attrs.field(factory=trio.Event)
    sending_since: float | None = None
    """When the message being written to its socket began (None: not writing)."""
    live: bool = False
    """Past its snapshot: until then it holds back no one's history."""

    def writing_for(self, now: float) -> float:
        """How long the message being written to its socket has taken so far (0: none)."""
        return 0.0 if self.sending_since is None else now - self.sending_since

    def due(self, now: float, window: float) -> tuple[list[Outgoing], float | None]:
        """The changes to send now, and when the next held one falls due (or None).

        An entity not sent within the last ``window`` seconds goes at once (leading edge);
        one sent more recently waits out its window and then goes with its latest state
        (trailing edge).
        """
        ready: list[Outgoing] = []
        next_due: float | None = None
        for key, change in list(self.pending.items()):
            free_at = self.sent_at.get(key, -math.inf) + window
            if free_at <= now:
                ready.append(change)
                del self.pending[key]
                self.sent_at[key] = now
            else:
                next_due = free_at if next_due is None else min(next_due, free_at)
        self.sent_at = {k: t for k, t in self.sent_at.items() if t + window > now}
        return ready, next_due


@typing.final
@attrs.frozen(kw_only=True)
class FeedStatistics:
    clients: int
    messages_sent: int


@typing.final
class LiveFeed:
    """Receives every committed change (it is the actors' Publisher) and serves clients.

    Each change is encoded once and the same text goes to every client; ``describe`` makes a
    request's message (``RequestItems.item``), ``describe_episodes`` episodes'
    (``RequestItems.episodes``).
    """

    def __init__(
        self,
        *,
        describe: Describe,
        describe_episodes: DescribeEpisodes,
        coalesce_s: float = COALESCE_S,
        webhook_burst: Callable[[], bool] = lambda: False,
    ) -> None:
        self._webhook_burst = webhook_burst
        self._clients: set[_Client] = set()
        self._describe = describe
        self._describe_episodes = describe_episodes
        self._coalesce_s = coalesce_s
        self._sent = 0
        self._tickets = 0
        self._reading: _Snapshot | None = None
        self._next: _Snapshot | None = None
        self._writers = 0
        self._writing: set[_Client] = set()
        self._slot_freed = trio.lowlevel.ParkingLot()
        self._behind: set[_Client] = set()
        """Clients with a request or episode change not sent yet: history waits for them."""
        self._gated: set[_Client] = set()
        """Clients whose timeline entries wait for ``_behind`` to empty."""

    def statistics(self) -> FeedStatistics:
        return FeedStatistics(clients=len(self._clients), messages_sent=self._sent)

    def request_changed(self, row: RequestRow, episodes: Sequence[EpisodeRow]) -> None:
        if self._clients:

            async def message() -> dict[str, Any]:
                return {"type": "request", "request": await self._describe(row, episodes)}

            self._hold(("request", row.id, 0, 0), _Change(message))

    def episode_changed(self, row: EpisodeRow) -> None:
        if self._clients:

            async def message() -> dict[str, Any]:
                (described,) = await self._episode_messages([row])
                return described

            key = ("episode", row.request_id, row.season, row.episode)
            self._hold(key, _Change(message, episode=row))

    async def _episode_messages(self, rows: Sequence[EpisodeRow]) -> list[dict[str, Any]]:
        described = await self._describe_episodes(rows)
        return [
            {"type": "episode", "request_id": row.request_id, "episode": episode}
            for row, episode in zip(rows, described, strict=True)
        ]

    async def _describe_episodes_together(self, ready: Sequence[Outgoing]) -> None:
        changes = [
            change
            for change in ready
            if isinstance(change, _Change) and change.episode is not None and change.undescribed
        ]
        if len(changes) > 1:
            rows = [change.episode for change in changes if change.episode is not None]
            await _Change.describe_together(changes, lambda: self._episode_messages(rows))

    def timeline_added(self, entry: TimelineEntry) -> None:
        if not self._clients:
            return
        message = {
            "type": "timeline",
            "request_id": entry.request_id,
            "entry": views.timeline_item(entry),
        }
        text = dumps_text(message)
        for client in self._clients:
            client.timeline.append(text)
            client.wake.set()

    def _hold(self, key: EntityKey, change: Outgoing) -> None:
        for client in self._clients:
            client.pending[key] = change
            client.wake.set()
            if client.live:
                self._behind.add(client)

    def _caught_up(self, client: _Client) -> None:
        """``client`` has sent every change due: once no one is behind, history goes on."""
        self._behind.discard(client)
        if not self._behind:
            for gated in self._gated:
                gated.wake.set()
            self._gated.clear()

    def _history_may_go(self) -> bool:
        """Whether timeline entries may be sent: no client has a change left to send, but for
        clients stuck on a socket that took nothing for ``STUCK_S`` (they hold back no one)."""
        if not self._behind:
            return True
        now = trio.current_time()
        return all(client.writing_for(now) > STUCK_S for client in self._behind)

    async def _send(self, client: _Client, send: Send, text: str) -> None:
        writing = await self._writing_slot()
        client.sending_since = trio.current_time()
        if writing:
            self._writing.add(client)
        try:
            await send(text)
        finally:
            client.sending_since = None
            if writing:
                self._writing.discard(client)
                self._release_writing_slot()
        self._sent += 1

    def _writer_limit(self) -> int:
        return 1 if self._webhook_burst() else WRITERS

    async def _writing_slot(self) -> bool:
        """Take a writing slot (False: write without one, as the writers holding them all are
        stuck on their sockets, one for ``STUCK_S``).

        Each client's writer is a task of the event loop, and without a bound, a change for a
        thousand clients made a thousand runnable tasks: every other task on the loop (the
        webhooks, the writer, the actors, the very changes to send next) waited behind all of
        them at each of its steps. While webhooks arrive in a burst, one client is written to at
        a time: the senders go first, the boards catch up after (each with the
        latest state of every request and episode). (A ``trio.CapacityLimiter`` cost twice as
        much as this.)
        """
        while True:
            if self._writers < self._writer_limit():
                self._writers += 1
                return True
            with trio.move_on_after(STUCK_S):
                await self._slot_freed.park()
                return True  # handed over by a writer done with it
            now = trio.current_time()
            if any(writer.writing_for(now) >= STUCK_S for writer in self._writing):
                return False

    def _release_writing_slot(self) -> None:
        self._writers -= 1
        free = self._writer_limit() - self._writers
        if free > 0:
            self._writers += len(self._slot_freed.unpark(count=free))

    @contextlib.contextmanager
    def _subscribed(self) -> Iterator[_Client]:
        self._tickets += 1
        client = _Client(ticket=self._tickets)
        self._clients.add(client)
        try:
            yield client
        finally:
            self._clients.discard(client)
            self._gated.discard(client)
            self._caught_up(client)

    async def _snapshot_for(
        self, client: _Client, read: Callable[[], Awaitable[dict[str, Any]]]
    ) -> str:
        """The encoded snapshot for ``client``: one begun after it subscribed, so that nothing
        committed in between is missed. One read at a time: the clients that subscribe while
        one is under way share the next, which begins when it ends. A thousand dashboards
        reconnecting after a restart cost a few dozen reads, not a thousand; one alone does
        not wait."""
        while True:
            shared = self._reading
            if shared is None or shared.covers < client.ticket:
                shared = self._next
                if shared is None:
                    return await self._read_next(read)
            await shared.done.wait()
            if shared.text is not None:
                return shared.text
            # Its reader failed or went away before it was done: read it again.

    async def _read_next(self, read: Callable[[], Awaitable[dict[str, Any]]]) -> str:
        """Read the next snapshot, for this client and all who join before it begins."""
        shared = self._next = _Snapshot(covers=0)
        try:
            if self._reading is not None:
                await self._reading.done.wait()
            else:
                await trio.lowlevel.checkpoint()
            self._next = None
            shared.covers = self._tickets
            self._reading = shared
            shared.text = dumps_text(await read())
            return shared.text
        finally:
            shared.done.set()
            if self._next is shared:
                self._next = None
            if self._reading is shared:
                self._reading = None

    async def serve(self, snapshot: Callable[[], Awaitable[dict[str, Any]]], send: Send) -> None:
        """Send the snapshot, then every change, until the client goes away.

        Subscribes before the snapshot is read, so no change made in between is missed.
        """
        with self._subscribed() as client:
            await self._send(client, send, await self._snapshot_for(client, snapshot))
            client.live = True
            while True:
                client.wake = trio.Event()
                self._gated.discard(client)
                ready, next_due = client.due(trio.current_time(), self._coalesce_s)
                await self._describe_episodes_together(ready)
                for change in ready:
                    text = change if isinstance(change, str) else await change.text()
                    await self._send(client, send, text)
                if client.wake.is_set():
                    continue  # a change came in meanwhile
                self._caught_up(client)
                # History yields to state, the whole feed's: each message is a socket write per
                # client, and under a flood the writes go to every board's states first; the
                # entries follow, one at a time, as soon as no client has a change left to send.
                while client.timeline and not client.wake.is_set() and self._history_may_go():
                    await self._send(client, send, client.timeline.popleft())
                if client.wake.is_set():
                    continue
                wake_at = math.inf if next_due is None else next_due
                if client.timeline:  # held back: look again when a stuck client is passed over
                    self._gated.add(client)
                    wake_at = min(wake_at, trio.current_time() + STUCK_S)
                with trio.move_on_at(wake_at):
                    await client.wake.wait()
