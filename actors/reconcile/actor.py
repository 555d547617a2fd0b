"""The reconciler: reads Jellyseerr, Sonarr and Radarr as a second source of truth.

Webhooks are fire-and-forget; what the tracker missed (while it was down, or because no webhook
was ever sent) is read back from the services' APIs on start, every interval, and after any
service comes back. What it learns goes through the same durable inbox and the same dedupe as
webhooks (``catch_up.event_key``): whichever of the webhook and the history record comes first
is applied, the other is a duplicate. The history cursor is stored in the transaction that
stores the mail it covers.

It also reads the *arr queues (the reason a download waits, in the *arr's words; stalled
downloads, handled by policy, and the replacement grab after recovery blocklisted one) and
nudges Jellyfin for imported items it has not picked up.
"""

from __future__ import annotations

import collections
import datetime
import json
import logging
import typing
from collections.abc import Awaitable, Callable, Sequence

import attrs
import trio
from status_tracker.clients import ClientError, JellyfinClient
from status_tracker.clients.jellyseerr import JellyseerrClient
from status_tracker.clients.radarr import RadarrClient
from status_tracker.clients.sonarr import SonarrClient
from status_tracker.storage import (
    EVENT_DEDUPE_WINDOW_S,
    DatabaseUnavailable,
    ForgetArrDownload,
    IncomingMail,
    Op,
    PruneEventKeys,
    PruneReplacementWaits,
    RecordLibraryNudge,
    SaveArrDownload,
    SaveReplacementWait,
    SetSetting,
    Store,
)

from status_tracker.domain import ReplacementWait

from ..clock import WallClock
from ..envelope import outlasting_outages
from ..mail import encode, request_target
from ..recovery.reasons import duration_words
from . import catch_up, replacement, rules

logger = logging.getLogger(__name__)

ArrClient = SonarrClient | RadarrClient
Reachable = Callable[[], bool | None]
WATCH_EVERY_S: typing.Final = 1.0


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).isoformat()


def _label(mail: IncomingMail) -> str:
    """What a stored mail counts as on /health: its caught-up event, or the action noted."""
    event, kind = catch_up.split_caught_up(mail.kind)
    if event is not None:
        return event
    try:
        return str(json.loads(mail.body).get("event") or kind)
    except (ValueError, AttributeError):
        return kind


@typing.final
@attrs.define
class _ServiceStatus:
    last_read_at: float | None = None
    last_error: str | None = None
    cursor: rules.Cursor | None = None


