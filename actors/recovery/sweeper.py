"""The recovery sweeper loop: every so often, find stuck items and drive each on.

What it does is always a timeline entry (source ``recovery``) on the request. It acts on the
same stuck item at most once per ``stuck_after`` seconds, so a long wait is visible without
flooding the timeline.
"""

from __future__ import annotations

import logging
import typing
from collections.abc import Awaitable, Callable, Sequence

import attrs
import httpx
import trio
from status_tracker.clients import ClientError, DownloadClient
from status_tracker.storage import DEDUPE_WINDOW_S, DatabaseUnavailable, PostMail, PruneMail

from status_tracker.domain import DownloadRow, EpisodeRow, RequestRow

from ..download_poller import observe
from ..envelope import Deliver
from ..mail import post, torrent_target
from ..media_request.messages import ActionRecorded
from ..runtime import ActorDied
from ..torrent.messages import DownloadClaimed
from .stuck import Action, Relink, RereadDownload, VerifyInLibrary, find_stuck

logger = logging.getLogger(__name__)

SendTo = Callable[[typing.Any, Deliver], Awaitable[object]]


class StuckSource(typing.Protocol):
    """The reads the sweeper needs (the Store provides them)."""

    async def active_requests(self) -> list[RequestRow]: ...

    async def episodes_of(self, request_ids: Sequence[int]) -> list[EpisodeRow]: ...

    async def load_download(self, torrent_hash: str) -> DownloadRow | None: ...

    async def commit(self, ops: Sequence[PostMail | PruneMail]) -> None: ...

    async def wait_available(self) -> None:
        """Return once the database answers again after an outage."""
        ...


class LibraryLookup(typing.Protocol):
    """Looks a request up in the library; True when something was confirmed available."""

    async def __call__(self, request: RequestRow) -> bool: ...


@typing.final
@attrs.frozen(kw_only=True)
class SweeperStatus:
    sweeps: int
    actions: int
    stuck_now: int


@typing.final
class RecoverySweeper:
    """Finds stuck items and re-reads, re-verifies or re-links them."""

    def __init__(
        self,
        *,
        source: StuckSource,
        now: Callable[[], float],
        call_request: SendTo,
        send_torrent: SendTo,
        downloads: DownloadClient | None,
        find_in_library: LibraryLookup | None,
        stuck_after: float,
        interval: float,
    ) -> None:
        self._source = source
        self._now = now
        self._call_request = call_request
        self._send_torrent = send_torrent
        self._downloads = downloads
        self._find_in_library = find_in_library
        self._stuck_after = stuck_after
        self._interval = interval
        self._acted_at: dict[Action, float] = {}
        self._sweeps = 0
        self._actions = 0
        self._stuck_now = 0

    def status(self) -> SweeperStatus:
        return SweeperStatus(sweeps=self._sweeps, actions=self._actions, stuck_now=self._stuck_now)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        while True:
            await trio.sleep(self._interval)
            try:
                await self.sweep_once()
            except DatabaseUnavailable:
                await self._source.wait_available()
            except (ActorDied, trio.TooSlowError) as exc:
                # A request actor that failed on a note is its supervisor's business; the
                # item is still stuck and is looked at again next period.
                logger.warning("recovery sweep cut short: %r", exc)

    async def sweep_once(self) -> list[Action]:
        """Find what is stuck now and act on what was not acted on recently; returns that."""
        now = self._now()
        requests = await self._source.active_requests()
        by_request: dict[int, list[EpisodeRow]] = {}
        for episode in await self._source.episodes_of([r.id for r in requests]):
            by_request.setdefault(episode.request_id, []).append(episode)
        hashes = {r.download_hash for r in requests if r.download_hash} | {
            e.torrent_hash for rows in by_request.values() for e in rows if e.torrent_hash
        }
        downloads = {}
        for torrent_hash in sorted(hashes):
            row = await self._source.load_download(torrent_hash)
            if row is not None:
                downloads[torrent_hash] = row
        stuck = find_stuck(requests, by_request, downloads, now=now, stuck_after=self._stuck_after)
        self._stuck_now = len(stuck)
        self._acted_at = {a: t for a, t in self._acted_at.items() if a in stuck}
        due = [a for a in stuck if now - self._acted_at.get(a, -float("inf")) >= self._stuck_after]
        requests_by_id = {r.id: r for r in requests}
        for action in due:
            self._acted_at[action] = now
            self._actions += 1
            try:
                await self._carry_out(action, requests_by_id[action.request_id])
            except (ClientError, httpx.HTTPError) as exc:
                await self._note(action, "recovery_deferred", f"could not check: {exc}")
        # Applied mail is kept twice the dedupe window, then forgotten, so the table stays small.
        await self._source.commit([PruneMail(before=now - 2 * DEDUPE_WINDOW_S)])
        self._sweeps += 1
        return due

    async def _carry_out(self, action: Action, request: RequestRow) -> None:
        match action:
            case Relink():
                claim = DownloadClaimed(
                    hash=action.hash,
                    request_id=action.request_id,
                    name=None,
                    episodes=action.episodes,
                )
                await self._source.commit(
                    [post(torrent_target(action.hash), "recovery", claim, at=self._now())]
                )
                await self._note(action, "relinked", f"linked again to download {action.hash}")
            case RereadDownload():
                await self._reread(action, request)
            case VerifyInLibrary():
                await self._verify(action, request)

    async def _reread(self, action: RereadDownload, request: RequestRow) -> None:
        waited = f"no progress for {action.stuck_for:.0f} s"
        if self._downloads is None:
            await self._note(action, "stuck_download", f"{waited}; no download client configured")
            return
        client = self._downloads.service_name
        download = await self._downloads.download(action.hash)
        if download is not None:
            await self._send_torrent(
                action.hash, Deliver(messages=(observe(download),), source=self._downloads.source)
            )
            await self._note(
                action,
                "download_reread",
                f"{waited}; {client} says {download.client_state} at "
                f"{download.progress * 100:.1f} %",
            )
            return
        if self._find_in_library is not None and await self._find_in_library(request):
            await self._note(
                action, "found_in_library", f"{waited}; torrent gone, found in Jellyfin"
            )
            return
        await self._note(
            action,
            "download_missing",
            f"{waited}; torrent gone from {client}, not in Jellyfin yet",
        )

    async def _verify(self, action: VerifyInLibrary, request: RequestRow) -> None:
        waited = f"{action.state} for {action.stuck_for:.0f} s"
        if self._find_in_library is None:
            await self._note(action, "waiting_for_library", f"{waited}; no Jellyfin configured")
            return
        if await self._find_in_library(request):
            await self._note(action, "found_in_library", f"{waited}; found in Jellyfin")
        else:
            await self._note(action, "waiting_for_library", f"{waited}; not in Jellyfin yet")

    async def _note(self, action: Action, event: str, detail: str) -> None:
        logger.info("recovery: request %s %s: %s", action.request_id, event, detail)
        await self._call_request(
            action.request_id,
            Deliver(
                messages=(ActionRecorded(event=event, detail=detail, episodes=action.episodes),),
                source="recovery",
            ),
        )
