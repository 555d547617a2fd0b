"""What a download does with each message: pure decisions for the TorrentActor.

A download row holds the torrent's progress, its files with the episodes each file holds, and
the requests linked to it; every change is told to every linked request.

What the row's ``state`` says (the API's words; qBittorrent's own word is ``client_state``):

- A claim creates the row ``queued`` with no ``client_state``: nothing is reported of it yet
  (and with no download client configured, nothing ever will be). Its reason says so; it never
  reads "queued in qBittorrent" until qBittorrent says ``queuedDL``.
- qBittorrent does not list a torrent it never reported (a hash the *arr grabbed that it never
  got; ``TorrentNotListed``): once the claim is ``NOT_REPORTED_GRACE_S`` old (an *arr adds the
  torrent before it tells us, but qBittorrent may list it a moment later) the row is
  ``missing`` at 0 %. A re-read that finds it gone (``TorrentVanished``) needs no grace.
- qBittorrent no longer has a torrent it reported: ``missing``, keeping its progress. Removed
  after it finished (100 %, or ``completed``/``seeding``: the *arr's "remove completed") it
  stays at 100 %, so the requests linked to it are not held back by it.
- qBittorrent says ``stalledDL`` the moment no byte arrived for a second (every fresh add, the
  gaps between bursts): the row reads ``stalled`` only once the stall has lasted
  ``STALLED_AFTER_S`` with no progress; before that it reads ``downloading``. ``stalled_since``
  is when that stall began (progress resets it).
"""

from __future__ import annotations

import typing
from collections.abc import Iterable

import attrs

from status_tracker.domain import DownloadLink, DownloadRow, TorrentFileRow

from ..media_request.messages import DownloadProgressed, EpisodeProgress
from .messages import (
    DownloadClaimed,
    ObservedFile,
    TorrentNotListed,
    TorrentObserved,
    TorrentVanished,
)
from .release import classify_release, episode_progress, map_files_to_episodes

TorrentMessage = DownloadClaimed | TorrentObserved | TorrentVanished | TorrentNotListed

NOT_REPORTED_GRACE_S = 30.0
"""How long a claimed torrent qBittorrent does not list may still be on its way there."""
STALLED_AFTER_S = 60.0
"""How long qBittorrent must report a stall, without progress, before the row says ``stalled``.
(``ST_STALLED_AFTER_S`` is when the reconciler acts on a stall; this is only what the row shows.)"""


@typing.final
@attrs.frozen(kw_only=True)
class TorrentDecision:
    """The new row (None: nothing known), whether to save it, and what to tell which request."""

    row: DownloadRow | None
    changed: bool
    notify: tuple[tuple[int, DownloadProgressed], ...] = ()


def decide(row: DownloadRow | None, message: TorrentMessage, *, now: float) -> TorrentDecision:
    """Apply one message to the download of one torrent hash."""
    match message:
        case DownloadClaimed():
            return _claimed(row, message, now)
        case TorrentObserved():
            return _observed(row, message, now)
        case TorrentVanished():
            return _vanished(row, now)
        case TorrentNotListed():
            if row is None or not never_reported(row):
                return TorrentDecision(row=row, changed=False)
            if now - row.created_at < NOT_REPORTED_GRACE_S:
                return TorrentDecision(row=row, changed=False)
            return _vanished(row, now)
    raise TypeError(f"not a torrent message: {message!r}")


class Reported(typing.Protocol):
    """What a stored row says the download client reported (a ``DownloadRow``, or the
    poller's ``DownloadWatch``)."""

    @property
    def state(self) -> str: ...
    @property
    def client_state(self) -> str | None: ...
    @property
    def progress(self) -> float: ...


def never_reported(row: Reported) -> bool:
    """The download client has never reported this torrent (nothing is known of it)."""
    return row.client_state is None and row.progress == 0 and row.state == "queued"


def finished(row: DownloadRow) -> bool:
    """The torrent was complete when last reported."""
    return row.progress >= 100 or row.state in ("completed", "seeding")


def _vanished(row: DownloadRow | None, now: float) -> TorrentDecision:
    """The download client does not have the torrent (any more): ``missing``."""
    if row is None or row.state == "missing":
        return TorrentDecision(row=row, changed=False)
    gone = attrs.evolve(
        row,
        state="missing",
        progress=100.0 if finished(row) else row.progress,
        speed=None,
        eta_s=None,
        seeds=None,
        peers=None,
        stalled_since=None,
        updated_at=now,
        last_change_at=now,
    )
    return TorrentDecision(row=gone, changed=True, notify=_tell_everyone(gone))


def _claimed(row: DownloadRow | None, claim: DownloadClaimed, now: float) -> TorrentDecision:
    existed = row is not None
    if row is None:
        row = DownloadRow(
            hash=claim.hash, name=claim.name, created_at=now, updated_at=now, last_change_at=now
        )
    links = {link.request_id: set(link.episodes) for link in row.links}
    before = {rid: frozenset(eps) for rid, eps in links.items()}
    links.setdefault(claim.request_id, set()).update(claim.episodes)
    new_release = claim.release is not None and claim.release != row.release
    relinked = {rid: frozenset(eps) for rid, eps in links.items()} != before
    if existed and not new_release and not relinked:
        # A replayed claim: already linked, nothing to save; still tell the request where we are.
        return TorrentDecision(row=row, changed=False, notify=_tell(row, [claim.request_id]))
    updated = attrs.evolve(
        row,
        name=row.name or claim.name,
        release=claim.release or row.release,
        links=tuple(
            DownloadLink(request_id=rid, episodes=tuple(sorted(eps)))
            for rid, eps in sorted(links.items())
        ),
        updated_at=now,
    )
    if updated.files:
        updated = attrs.evolve(updated, files=_map_files(updated.files, _all_episodes(updated)))
    updated = attrs.evolve(updated, release_type=_release_type(updated))
    observed = existed and not never_reported(row) and (row.progress > 0 or row.state != "queued")
    return TorrentDecision(
        row=updated,
        changed=True,
        notify=_tell(updated, [claim.request_id]) if observed else (),
    )


