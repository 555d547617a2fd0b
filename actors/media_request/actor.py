"""The RequestActor shell: load the request, decide each message, persist, hand on, publish."""

from __future__ import annotations

import logging
import typing
from collections.abc import Sequence

import attrs
from status_tracker.storage import (
    AppendTimeline,
    MarkMailApplied,
    Op,
    SaveEpisodes,
    SaveRequest,
    Store,
)

from status_tracker.domain import EpisodeRow, RequestRow, TimelineEntry

from ..clock import WallClock
from ..envelope import (
    Applied,
    Deliver,
    apply_through_outages,
    deliveries_in,
    not_yet_applied,
    outlasting_outages,
)
from ..mail import SERVICES_TARGET, post, torrent_target
from ..notifier import queue_op
from ..reconcile.catch_up import caught_up_timeline
from .messages import DownloadProgressed
from .notifications import notices_for
from .state import Decision, RequestState, decide

logger = logging.getLogger(__name__)


class Publisher(typing.Protocol):
    """Where committed changes are announced (the live feed)."""

    def request_changed(self, row: RequestRow, episodes: Sequence[EpisodeRow]) -> None: ...

    def episode_changed(self, row: EpisodeRow) -> None: ...

    def timeline_added(self, entry: TimelineEntry) -> None: ...


@typing.final
class RequestActor:
    """Owns one request and its episodes: the only writer of those rows."""

    def __init__(
        self,
        request_id: int,
        *,
        store: Store,
        clock: WallClock,
        publisher: Publisher,
        notify_events: frozenset[str] = frozenset(),
    ) -> None:
        self.request_id = request_id
        self._notify_events = notify_events
        self._store = store
        self._clock = clock
        self._publisher = publisher
        self.state: RequestState | None = None
        self._loaded = False

    async def _load(self) -> None:
        self.state = None
        request = await self._store.load_request(self.request_id)
        if request is not None:
            episodes = await self._store.load_episodes(self.request_id)
            self.state = RequestState(request=request, episodes={e.key: e for e in episodes})

    async def handle(self, message: object) -> Applied:
        deliveries = deliveries_in(message, "RequestActor")
        if not self._loaded:
            # The request the dispatcher has just allocated an id for has nothing stored yet.
            first = deliveries[0]
            if first.created_at is None or first.redelivery:
                await outlasting_outages(self._store, lambda _retried: self._load())
            self._loaded = True
        return await apply_through_outages(
            self._store, deliveries, apply=self._apply, reload=self._load
        )

    async def _apply(self, deliveries: tuple[Deliver, ...]) -> Applied:
        """Apply each delivery in order, then commit them all in one transaction."""
        state = self.state
        before = state.request.state if state else None
        decisions: list[Decision] = []
        ops: list[Op] = []
        now = self._clock.now()
        for message in await not_yet_applied(self._store, deliveries):
            created_at = message.created_at if state is None else None
            now = self._clock.now() if created_at is None else created_at
            applied, after = self._decide(state, message, now)
            # What to tell people goes into the outbox in this same transaction.
            timeline = [entry for decision in applied for entry in decision.timeline]
            notices = notices_for(state, after, timeline, events=self._notify_events)
            ops.extend(queue_op(notice, at=now) for notice in notices)
            if message.mail_id is not None:
                ops.append(MarkMailApplied(mail_id=message.mail_id, at=now))
            decisions.extend(applied)
            state = after
        ops[:0] = self._operations(decisions, state, now)
        if ops:
            await self._store.commit(ops)
        if state is not None and state.request.state != before:
            logger.info(
                "request %d %r %s → %s",
                self.request_id,
                state.request.title,
                before or "new",
                state.request.state,
            )
        self.state = state
        changed = any(decision.changed for decision in decisions)
        # A download it follows moved (stalled, say) though the request did not: what the
        # request shows (its reason) may have changed all the same.
        followed = any(isinstance(fact, DownloadProgressed) for fact in message.messages)
        if (changed or followed) and state is not None:
            self._publish(decisions, state)
        return Applied(changed=changed)

    def _decide(
        self, state: RequestState | None, message: Deliver, now: float
    ) -> tuple[list[Decision], RequestState | None]:
        """The decision on each of the delivery's facts, and the state they leave."""
        decisions: list[Decision] = []
        for fact in message.messages:
            decision = decide(
                state, fact, request_id=self.request_id, now=now, source=message.source
            )
            if message.caught_up:
                timeline = caught_up_timeline(decision.timeline, message.caught_up, message.source)
                decision = attrs.evolve(decision, timeline=timeline)
            decisions.append(decision)
            state = decision.state
        return decisions, state

    def _operations(
        self, decisions: Sequence[Decision], state: RequestState | None, now: float
    ) -> list[Op]:
        ops: list[Op] = []
        if state is None:
            return ops
        if any(d.request_changed for d in decisions):
            ops.append(SaveRequest(row=state.request))
        changed_keys = {row.key for d in decisions for row in d.episodes_changed}
        if changed_keys:
            ops.append(
                SaveEpisodes(rows=tuple(state.episodes[key] for key in sorted(changed_keys)))
            )
        entries = tuple(entry for d in decisions for entry in d.timeline)
        if entries:
            ops.append(AppendTimeline(entries=entries))
        for decision in decisions:
            for deletion in decision.deletions:
                ops.append(post(SERVICES_TARGET, "api", deletion, at=now))
            for claim in decision.claims:
                ops.append(post(torrent_target(claim.hash), "system", claim, at=now))
        return ops

    def _publish(self, decisions: Sequence[Decision], state: RequestState) -> None:
        episodes = list(state.episodes.values())
        self._publisher.request_changed(state.request, episodes)
        published: set[tuple[int, int]] = set()
        for decision in decisions:
            for row in decision.episodes_changed:
                if row.key not in published:
                    published.add(row.key)
                    self._publisher.episode_changed(state.episodes[row.key])
            for entry in decision.timeline:
                self._publisher.timeline_added(entry)
