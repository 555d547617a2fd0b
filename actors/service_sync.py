"""The service sync: carries a deletion made through the API over to Radarr and Sonarr.

It receives durable hand-offs, so a service that is down gets the call again (the dispatcher
retries, then keeps it as a dead letter); what it did is recorded on the request's timeline.
"""

from __future__ import annotations

import typing

from clients.radarr import RadarrClient
from clients.sonarr import SonarrClient
from storage import MarkMailApplied, Op, Store

from .clock import WallClock
from .envelope import Applied, Deliver, already_applied
from .mail import post, request_target
from .media_request.messages import ActionRecorded, DeletionSyncWanted


@typing.final
class ServiceSync:
    """The one writer of calls that change Radarr and Sonarr."""

    def __init__(
        self,
        *,
        store: Store,
        clock: WallClock,
        radarr: RadarrClient | None,
        sonarr: SonarrClient | None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._radarr = radarr
        self._sonarr = sonarr

    async def handle(self, message: object) -> Applied:
        if not isinstance(message, Deliver):
            raise TypeError(f"ServiceSync got {message!r}")
        if await already_applied(self._store, message):
            return Applied(changed=False)
        now = self._clock.now()
        ops: list[Op] = []
        for wanted in message.messages:
            if not isinstance(wanted, DeletionSyncWanted):
                raise TypeError(f"ServiceSync got {wanted!r}")
            detail = await self._sync(wanted)
            recorded = ActionRecorded(event="services_synced", detail=detail)
            ops.append(post(request_target(wanted.request_id), "system", recorded, at=now))
        if message.mail_id is not None:
            ops.append(MarkMailApplied(mail_id=message.mail_id, at=now))
        await self._store.commit(ops)
        return Applied(changed=True)

    async def _sync(self, wanted: DeletionSyncWanted) -> str:
        """Make the calls; raises when a configured service cannot be reached (retried later)."""
        if wanted.media_type == "movie":
            if wanted.radarr_id is None:
                return "nothing to delete in Radarr (the movie has no Radarr id)"
            if self._radarr is None:
                return "not deleted in Radarr: ST_RADARR_URL/ST_RADARR_API_KEY not set"
            if await self._radarr.delete_movie(wanted.radarr_id):
                return f"deleted in Radarr with its files (movie {wanted.radarr_id})"
            return f"Radarr no longer had movie {wanted.radarr_id}"
        if not wanted.sonarr_episode_ids:
            return "nothing to delete in Sonarr (no Sonarr episode ids known)"
        if self._sonarr is None:
            return "not deleted in Sonarr: ST_SONARR_URL/ST_SONARR_API_KEY not set"
        await self._sonarr.unmonitor_episodes(wanted.sonarr_episode_ids)
        files = await self._sonarr.delete_episode_files(wanted.sonarr_episode_ids)
        count = len(wanted.sonarr_episode_ids)
        return f"{count} episode(s) unmonitored in Sonarr, {files} file(s) deleted"
