"""What a download does with each message: pure decisions for the TorrentActor.

A download row holds the torrent's progress, its files with the episodes each file holds, and
the requests linked to it; every change is told to every linked request.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable

import attrs

from status_tracker.domain import DownloadLink, DownloadRow, TorrentFileRow

from ..media_request.messages import DownloadProgressed, EpisodeProgress
from .messages import DownloadClaimed, ObservedFile, TorrentObserved, TorrentVanished
from .release import classify_release, episode_progress, map_files_to_episodes

TorrentMessage = DownloadClaimed | TorrentObserved | TorrentVanished


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
            if row is None or row.state == "missing":
                return TorrentDecision(row=row, changed=False)
            gone = attrs.evolve(row, state="missing", updated_at=now, last_change_at=now)
            return TorrentDecision(row=gone, changed=True, notify=_tell_everyone(gone))
    raise TypeError(f"not a torrent message: {message!r}")


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
    observed = existed and (row.progress > 0 or row.state != "queued")
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
    moved = attrs.evolve(
        row,
        name=seen.name or row.name,
        progress=_short_of(seen.progress * 100, 2, whole=100.0),
        state=seen.state,
        client_state=seen.client_state,
        size=seen.size if seen.size is not None else row.size,
        files=files,
    )
    stalled = seen.state == "stalled"
    updated = attrs.evolve(
        moved,
        speed=seen.speed,
        eta_s=seen.eta_s,
        size_left=seen.size_left,
        seeds=seen.seeds,
        peers=seen.peers,
        stalled_since=(row.stalled_since or now) if stalled else None,
    )
    if updated == row:
        return TorrentDecision(row=row, changed=False)
    if moved == row:
        # Only the swarm or the speed changed: saved, but it is no change of the item (the
        # stuck clock keeps running) and nothing a request follows.
        return TorrentDecision(row=attrs.evolve(updated, updated_at=now), changed=True)
    updated = attrs.evolve(updated, updated_at=now, last_change_at=now)
    return TorrentDecision(row=updated, changed=True, notify=_tell_everyone(updated))


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