def _observed(row: DownloadRow | None, seen: TorrentObserved, now: float) -> TorrentDecision:
    if row is None:
        # Nobody claimed this torrent: the poller only watches claimed ones, so it is stale.
        return TorrentDecision(row=None, changed=False)
    files = row.files
    if seen.files is not None:
        files = _map_files(
            tuple(_file_row(observed) for observed in seen.files), _all_episodes(row)
        )
    progress = _short_of(seen.progress * 100, 2, whole=100.0)
    stalled_since = _stalled_since(row, seen, progress, now)
    stalled = stalled_since is not None and now - stalled_since >= STALLED_AFTER_S
    state = "downloading" if seen.state == "stalled" and not stalled else seen.state
    moved = attrs.evolve(
        row,
        name=seen.name or row.name,
        progress=progress,
        state=state,
        client_state=seen.client_state,
        size=seen.size if seen.size is not None else row.size,
        files=files,
    )
    updated = attrs.evolve(
        moved,
        speed=seen.speed,
        eta_s=seen.eta_s,
        size_left=seen.size_left,
        seeds=seen.seeds,
        peers=seen.peers,
        stalled_since=stalled_since,
    )
    if updated == row:
        return TorrentDecision(row=row, changed=False)
    if moved == row:
        # Only the swarm or the speed changed: saved, but it is no change of the item (the
        # stuck clock keeps running) and nothing a request follows.
        return TorrentDecision(row=attrs.evolve(updated, updated_at=now), changed=True)
    updated = attrs.evolve(updated, updated_at=now, last_change_at=now)
    return TorrentDecision(row=updated, changed=True, notify=_tell_everyone(updated))


def _stalled_since(
    row: DownloadRow, seen: TorrentObserved, progress: float, now: float
) -> float | None:
    """When the stall qBittorrent reports began: None unless it reports one; a stall that the
    progress moved through begins again now."""
    if seen.state != "stalled":
        return None
    if row.stalled_since is None or progress != row.progress:
        return now
    return row.stalled_since


def _release_type(row: DownloadRow) -> str:
    """``movie`` for a download no episode is linked to, else what the release holds."""
    episodes = _all_episodes(row)
    if not episodes:
        return "movie"
    return classify_release(row.name or "", episodes, [f.name for f in row.files]).value


def _file_row(observed: ObservedFile) -> TorrentFileRow:
    return TorrentFileRow(
        index=observed.index,
        name=observed.name,
        size=observed.size,
        progress=_short_of(observed.progress, 4, whole=1.0),
    )


def _short_of(value: float, digits: int, *, whole: float) -> float:
    """``value`` rounded, but never up to ``whole`` while it is short of it (not complete yet)."""
    rounded = round(value, digits)
    if rounded >= whole > value:
        return round(whole - 10**-digits, digits)
    return rounded


def _all_episodes(row: DownloadRow) -> tuple[tuple[int, int], ...]:
    return tuple(sorted({key for link in row.links for key in link.episodes}))


def _map_files(
    files: Iterable[TorrentFileRow], episodes: tuple[tuple[int, int], ...]
) -> tuple[TorrentFileRow, ...]:
    files = tuple(files)
    mapping = map_files_to_episodes([f.name for f in files], episodes) if episodes else {}
    return tuple(
        attrs.evolve(f, episodes=tuple(mapping.get(position, ())))
        for position, f in enumerate(files)
    )


def _tell_everyone(row: DownloadRow) -> tuple[tuple[int, DownloadProgressed], ...]:
    return _tell(row, [link.request_id for link in row.links])


def _tell(
    row: DownloadRow, request_ids: Iterable[int]
) -> tuple[tuple[int, DownloadProgressed], ...]:
    progressed = DownloadProgressed(
        hash=row.hash,
        name=row.name,
        state=row.state,
        client_state=row.client_state,
        progress=row.progress,
        episodes=_episode_progress(row),
        linked=_all_episodes(row),
    )
    return tuple((request_id, progressed) for request_id in request_ids)


def _episode_progress(row: DownloadRow) -> tuple[EpisodeProgress, ...]:
    mapped = [f for f in row.files if f.episodes]
    if not mapped:
        return ()
    mapping = {position: f.episodes for position, f in enumerate(row.files) if f.episodes}
    sizes = [(position, f.size, f.progress) for position, f in enumerate(row.files)]
    progress = episode_progress(sizes, mapping)
    return tuple(
        EpisodeProgress(
            season=season,
            episode=episode,
            progress=round(value, 2),
            complete=value >= 100.0,
        )
        for (season, episode), value in sorted(progress.items())
    )
