"""Requests as the API and the live feed show them, read from the store with their reasons and
links: one place, so a feed message says what ``GET /api/requests/{id}`` says."""

from __future__ import annotations

import functools
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from status_tracker.actors.clock import WallClock
from status_tracker.actors.recovery import reasons
from status_tracker.actors.recovery.reasons import Setup
from status_tracker.storage import Store, read_together

from status_tracker.domain import FINISHED_STATES, NO_EPISODES, EpisodeRow, RequestRow
from status_tracker.domain.links import ServiceAddresses

from . import views

if typing.TYPE_CHECKING:
    from .service import HttpSettings


def reason_setup(config: HttpSettings) -> Setup:
    """What the reasons need to know of the configuration."""
    return Setup(
        stuck_after=config.stuck_after_s,
        download_client="qBittorrent" if config.qbittorrent_url else None,
        jellyfin=bool(config.jellyfin_url),
        shoko=bool(config.shoko_url),
        sonarr_api=bool(config.sonarr_url and config.sonarr_api_key),
    )


@typing.final
class RequestItems:
    """Describes requests with what the configuration and the clock add: reasons and links."""

    def __init__(
        self, *, store: Store, clock: WallClock, setup: Setup, addresses: ServiceAddresses
    ) -> None:
        self._store = store
        self._clock = clock
        self.setup = setup
        self.addresses = addresses

    async def arr_reasons(self) -> dict[str, str]:
        """What Sonarr/Radarr said, at the reconciler's last read, of the imports they hold
        back (their queues are short: read whole)."""
        return reasons.arr_reasons(await self._store.arr_downloads("sonarr", "radarr"))

    async def item(
        self,
        row: RequestRow,
        episodes: Sequence[EpisodeRow],
        *,
        arr_reasons: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """A list item (also a feed message's), its reason read from the downloads it follows
        and from what the *arrs say of them (read here unless the caller already has it)."""
        finished = row.state in FINISHED_STATES
        downloads = [] if finished else await self._store.downloads_of(row.id)
        return views.request_item(
            row,
            episodes,
            downloads=downloads,
            setup=self.setup,
            now=self._clock.now(),
            arr_reasons=await self.arr_reasons() if arr_reasons is None else arr_reasons,
            addresses=self.addresses,
        )

    async def episodes(self, rows: Sequence[EpisodeRow]) -> list[dict[str, Any]]:
        """Episodes as their requests' details would show them (feed messages), in order; each
        request, its downloads and the *arrs' held imports read once for all of them."""
        store = self._store
        request_ids = list(dict.fromkeys(row.request_id for row in rows))
        requests = {r.id: r for r in await store.requests_holding({"id": request_ids})}
        if not requests:
            return [views.episode_item(row) for row in rows]
        downloads = await store.downloads_by_request(list(requests))
        held = await self.arr_reasons()
        now = self._clock.now()
        followed = {
            request_id: ({d.hash: d for d in own}, views.episode_sizes(own))
            for request_id in requests
            for own in [downloads.get(request_id, [])]
        }
        return [
            views.episode_item(row)
            if (request := requests.get(row.request_id)) is None
            else views.episode_detail(
                row,
                request,
                *followed[request.id],
                setup=self.setup,
                now=now,
                arr_reasons=held,
            )
            for row in rows
        ]

    async def items(self, rows: Sequence[RequestRow]) -> list[dict[str, Any]]:
        """List items for ``rows`` (a page, the snapshot) with a few reads for all of them.

        A finished request has no reason: its item needs only the summary of its episodes,
        which the store counts; an active one's reason reads its episodes and downloads."""
        store = self._store
        active = [row.id for row in rows if row.state not in FINISHED_STATES]
        finished = [row.id for row in rows if row.state in FINISHED_STATES]
        episodes, summaries, downloads, held = await read_together(
            functools.partial(store.episodes_by_request, active),
            functools.partial(store.episode_summaries, finished),
            functools.partial(store.downloads_by_request, active),
            self.arr_reasons if active else _no_arr_reasons,
        )
        now = self._clock.now()
        return [
            views.summarized_item(row, summaries.get(row.id, NO_EPISODES), addresses=self.addresses)
            if row.state in FINISHED_STATES
            else views.request_item(
                row,
                episodes.get(row.id, ()),
                downloads=downloads.get(row.id, ()),
                setup=self.setup,
                now=now,
                arr_reasons=held,
                addresses=self.addresses,
            )
            for row in rows
        ]

    async def detail(self, row: RequestRow) -> dict[str, Any]:
        """The request with its episodes, downloads and timeline."""
        return views.request_detail(
            row,
            await self._store.load_episodes(row.id),
            await self._store.downloads_of(row.id),
            await self._store.timeline(row.id),
            setup=self.setup,
            now=self._clock.now(),
            arr_reasons=await self.arr_reasons(),
            addresses=self.addresses,
        )


async def _no_arr_reasons() -> Mapping[str, str]:
    """What the *arrs say of the downloads of a page without an active request: nothing."""
    return reasons.NO_ARR_REASONS
