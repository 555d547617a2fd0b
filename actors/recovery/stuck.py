"""Which items are stuck and what to do about each: pure rules, no I/O.

An item is stuck when its state (or progress) has not changed for ``stuck_after`` seconds; a
missing link counts only then too, since a fresh grab's link lands within moments. The
sweeper never resets an item to an earlier state: it re-reads, re-verifies or re-links.

An item downloaded but not imported for that long whose torrent its row still shows in
qBittorrent (``seeding``/``completed``) is re-read too (``finished``): the *arr may have
removed the torrent, and the row must say so.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping, Sequence

import attrs

from status_tracker.domain import DownloadRow, EpisodeRow, RequestRow

EpisodeKey = tuple[int, int]
DOWNLOADING = ("grabbing", "downloading")
WAITING_FOR_LIBRARY = ("downloaded", "importing", "anime_matching")
SHOWN_IN_CLIENT = ("seeding", "completed")


@typing.final
@attrs.frozen(kw_only=True)
class RereadDownload:
    """No progress for too long: ask qBittorrent again about this torrent."""

    request_id: int
    hash: str
    episodes: tuple[EpisodeKey, ...] = ()
    stuck_for: float = attrs.field(eq=False)
    finished: bool = False
    """The item is downloaded: only whether qBittorrent still has the torrent is in question."""


@typing.final
@attrs.frozen(kw_only=True)
class VerifyInLibrary:
    """Downloaded (or imported) long ago and never announced: look in Jellyfin."""

    request_id: int
    state: str
    episodes: tuple[EpisodeKey, ...] = ()
    stuck_for: float = attrs.field(eq=False)


@typing.final
@attrs.frozen(kw_only=True)
class Relink:
    """Episodes carry a torrent hash whose download does not list them: link them again."""

    request_id: int
    hash: str
    episodes: tuple[EpisodeKey, ...] = ()


Action = RereadDownload | VerifyInLibrary | Relink


def find_stuck(
    requests: Iterable[RequestRow],
    episodes: Mapping[int, Sequence[EpisodeRow]],
    downloads: Mapping[str, DownloadRow],
    *,
    now: float,
    stuck_after: float,
) -> list[Action]:
    """Every action the sweeper should take now, in request order."""
    actions: list[Action] = []
    for request in sorted(requests, key=lambda r: r.id):
        own = episodes.get(request.id, ())
        if request.media_type == "movie" or not own:
            actions.extend(_movie_actions(request, downloads, now, stuck_after))
        else:
            actions.extend(_episode_actions(request, own, downloads, now, stuck_after))
    return actions


def _movie_actions(
    request: RequestRow, downloads: Mapping[str, DownloadRow], now: float, stuck_after: float
) -> Iterable[Action]:
    stuck_for = now - request.last_change_at
    if stuck_for < stuck_after:
        return
    live = request.state not in ("available", "failed", "deleted")
    if (
        live
        and request.download_hash
        and request.download_hash not in _linked_hashes(request.id, downloads)
    ):
        yield Relink(request_id=request.id, hash=request.download_hash)
    if request.state in DOWNLOADING and request.download_hash:
        yield RereadDownload(request_id=request.id, hash=request.download_hash, stuck_for=stuck_for)
    elif request.state in WAITING_FOR_LIBRARY:
        if request.state == "downloaded" and _shown_in_client(request.download_hash, downloads):
            yield RereadDownload(
                request_id=request.id,
                hash=request.download_hash or "",
                stuck_for=stuck_for,
                finished=True,
            )
        yield VerifyInLibrary(request_id=request.id, state=request.state, stuck_for=stuck_for)


def _episode_actions(
    request: RequestRow,
    episodes: Sequence[EpisodeRow],
    downloads: Mapping[str, DownloadRow],
    now: float,
    stuck_after: float,
) -> Iterable[Action]:
    unlinked: dict[str, list[EpisodeKey]] = {}
    rereads: dict[str, list[EpisodeRow]] = {}
    finished: dict[str, list[EpisodeRow]] = {}
    waiting: dict[str, list[EpisodeRow]] = {}
    for episode in episodes:
        if now - episode.last_change_at < stuck_after:
            continue
        if episode.torrent_hash and episode.state not in ("available", "deleted", "failed"):
            links = _links_of(request.id, downloads.get(episode.torrent_hash))
            if episode.key not in links:
                unlinked.setdefault(episode.torrent_hash, []).append(episode.key)
        if episode.state in DOWNLOADING and episode.torrent_hash:
            rereads.setdefault(episode.torrent_hash, []).append(episode)
        elif episode.state in WAITING_FOR_LIBRARY:
            waiting.setdefault(episode.state, []).append(episode)
            if episode.state == "downloaded" and _shown_in_client(episode.torrent_hash, downloads):
                finished.setdefault(episode.torrent_hash or "", []).append(episode)
    for torrent_hash, keys in sorted(unlinked.items()):
        yield Relink(request_id=request.id, hash=torrent_hash, episodes=tuple(sorted(keys)))
    for by_torrent, downloaded in ((rereads, False), (finished, True)):
        for torrent_hash, rows in sorted(by_torrent.items()):
            yield RereadDownload(
                request_id=request.id,
                hash=torrent_hash,
                episodes=tuple(sorted(e.key for e in rows)),
                stuck_for=now - max(e.last_change_at for e in rows),
                finished=downloaded,
            )
    for state, rows in sorted(waiting.items()):
        yield VerifyInLibrary(
            request_id=request.id,
            state=state,
            episodes=tuple(sorted(e.key for e in rows)),
            stuck_for=now - max(e.last_change_at for e in rows),
        )


def _shown_in_client(torrent_hash: str | None, downloads: Mapping[str, DownloadRow]) -> bool:
    """The stored row of the torrent says qBittorrent has it, finished."""
    row = downloads.get(torrent_hash or "")
    return row is not None and row.state in SHOWN_IN_CLIENT


def _linked_hashes(request_id: int, downloads: Mapping[str, DownloadRow]) -> set[str]:
    return {
        torrent_hash
        for torrent_hash, row in downloads.items()
        if any(link.request_id == request_id for link in row.links)
    }


def _links_of(request_id: int, download: DownloadRow | None) -> set[EpisodeKey]:
    if download is None:
        return set()
    return {
        key for link in download.links if link.request_id == request_id for key in link.episodes
    }
