"""The recovery sweeper loop: every so often, find stuck items and drive each on.

What it does is a timeline entry (source ``recovery``) on the request: one per item and reason
(a pack's episodes together), written again only when the reason changes, so a long wait is
visible without flooding the timeline. It acts on the same stuck item at most once per
``stuck_after`` seconds. A torrent it re-reads that the download client does not have is told
to its TorrentActor (the download row turns ``missing``), and the entry says which it is: never
reported, gone mid-download, or removed after it finished. A request someone asked to check
again now (``POST /api/requests/{id}/check``) is looked at within a second, stuck or not.
"""

from __future__ import annotations

import logging
import typing
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence

import attrs
import httpx
import trio
from status_tracker.clients import ClientError, Download, DownloadClient, TorrentNotFound
from status_tracker.storage import DEDUPE_WINDOW_S, DatabaseUnavailable, PostMail, PruneMail

from status_tracker.domain import DownloadRow, EpisodeRow, RequestRow

from ..download_poller import observe
from ..envelope import Deliver
from ..mail import post, torrent_target
from ..media_request.messages import ActionRecorded
from ..runtime import ActorDied
from ..torrent.messages import DownloadClaimed, ObservedFile, TorrentVanished
from ..torrent.state import finished
from .stuck import Action, Relink, RereadDownload, VerifyInLibrary, find_stuck

logger = logging.getLogger(__name__)

SendTo = Callable[[typing.Any, Deliver], Awaitable[object]]
ClientAnswer = Mapping[str, Download] | ClientError | httpx.HTTPError
"""What the download client said of the torrents to re-read, or why it could not be asked."""
CHECK_POLL_S = 1.0
"""How often it looks for requests someone asked to check again now."""