@typing.final
class Reconciler:
    """The one writer of the reconciler's rows; everything else goes through the inbox."""

    def __init__(
        self,
        *,
        store: Store,
        clock: WallClock,
        sonarr: SonarrClient | None,
        radarr: RadarrClient | None,
        jellyseerr: JellyseerrClient | None,
        jellyfin: JellyfinClient | None,
        interval: float,
        stalled_action: rules.StalledAction,
        stalled_after: float,
        stuck_after: float,
        watched: Sequence[Reachable] = (),
    ) -> None:
        self._store = store
        self._clock = clock
        self._sonarr = sonarr
        self._radarr = radarr
        self._jellyseerr = jellyseerr
        self._jellyfin = jellyfin
        self._interval = interval
        self._stalled_action = stalled_action
        self._stalled_after = stalled_after
        self._stuck_after = stuck_after
        self._watched = list(watched)
        self._wanted = trio.Event()
        self._services = {
            name: _ServiceStatus()
            for name, client in (("jellyseerr", jellyseerr), ("sonarr", sonarr), ("radarr", radarr))
            if client is not None
        }
        self._counts: collections.Counter[str] = collections.Counter()
        self._last_round_at: float | None = None
        self._rounds = 0
        self._library_refreshed_at: float | None = None

    # -- the loop -----------------------------------------------------------------------------

    def request_round(self) -> None:
        """Reconcile again now (after a reconnect, or when asked)."""
        self._wanted.set()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        seen = [probe() for probe in self._watched]
        while True:
            self._wanted = trio.Event()
            await outlasting_outages(self._store, lambda _retried: self.reconcile())
            deadline = trio.current_time() + self._interval
            while not self._wanted.is_set() and trio.current_time() < deadline:
                with trio.move_on_after(min(WATCH_EVERY_S, deadline - trio.current_time())):
                    await self._wanted.wait()
                now_seen = [probe() for probe in self._watched]
                if any(
                    old is False and new is True for old, new in zip(seen, now_seen, strict=True)
                ):
                    logger.info("a service is reachable again: reconciling now")
                    self._wanted.set()
                seen = now_seen

    async def reconcile(self) -> None:
        """One round: each configured service, then the library nudges."""
        self._counts = collections.Counter()
        if self._jellyseerr is not None:
            await self._guarded("jellyseerr", self._jellyseerr, self._read_jellyseerr)
        for name, client in (("sonarr", self._sonarr), ("radarr", self._radarr)):
            if client is not None:
                await self._guarded(name, client, lambda c=client, n=name: self._read_arr(n, c))
        if self._jellyfin is not None:
            try:
                await self._nudge_library(self._jellyfin)
            except ClientError as exc:
                self._jellyfin.health.failed(exc)
        now = self._clock.now()
        await self._store.commit([PruneEventKeys(before=now - EVENT_DEDUPE_WINDOW_S)])
        self._last_round_at = now
        self._rounds += 1

    async def _guarded(
        self,
        name: str,
        client: SonarrClient | RadarrClient | JellyseerrClient,
        read: Callable[[], Awaitable[None]],
    ) -> None:
        """Read one service; its failure is its own (shown on /health), never the round's.

        The reconciler is a second source of truth: a service answering what this code cannot
        handle must not take the tracker down, so anything but a database outage (which the
        round waits out) is logged with its traceback and tried again next round.
        """
        status = self._services[name]
        try:
            await read()
        except ClientError as exc:
            client.health.failed(exc)
            status.last_error = exc.reason
            logger.warning("reconciling %s failed: %s", name, exc)
            return
        except DatabaseUnavailable:
            raise
        except Exception as exc:
            status.last_error = f"reconciling failed: {type(exc).__name__}"
            # What it answered could not be handled: shown on /health as the service's problem.
            client.health.failed(status.last_error)
            logger.exception("reconciling %s failed", name)
            return
        client.health.answered()
        status.last_read_at = self._clock.now()
        status.last_error = None

    # -- storing what was learned ------------------------------------------------------------

    def _mail(self, item: catch_up.CaughtUp, target: str, *, suffix: str = "") -> IncomingMail:
        """A caught-up fact keeps its caught-up event in the mail kind; an action, its own."""
        kind, body = encode(item.fact)
        if item.event.startswith(catch_up.CAUGHT_UP_PREFIX):
            kind = catch_up.caught_up_kind(item.event, kind)
        key = item.key + suffix
        return IncomingMail(
            target=target,
            source=item.source,
            kind=kind,
            body=body,
            dedupe_key=key,
            event_key=key,
        )

    async def _note_mail(self, item: catch_up.CaughtUp) -> list[IncomingMail]:
        """A note about a download goes to every request holding it (none: dropped)."""
        assert item.download_hash is not None
        ids = await self._store.request_ids_for_hash(item.download_hash)
        return [self._mail(item, request_target(i), suffix=f":{i}") for i in ids]

    async def _store_mail(self, mails: Sequence[IncomingMail], ops: Sequence[Op] = ()) -> int:
        """Store the mail (and ``ops``) in one transaction; count what was new, by event."""
        if not mails and not ops:
            return 0
        accepted = await self._store.accept_mail(mails, now=self._clock.now(), ops=ops)
        fresh = 0
        for mail, outcome in zip(mails, accepted, strict=True):
            if not outcome.duplicate:
                fresh += 1
                self._counts[_label(mail)] += 1
        return fresh

    # -- Jellyseerr ---------------------------------------------------------------------------

    async def _read_jellyseerr(self) -> None:
        client = self._jellyseerr
        assert client is not None
        # What the tracker knows is read first: a request a webhook creates meanwhile is then
        # found by the dispatcher (never withdrawn for not being known yet).
        known = await self._store.jellyseerr_requests()
        listed = await client.requests()
        plan = catch_up.plan_jellyseerr(listed, known)
        mails = []
        for request in plan.create:
            title = None
            if request.tmdb_id is not None:
                title = await client.title_of(request.media_type, request.tmdb_id)
            item = catch_up.request_caught_up(catch_up.requested_fact(request, title))
            mails.append(self._mail(item, "dispatch"))
        mails.extend(self._mail(item, "dispatch") for item in plan.facts)
        for row in plan.withdrawn:
            mails.append(self._mail(catch_up.withdrawal(row), request_target(row.id)))
        await self._store_mail(mails)

    # -- Sonarr and Radarr --------------------------------------------------------------------

    async def _read_arr(self, name: str, client: ArrClient) -> None:
        grabbed = await self._read_history(name, client)
        queue = rules.group_queue(await client.queue())
        await self._follow_replacements(name, client, queue, grabbed)
        await self._read_queue(name, client, queue)

    async def _read_history(self, name: str, client: ArrClient) -> list[tuple[str, int]]:
        """Catch up on the history since the cursor; returns the grabs read (download, item)."""
        setting = f"reconcile.{name}.cursor"
        stored = await self._store.get_setting(setting)
        cursor = rules.Cursor(**json.loads(stored)) if stored else None
        now = self._clock.now()
        records = await client.history_since(rules.read_from(cursor, now))
        unread = rules.unread(records, cursor, now)
        read = catch_up.sonarr_facts if name == "sonarr" else catch_up.radarr_facts
        learned = read(unread)  # type: ignore[arg-type]
        mails: list[IncomingMail] = []
        for item in learned:
            if item.download_hash is not None:
                mails.extend(await self._note_mail(item))
            else:
                mails.append(self._mail(item, "dispatch"))
        advanced = rules.advance(cursor, unread, now)
        ops: list[Op] = []
        if advanced is not None and advanced != cursor:
            ops.append(SetSetting(key=setting, value=json.dumps(attrs.asdict(advanced))))
        await self._store_mail(mails, ops)
        self._services[name].cursor = advanced
        return replacement.grabs(unread)

    async def _read_queue(
        self, name: str, client: ArrClient, queue: dict[str, rules.QueuedDownload]
    ) -> None:
        previous = {row.download_id: row for row in await self._store.arr_downloads(name)}
        now = self._clock.now()
        service = name.capitalize()
        ops: list[Op] = [
            ForgetArrDownload(service=name, download_id=download_id)
            for download_id in previous
            if download_id not in queue
        ]
        mails: list[IncomingMail] = []
        stalls: list[tuple[rules.QueuedDownload, rules.StallVerdict]] = []
        for download_id, download in queue.items():
            before = previous.get(download_id)
            progress_at = rules.progress_since(
                before.size_left if before else None,
                before.progress_at if before else None,
                download.size_left,
                now,
            )
            linked = await self._store.request_ids_for_hash(download_id)
            known_reason = before.reason if before else None
            changed = download.reason != known_reason and (download.reason or before is not None)
            if changed and linked:
                detail = download.reason or f"{download.title or download_id}: no problem any more"
                note = catch_up.note(
                    source=name,
                    event="caught_up_status",
                    detail=f"{service}: {detail}",
                    subject=f"status|{download_id}|{detail}|{now}",
                    download_hash=download_id,
                )
                mails.extend(await self._note_mail(note))
                known_reason = download.reason
            # Not linked to a request yet (its grab is still in the inbox): noted next round.
            verdict = rules.judge_stall(
                download,
                progress_at=progress_at,
                acted_at=before.acted_at if before else None,
                now=now,
                policy=self._stalled_action,
                after_s=self._stalled_after,
                happy_elsewhere=await self._happy_elsewhere(download_id),
            )
            acted = verdict.action != "none" and bool(linked)
            ops.append(
                SaveArrDownload(
                    service=name,
                    download_id=download_id,
                    title=download.title,
                    queue_ids=download.queue_ids,
                    item_ids=download.item_ids,
                    tracked_state=download.tracked_state,
                    reason=known_reason,
                    size_left=download.size_left,
                    stalled=download.stalled,
                    progress_at=progress_at,
                    seen_at=now,
                    action=verdict.action if acted else (before.action if before else None),
                    acted_at=now if acted else (before.acted_at if before else None),
                )
            )
            if acted:
                assert verdict.reason is not None
                event = {
                    "notify": "download_stalled",
                    "research": "stalled_download_replaced",
                    "spare": "stalled_download_kept",
                }[verdict.action]
                note = catch_up.note(
                    source="recovery",
                    event=event,
                    detail=f"{download.title or download_id}: {verdict.reason}"
                    + (
                        f"; removed from the client and blocklisted in {service}, which searches "
                        "again (or is asked to when no replacement is grabbed within "
                        f"{duration_words(self._interval)})"
                        if verdict.action == "research"
                        else ""
                    ),
                    subject=f"{event}|{download_id}|{now}",
                    download_hash=download_id,
                )
                mails.extend(await self._note_mail(note))
                if verdict.action == "research":
                    stalls.append((download, verdict))
        # The decision is durable before anything is asked of the *arr: a restart in between
        # never acts twice (at most once per download per ST_STALLED_AFTER_S).
        await self._store_mail(mails, ops)
        for download, _verdict in stalls:
            await self._research(name, client, download)

    async def _happy_elsewhere(self, download_id: str) -> str | None:
        states: dict[int, list[str]] = {}
        for request_id in await self._store.request_ids_for_hash(download_id):
            request = await self._store.load_request(request_id)
            if request is None:
                continue
            if request.media_type == "movie":
                if request.download_hash == download_id:
                    states[request_id] = [request.state]
                continue
            episodes = await self._store.load_episodes(request_id)
            held = [e.state for e in episodes if e.torrent_hash == download_id]
            if held:
                states[request_id] = held
        return rules.happy_with(states)

    async def _research(self, name: str, client: ArrClient, download: rules.QueuedDownload) -> None:
        """Remove and blocklist a stalled download, then wait for its replacement grab (the *arr
        searches again by itself only when "Redownload failed" is on, and not at all when it no
        longer had the download): ``_follow_replacements`` searches when none follows."""
        await client.remove_from_queue(download.queue_ids[0], blocklist=True)
        if download.item_ids:
            wait = ReplacementWait(
                service=name,
                download_id=download.download_id,
                title=download.title,
                item_ids=download.item_ids,
                removed_at=self._clock.now(),
            )
            await self._store.commit([SaveReplacementWait(wait=wait)])

    async def _follow_replacements(
        self,
        name: str,
        client: ArrClient,
        queue: dict[str, rules.QueuedDownload],
        grabbed: Sequence[tuple[str, int]],
    ) -> None:
        """Settle the waits of the downloads recovery blocklisted: the replacement was grabbed,
        or, one reconcile interval after the removal, one search for the items still without
        one (at most once per item per ST_STALLED_AFTER_S)."""
        waits = await self._store.replacement_waits(name)
        if not waits:
            return
        now = self._clock.now()
        changed = replacement.follow(
            waits,
            queued={download_id: q.item_ids for download_id, q in queue.items()},
            grabbed=grabbed,
            now=now,
            wait_s=self._interval,
            period_s=self._stalled_after,
        )
        ops: list[Op] = [SaveReplacementWait(wait=wait) for wait in changed]
        ops.append(PruneReplacementWaits(service=name, settled_before=now - self._stalled_after))
        searches = [wait for wait in changed if wait.outcome == "searched"]
        mails: list[IncomingMail] = []
        for wait in searches:
            note = catch_up.note(
                source="recovery",
                event="replacement_search_requested",
                detail=replacement.search_detail(wait, now=now),
                subject=f"search|{wait.download_id}|{now}",
                download_hash=wait.download_id,
            )
            mails.extend(await self._note_mail(note))
        # Durable before the *arr is asked: a restart never searches twice.
        await self._store_mail(mails, ops)
        for wait in searches:
            if isinstance(client, SonarrClient):
                await client.search_episodes(wait.searched_ids)
            else:
                await client.search_movies(wait.searched_ids)

    # -- Jellyfin -------------------------------------------------------------------------------

    async def _nudge_library(self, jellyfin: JellyfinClient) -> None:
        waiting = [
            rules.Waiting(request_id=row.id, since=row.last_change_at, jellyfin_id=row.jellyfin_id)
            for row in await self._store.requests_in_states(("importing", "anime_matching"))
        ]
        if not waiting:
            return
        now = self._clock.now()
        nudges = rules.nudges_due(
            waiting,
            await self._store.library_nudges(),
            now=now,
            after_s=self._stuck_after,
            library_refreshed_at=self._library_refreshed_at,
        )
        if not nudges:
            return
        ops: list[Op] = []
        mails: list[IncomingMail] = []
        for nudge in nudges:
            detail = (
                f"asked Jellyfin to refresh item {nudge.item_id}"
                if nudge.item_id
                else "asked Jellyfin to scan the library"
            )
            detail += f" (imported {rules._minutes(now - nudge.since)} ago, not seen yet)"
            ops.append(
                RecordLibraryNudge(
                    request_id=nudge.request_id, since=nudge.since, at=now, detail=detail
                )
            )
            note = catch_up.note(
                source="recovery",
                event="library_refresh_requested",
                detail=detail,
                subject=f"nudge|{nudge.request_id}|{nudge.since}",
            )
            mails.append(self._mail(note, request_target(nudge.request_id)))
        await self._store_mail(mails, ops)
        library = False
        for nudge in nudges:
            if nudge.item_id:
                if not await jellyfin.refresh_item(nudge.item_id):
                    library = True
            else:
                library = True
        if library:
            await jellyfin.refresh_library()
            self._library_refreshed_at = now
        jellyfin.health.answered()

    # -- /health ----------------------------------------------------------------------------------

    def status(self) -> dict[str, typing.Any]:
        now = self._clock.now()
        return {
            "configured": bool(self._services),
            "interval_s": self._interval,
            "stalled_action": self._stalled_action,
            "stalled_after_s": self._stalled_after,
            "rounds": self._rounds,
            "services": {
                name: {
                    "last_read_at": _iso(status.last_read_at),
                    "last_error": status.last_error,
                    "cursor": None
                    if status.cursor is None
                    else {"id": status.cursor.id, "date": _iso(status.cursor.date)},
                    "cursor_lag_s": None
                    if status.last_read_at is None
                    else round(now - status.last_read_at, 1),
                }
                for name, status in self._services.items()
            },
            "last_round": {
                "at": _iso(self._last_round_at),
                "caught_up": dict(sorted(self._counts.items())),
            },
        }
