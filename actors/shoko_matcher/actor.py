"""The Shoko matcher: ties Shoko's file events to our anime movies and episodes by path.

Each file event becomes a timeline entry (source ``shoko``) on the item whose imported file it
is; a match with AniDB cross-references hands the item to the verifier at once. After every
reconnect (SignalR replays nothing) every item waiting on Shoko is verified again, and again
after a database outage swallowed an event. A failed Jellyfin check is counted and logged once
per distinct reason.
"""

from __future__ import annotations

import logging
import typing
from collections.abc import Awaitable, Callable

import trio
from status_tracker.clients import ClientError
from status_tracker.storage import DatabaseUnavailable, Store

from status_tracker.domain import RequestRow

from ..envelope import Deliver
from ..library_match import match_path
from ..media_request.messages import ShokoFileReported
from .messages import ShokoFact, ShokoFileEvent

logger = logging.getLogger(__name__)

CallRequest = Callable[[int, Deliver], Awaitable[object]]
Verify = Callable[[RequestRow], Awaitable[bool]]
ItemKey = tuple[int, tuple[int, int] | None]


@typing.final
class ShokoMatcher:
    """Receives the listener's facts; resyncs in its own task so the listener never waits."""

    def __init__(self, *, store: Store, call_request: CallRequest, verify: Verify | None) -> None:
        self._store = store
        self._call_request = call_request
        self._verify = verify
        self._resync_wanted = trio.Event()
        self.matched_events = 0
        self.unmatched_events = 0
        self.resyncs = 0
        self.verify_failures = 0
        self._last_verify_problem: str | None = None

    async def on_event(self, fact: ShokoFact) -> None:
        """Apply one Shoko fact to the items whose file it names.

        During a database outage the fact cannot be applied; a resync is asked for instead, so
        the items it may concern are checked once the database is back.
        """
        if not isinstance(fact, ShokoFileEvent):
            return
        try:
            await self._apply(fact)
        except DatabaseUnavailable:
            logger.warning("Shoko %s %s not applied: database unavailable", fact.kind, fact.file_id)
            self._resync_wanted.set()

    async def _apply(self, fact: ShokoFileEvent) -> None:
        paths = [fact.relative_path]
        if fact.previous_relative_path:
            paths.append(fact.previous_relative_path)
        matches: dict[int, list[tuple[int, int]]] = {}
        candidates = await self._candidates()
        for path in paths:
            for request_id, key in match_path(path, candidates):  # type: ignore[misc]
                keys = matches.setdefault(request_id, [])
                if key is not None and key not in keys:
                    keys.append(key)
            if matches:
                break
        if not matches:
            self.unmatched_events += 1
            logger.info("Shoko %s %s matches no tracked item", fact.kind, fact.relative_path)
            return
        self.matched_events += 1
        for request_id, keys in sorted(matches.items()):
            reported = ShokoFileReported(
                event=fact.kind,
                file_id=fact.file_id,
                relative_path=fact.relative_path,
                has_cross_references=fact.has_cross_references,
                episodes=tuple(sorted(keys)),
            )
            await self._call_request(request_id, Deliver(messages=(reported,), source="shoko"))
            if fact.kind == "matched" and fact.has_cross_references:
                await self._verify_request(request_id)

    async def on_resync(self) -> None:
        """Ask for every item waiting on Shoko to be checked again (done by ``run``)."""
        self._resync_wanted.set()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        while True:
            await self._resync_wanted.wait()
            self._resync_wanted = trio.Event()
            self.resyncs += 1
            try:
                for request in await self._store.requests_in_states(("anime_matching",)):
                    await self._verify_request(request.id)
            except DatabaseUnavailable:
                logger.warning("Shoko resync waits for the database to come back")
                await self._store.wait_available()
                self._resync_wanted.set()

    async def _verify_request(self, request_id: int) -> None:
        if self._verify is None:
            return
        request = await self._store.load_request(request_id)
        if request is None:
            return
        try:
            await self._verify(request)
        except ClientError as exc:
            self.verify_failures += 1
            if exc.reason != self._last_verify_problem:
                logger.warning("Verifying request %s after Shoko failed: %s", request_id, exc)
            self._last_verify_problem = exc.reason
            return
        self._last_verify_problem = None

    async def _candidates(self) -> dict[ItemKey, str]:
        """Every imported file we track, by (request id, episode or None).

        Not only anime: a show Sonarr calls standard may still be in Shoko's import folders.
        """
        requests = await self._store.active_requests()
        candidates: dict[ItemKey, str] = {
            (r.id, None): r.final_path for r in requests if r.media_type == "movie" and r.final_path
        }
        shows = [r.id for r in requests if r.media_type == "tv"]
        for episode in await self._store.episodes_of(shows):
            if episode.final_path:
                candidates[(episode.request_id, episode.key)] = episode.final_path
        return candidates
