"""The episode lister: shows a TV request's episodes as ``pending`` before anything is grabbed.

For each active TV request with no episodes yet, it asks Sonarr (when configured) for the
series' episodes in the requested seasons and hands them to the request. A series Sonarr
does not have yet, or a look-up that failed, is asked about again later; failures are recorded
on the Sonarr client's health.
"""

from __future__ import annotations

import logging
import typing
from collections.abc import Awaitable, Callable

import trio
from status_tracker.clients import ClientError, DependencyStatus
from status_tracker.clients.sonarr import SonarrClient
from status_tracker.storage import DatabaseUnavailable, Store

from status_tracker.domain import RequestRow

from .envelope import Deliver
from .media_request.messages import EpisodeRef, EpisodesListed

logger = logging.getLogger(__name__)

CallRequest = Callable[[int, Deliver], Awaitable[object]]
RETRY_AFTER_S = 60.0


@typing.final
class EpisodeLister:
    """Lists episodes of new TV requests from Sonarr."""

    def __init__(
        self,
        *,
        client: SonarrClient,
        store: Store,
        call_request: CallRequest,
        now: Callable[[], float],
        interval: float,
    ) -> None:
        self._client = client
        self._store = store
        self._call_request = call_request
        self._now = now
        self._interval = interval
        self._next_try: dict[int, float] = {}

    def status(self) -> DependencyStatus:
        """Sonarr's health, as this lister and the service sync found it."""
        return self._client.health.status()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        while True:
            try:
                await self.list_once()
            except DatabaseUnavailable:
                logger.warning("The episode lister waits for the database to come back")
                await self._store.wait_available()
            await trio.sleep(self._interval)

    async def list_once(self) -> int:
        """List episodes for every TV request still without any; returns how many were listed.

        Raises:
            DatabaseUnavailable: the requests could not be read.
        """
        requests = [
            r
            for r in await self._store.active_requests()
            if r.media_type == "tv" and r.tvdb_id and r.state in ("requested", "approved")
        ]
        listed = 0
        with_episodes = {
            e.request_id for e in await self._store.episodes_of([r.id for r in requests])
        }
        for request in requests:
            if request.id in with_episodes or self._now() < self._next_try.get(request.id, 0.0):
                continue
            try:
                listed += await self._list(request)
            except ClientError as exc:
                self._client.health.failed(exc)
                self._next_try[request.id] = self._now() + RETRY_AFTER_S
            else:
                self._client.health.answered()
        return listed

    async def _list(self, request: RequestRow) -> int:
        assert request.tvdb_id is not None
        series_id = request.sonarr_id or await self._client.series_id_for_tvdb(request.tvdb_id)
        if series_id is None:
            self._next_try[request.id] = self._now() + RETRY_AFTER_S
            return 0
        wanted = set(request.requested_seasons)
        episodes = tuple(
            EpisodeRef(
                season=e.season,
                episode=e.episode,
                title=e.title,
                sonarr_episode_id=e.id,
                tvdb_id=e.tvdb_id,
            )
            for e in await self._client.episodes(series_id)
            if (e.season in wanted if wanted else e.season > 0)
        )
        if not episodes:
            self._next_try[request.id] = self._now() + RETRY_AFTER_S
            return 0
        await self._call_request(
            request.id,
            Deliver(
                messages=(EpisodesListed(sonarr_id=series_id, episodes=episodes),), source="sonarr"
            ),
        )
        return len(episodes)
