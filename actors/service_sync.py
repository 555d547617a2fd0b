"""The service sync: carries a deletion made through the API over to Radarr and Sonarr.

It receives durable hand-offs. When a configured service cannot be reached, or answers what
cannot be read, the failure goes on the request's timeline and on the client's health, and the
hand-off is kept as a dead letter to retry from the API: the actor itself never crashes on it.
"""

from __future__ import annotations

import typing

import attrs
from status_tracker.clients import ClientError
from status_tracker.clients.radarr import RadarrClient
from status_tracker.clients.sonarr import SonarrClient
from status_tracker.storage import MarkMailApplied, Op, RecordDeadLetter, Store

from .clock import WallClock
from .envelope import Applied, Deliver, already_applied
from .mail import SERVICES_TARGET, encode, post, request_target
from .media_request.messages import ActionRecorded, DeletionSyncWanted

ACTOR_ID: typing.Final = "service-sync"


@typing.final
@attrs.frozen(kw_only=True)
class _Outcome:
    detail: str
    asked: RadarrClient | SonarrClient | None = None


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
        failure: str | None = None
        for wanted in message.messages:
            if not isinstance(wanted, DeletionSyncWanted):
                raise TypeError(f"ServiceSync got {wanted!r}")
            client = self._radarr if wanted.media_type == "movie" else self._sonarr
            try:
                outcome = await self._sync(wanted)
            except ClientError as exc:
                assert client is not None  # only a configured client is ever called
                client.health.failed(exc)
                failure = exc.reason
                recorded = ActionRecorded(
                    event="services_sync_failed",
                    detail=f"not synced: {exc.reason}; kept as a dead letter to retry",
                )
                ops.append(post(request_target(wanted.request_id), "system", recorded, at=now))
                ops.append(_dead_letter(message, wanted, exc.reason, now))
                continue
            if outcome.asked is not None:
                outcome.asked.health.answered()
            recorded = ActionRecorded(event="services_synced", detail=outcome.detail)
            ops.append(post(request_target(wanted.request_id), "system", recorded, at=now))
        if message.mail_id is not None:
            ops.append(MarkMailApplied(mail_id=message.mail_id, at=now, error=failure))
        await self._store.commit(ops)
        return Applied(changed=True)

    async def _sync(self, wanted: DeletionSyncWanted) -> _Outcome:
        """Make the calls; raises ``ClientError`` when a configured service fails."""
        if wanted.media_type == "movie":
            if wanted.radarr_id is None:
                return _Outcome(detail="nothing to delete in Radarr (the movie has no Radarr id)")
            if self._radarr is None:
                return _Outcome(
                    detail="not deleted in Radarr: ST_RADARR_URL/ST_RADARR_API_KEY not set"
                )
            if await self._radarr.delete_movie(wanted.radarr_id):
                detail = f"deleted in Radarr with its files (movie {wanted.radarr_id})"
            else:
                detail = f"Radarr no longer had movie {wanted.radarr_id}"
            return _Outcome(detail=detail, asked=self._radarr)
        if not wanted.sonarr_episode_ids:
            return _Outcome(detail="nothing to delete in Sonarr (no Sonarr episode ids known)")
        if self._sonarr is None:
            return _Outcome(detail="not deleted in Sonarr: ST_SONARR_URL/ST_SONARR_API_KEY not set")
        await self._sonarr.unmonitor_episodes(wanted.sonarr_episode_ids)
        files = await self._sonarr.delete_episode_files(wanted.sonarr_episode_ids)
        count = len(wanted.sonarr_episode_ids)
        return _Outcome(
            detail=f"{count} episode(s) unmonitored in Sonarr, {files} file(s) deleted",
            asked=self._sonarr,
        )


def _dead_letter(
    message: Deliver, wanted: DeletionSyncWanted, reason: str, now: float
) -> RecordDeadLetter:
    """The hand-off kept with its body, so retrying it from the API posts it again."""
    kind, body = encode(wanted)
    return RecordDeadLetter(
        at=now,
        actor=ACTOR_ID,
        message=f"{message.source} {kind} (mail {message.mail_id})",
        error=reason,
        mail_id=message.mail_id,
        target=SERVICES_TARGET,
        source=message.source,
        kind=kind,
        body=body,
    )