class StuckSource(typing.Protocol):
    """The reads the sweeper needs (the Store provides them)."""

    async def active_requests(self) -> list[RequestRow]: ...

    async def requests_to_check(self, since: float) -> list[RequestRow]:
        """Requests someone asked to check again after ``since``."""
        ...

    async def episodes_of(self, request_ids: Sequence[int]) -> list[EpisodeRow]: ...

    async def load_downloads(self, hashes: Collection[str]) -> dict[str, DownloadRow]:
        """The stored downloads among ``hashes``, by hash, in one read."""
        ...

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
    checks: int


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
        self._noted: dict[Action, str] = {}
        self._checks_since: float | None = None
        self._checks = 0
        self._sweeps = 0
        self._actions = 0
        self._stuck_now = 0

    def status(self) -> SweeperStatus:
        return SweeperStatus(
            sweeps=self._sweeps,
            actions=self._actions,
            stuck_now=self._stuck_now,
            checks=self._checks,
        )

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        next_sweep = trio.current_time() + self._interval
        while True:
            await trio.sleep(max(0.0, min(CHECK_POLL_S, next_sweep - trio.current_time())))
            try:
                await self.check_asked_once()
                if trio.current_time() >= next_sweep:
                    next_sweep += self._interval
                    await self.sweep_once()
            except DatabaseUnavailable:
                await self._source.wait_available()
            except (ActorDied, trio.TooSlowError) as exc:
                # A request actor that failed on a note is its supervisor's business; the
                # item is still stuck and is looked at again next period.
                logger.warning("recovery sweep cut short: %r", exc)

    async def check_asked_once(self) -> list[Action]:
        """Look now at each request someone asked to check since the last look; returns what
        it did. Asks from before this sweeper started more than a stuck period ago are old."""
        now = self._now()
        if self._checks_since is None:
            self._checks_since = now - self._stuck_after
        asked = await self._source.requests_to_check(self._checks_since)
        done: list[Action] = []
        for request in asked:
            self._checks_since = max(self._checks_since, request.check_requested_at or now)
            done.extend(await self._check_now(request, now))
        return done

    async def _check_now(self, request: RequestRow, now: float) -> list[Action]:
        self._checks += 1
        episodes = await self._source.episodes_of([request.id])
        downloads = await self._downloads_of([request], {request.id: episodes})
        actions = find_stuck([request], {request.id: episodes}, downloads, now=now, stuck_after=0.0)
        for action in actions:
            self._noted.pop(action, None)  # asked for: say what it found even if said before
        await self._act(actions, {request.id: request}, downloads)
        if not actions:
            await self._call_request(
                request.id,
                Deliver(
                    messages=(
                        ActionRecorded(
                            event="checked",
                            detail=f"checked at once: {request.state}, nothing to act on",
                        ),
                    ),
                    source="recovery",
                ),
            )
        return actions

    async def _downloads_of(
        self, requests: Sequence[RequestRow], by_request: dict[int, list[EpisodeRow]]
    ) -> dict[str, DownloadRow]:
        hashes = {r.download_hash for r in requests if r.download_hash} | {
            e.torrent_hash for rows in by_request.values() for e in rows if e.torrent_hash
        }
        return await self._source.load_downloads(sorted(hashes))

    async def sweep_once(self) -> list[Action]:
        """Find what is stuck now and act on what was not acted on recently; returns that."""
        now = self._now()
        requests = await self._source.active_requests()
        by_request: dict[int, list[EpisodeRow]] = {}
        for episode in await self._source.episodes_of([r.id for r in requests]):
            by_request.setdefault(episode.request_id, []).append(episode)
        downloads = await self._downloads_of(requests, by_request)
        stuck = find_stuck(requests, by_request, downloads, now=now, stuck_after=self._stuck_after)
        self._stuck_now = len(stuck)
        self._acted_at = {a: t for a, t in self._acted_at.items() if a in stuck}
        self._noted = {a: said for a, said in self._noted.items() if a in stuck}
        due = [a for a in stuck if now - self._acted_at.get(a, -float("inf")) >= self._stuck_after]
        for action in due:
            self._acted_at[action] = now
        await self._act(due, {r.id: r for r in requests}, downloads)
        # Applied mail is kept twice the dedupe window, then forgotten, so the table stays small.
        await self._source.commit([PruneMail(before=now - 2 * DEDUPE_WINDOW_S)])
        self._sweeps += 1
        return due

    async def _act(
        self,
        actions: Sequence[Action],
        requests: Mapping[int, RequestRow],
        downloads: Mapping[str, DownloadRow],
    ) -> None:
        """Carry out ``actions``, asking the download client once about every torrent to re-read.
        ``downloads``: the stored downloads of the requests acted on."""
        answer = await self._ask_client([a.hash for a in actions if isinstance(a, RereadDownload)])
        for action in actions:
            self._actions += 1
            try:
                await self._carry_out(action, requests[action.request_id], downloads, answer)
            except (ClientError, httpx.HTTPError) as exc:
                await self._deferred(action, exc)

    async def _ask_client(self, hashes: Sequence[str]) -> ClientAnswer:
        if self._downloads is None or not hashes:
            return {}
        try:
            return await self._downloads.downloads(hashes)
        except (ClientError, httpx.HTTPError) as exc:
            return exc

    async def _deferred(self, action: Action, exc: ClientError | httpx.HTTPError) -> None:
        await self._note(action, "recovery_deferred", f"could not check: {exc}")

    async def _carry_out(
        self,
        action: Action,
        request: RequestRow,
        downloads: Mapping[str, DownloadRow],
        answer: ClientAnswer,
    ) -> None:
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
                await self._reread(action, request, downloads.get(action.hash), answer)
            case VerifyInLibrary():
                await self._verify(action, request)

    async def _reread(
        self,
        action: RereadDownload,
        request: RequestRow,
        stored: DownloadRow | None,
        answer: ClientAnswer,
    ) -> None:
        if action.finished:
            await self._recheck_finished(action, answer)
            return
        waited = f"no progress for {action.stuck_for:.0f} s"
        if self._downloads is None:
            await self._note(
                action,
                "stuck_download",
                f"{waited}; no download client configured",
                said="no download client configured",
            )
            return
        if not isinstance(answer, Mapping):
            await self._deferred(action, answer)
            return
        client = self._downloads.service_name
        download = answer.get(action.hash)
        if download is not None and download.hash != action.hash:
            await self._note(
                action,
                "recovery_deferred",
                f"asked {client} for {action.hash} and got {download.hash}: not used",
            )
            return
        if download is not None:
            files = await self._pack_files(action, stored)
            await self._tell_torrent(action.hash, observe(download, files))
            seeds = f", {download.seeds} seeds" if download.seeds is not None else ""
            refreshed = f"; file progress refreshed ({len(files)} files)" if files else ""
            says = f"{client} says {download.client_state} at {download.progress * 100:.1f} %"
            await self._note(
                action,
                "download_reread",
                f"{waited}; {says}{seeds}{refreshed}",
                said=says + seeds,
            )
            return
        await self._tell_torrent(action.hash, TorrentVanished(hash=action.hash))
        gone = _gone_words(stored, client)
        if self._find_in_library is not None and await self._find_in_library(request):
            await self._note(action, "found_in_library", f"{waited}; {gone}, found in Jellyfin")
            return
        await self._note(
            action,
            "download_missing",
            f"{waited}; {gone}, not in Jellyfin yet",
            said=f"{gone}, not in Jellyfin",
        )

    async def _tell_torrent(self, torrent_hash: str, message: object) -> None:
        """Hand the torrent's actor what the download client said (or did not) of it."""
        assert self._downloads is not None
        await self._send_torrent(
            torrent_hash, Deliver(messages=(message,), source=self._downloads.source)
        )

    async def _recheck_finished(self, action: RereadDownload, answer: ClientAnswer) -> None:
        """A downloaded item waits for its import: refresh its torrent's row, and when the client
        no longer has the torrent, mark it gone and say so."""
        if self._downloads is None or not isinstance(answer, Mapping):
            return  # nothing to re-read; waiting for the library is noted on its own
        download = answer.get(action.hash)
        if download is not None:
            if download.hash == action.hash:
                await self._tell_torrent(action.hash, observe(download))
            return
        await self._tell_torrent(action.hash, TorrentVanished(hash=action.hash))
        removed = _removed_after_finishing(self._downloads.service_name)
        await self._note(
            action,
            "download_missing",
            f"downloaded {action.stuck_for:.0f} s ago, not imported yet; {removed}",
            said=removed,
        )

    async def _pack_files(
        self, action: RereadDownload, stored: DownloadRow | None
    ) -> tuple[ObservedFile, ...] | None:
        """The per-file progress of a pack (more than one episode), so its episodes are fresh.
        ``stored``: the download as the sweep read it."""
        assert self._downloads is not None
        episodes = stored.episode_count if stored is not None else len(action.episodes)
        if episodes <= 1:
            return None
        try:
            files = await self._downloads.files(action.hash)
        except TorrentNotFound:
            return None
        return tuple(
            ObservedFile(index=f.index, name=f.name, size=f.size, progress=f.progress)
            for f in files
        )

    async def _verify(self, action: VerifyInLibrary, request: RequestRow) -> None:
        waited = f"{action.state} for {action.stuck_for:.0f} s"
        if self._find_in_library is None:
            await self._note(
                action,
                "waiting_for_library",
                f"{waited}; no Jellyfin configured",
                said="no Jellyfin configured",
            )
            return
        if await self._find_in_library(request):
            await self._note(action, "found_in_library", f"{waited}; found in Jellyfin")
        else:
            await self._note(
                action,
                "waiting_for_library",
                f"{waited}; not in Jellyfin yet",
                said="not in Jellyfin yet",
            )

    async def _note(
        self, action: Action, event: str, detail: str, *, said: str | None = None
    ) -> None:
        """Record what it did, once per item and reason: ``said`` (the detail without its
        durations) unchanged since the last entry about this item means nothing new to say."""
        reason = f"{event}: {said if said is not None else detail}"
        if self._noted.get(action) == reason:
            logger.debug("recovery: request %s %s again: %s", action.request_id, event, detail)
            return
        self._noted[action] = reason
        logger.info("recovery: request %s %s: %s", action.request_id, event, detail)
        await self._call_request(
            action.request_id,
            Deliver(
                messages=(ActionRecorded(event=event, detail=detail, episodes=action.episodes),),
                source="recovery",
            ),
        )


def _gone_words(stored: DownloadRow | None, client: str) -> str:
    """How the entry names a torrent the client does not have, by what its row last showed."""
    if stored is None or (stored.client_state is None and stored.progress == 0):
        return f"{client} does not have the torrent (it never reported it)"
    if finished(stored):
        return _removed_after_finishing(client)
    return f"torrent gone from {client}"


def _removed_after_finishing(client: str) -> str:
    return f"torrent removed from {client} after it finished"
