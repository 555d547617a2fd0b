"""The JSON shapes of the public API, built from stored rows (pure functions)."""

from __future__ import annotations

import datetime
import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any

from status_tracker.actors.recovery import reasons
from status_tracker.actors.recovery.reasons import Setup
from status_tracker.storage import DeadLetter

from status_tracker.domain import (
    DownloadRow,
    EpisodeRow,
    EpisodeSummary,
    RequestRow,
    TimelineEntry,
    summarize,
)
from status_tracker.domain.links import ServiceAddresses, request_links

EpisodeKey = tuple[int, int]


_EPOCH = datetime.date(1970, 1, 1)
_DAY_S = 86_400
_ARITHMETIC_UNTIL = 4_102_444_800.0
"""2100-01-01: ``iso`` works out the times before it (and after 1970) by arithmetic."""
_HOURS_MINUTES = [f"{hour:02d}:{minute:02d}:" for hour in range(24) for minute in range(60)]
_SECONDS = [f"{second:02d}" for second in range(60)]
_MILLISECONDS = [f"{milli:03d}" for milli in range(1000)]


def iso(timestamp: float | None) -> str | None:
    """An epoch timestamp as ISO 8601 UTC with milliseconds (``...Z``), as ``datetime`` writes
    it: rounded to the microsecond (half to even), the milliseconds then cut, not rounded."""
    if timestamp is None:
        return None
    if not 0.0 <= timestamp < _ARITHMETIC_UNTIL:  # NaN too
        moment = datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    # The same text without a datetime, pieced from tables (a page of 500 requests writes
    # 2,000 times; this takes half as long): fromtimestamp() rounds the fraction in
    # microseconds as round() does, half to even.
    fraction, whole = math.modf(timestamp)
    micro = round(fraction * 1e6)
    day, second = divmod(int(whole) + micro // 1_000_000, _DAY_S)
    return (
        f"{_date(day)}T{_HOURS_MINUTES[second // 60]}{_SECONDS[second % 60]}"
        f".{_MILLISECONDS[micro % 1_000_000 // 1000]}Z"
    )


@functools.lru_cache(maxsize=1024)
def _date(day: int) -> str:
    return (_EPOCH + datetime.timedelta(days=day)).isoformat()


def request_item(
    row: RequestRow,
    episodes: Sequence[EpisodeRow],
    *,
    downloads: Sequence[DownloadRow] = (),
    setup: Setup | None = None,
    now: float | None = None,
    arr_reasons: Mapping[str, str] = reasons.NO_ARR_REASONS,
    addresses: ServiceAddresses | None = None,
) -> dict[str, Any]:
    """A request as the list and the live feed show it (no episodes, downloads, timeline).

    ``reason`` (why it waits or is stuck) needs ``setup`` and ``now``; without them it is null.
    ``arr_reasons``: what Sonarr/Radarr say of the downloads whose import they hold back.
    ``links`` (its pages in the services) needs the services' ``addresses``; without, empty.
    """
    reason = None
    if setup is not None and now is not None:
        by_hash = {d.hash: d for d in downloads}
        reason = reasons.request_reason(
            row, episodes, by_hash, setup, now=now, arr_reasons=arr_reasons
        )
    return summarized_item(row, summarize(episodes), reason=reason, addresses=addresses)


def summarized_item(
    row: RequestRow,
    episodes: EpisodeSummary,
    *,
    reason: str | None = None,
    addresses: ServiceAddresses | None = None,
) -> dict[str, Any]:
    """``request_item`` from the summary of the request's episodes and its ``reason``: all a
    finished request's item needs (it has no reason)."""
    return {
        "id": row.id,
        "media_type": row.media_type,
        "title": row.title,
        "year": row.year,
        "tmdb_id": row.tmdb_id,
        "tvdb_id": row.tvdb_id,
        "imdb_id": row.imdb_id,
        "jellyseerr_request_id": row.jellyseerr_request_id,
        "is_anime": row.is_anime,
        "state": row.state,
        "progress": _progress(row.progress),
        "poster_url": row.poster_url,
        "overview": row.overview,
        "source": row.source,
        "jellyfin_id": row.jellyfin_id,
        "requested_seasons": list(row.requested_seasons),
        "final_path": row.final_path,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "available_at": iso(row.available_at),
        "episode_counts": dict(episodes.counts),
        "requested_by": row.requested_by,
        "requested_at": iso(row.requested_at),
        "reason": reason,
        "links": request_links(row, episodes, addresses) if addresses else {},
    }


def episode_item(
    row: EpisodeRow, *, size: int | None = None, reason: str | None = None
) -> dict[str, Any]:
    """One episode; ``size`` is the size of its file(s) in the torrent, when known."""
    return {
        "season": row.season,
        "episode": row.episode,
        "title": row.title,
        "state": row.state,
        "progress": _progress(row.progress),
        "torrent_hash": row.torrent_hash,
        "final_path": row.final_path,
        "jellyfin_id": row.jellyfin_id,
        "updated_at": iso(row.updated_at),
        "size": size,
        "reason": reason,
    }


def download_item(
    row: DownloadRow,
    *,
    now: float | None = None,
    arr_reason: str | None = None,
    client: str | None = "qBittorrent",
) -> dict[str, Any]:
    """One download, with qBittorrent's speed, time left and swarm, and the release facts the
    *arr sent with its grab (null or empty when not sent); its reason names the download
    ``client`` (None: none is configured)."""
    release = row.release
    running = row.state in ("downloading", "stalled", "queued")
    return {
        "hash": row.hash,
        "name": row.name,
        "progress": _progress(row.progress),
        "state": row.state,
        "client_state": row.client_state,
        "is_season_pack": row.is_season_pack,
        "release_type": row.release_type,
        "size": row.size,
        "size_left": row.size_left,
        "speed": row.speed if running else 0 if row.speed is not None else None,
        "eta_s": row.eta_s if running else None,
        "seeds": row.seeds,
        "peers": row.peers,
        "quality": release.quality if release else None,
        "release_group": release.release_group if release else None,
        "indexer": release.indexer if release else None,
        "languages": list(release.languages) if release else [],
        "custom_formats": list(release.custom_formats) if release else [],
        "reason": reasons.download_reason(row, now=now, client=client, arr=arr_reason)
        if now is not None
        else None,
        "episodes": [{"season": s, "episode": e} for link in row.links for (s, e) in link.episodes],
        "updated_at": iso(row.updated_at),
    }


def episode_detail(
    episode: EpisodeRow,
    request: RequestRow,
    downloads: Mapping[str, DownloadRow],
    sizes: Mapping[tuple[str, EpisodeKey], int],
    *,
    setup: Setup | None = None,
    now: float | None = None,
    arr_reasons: Mapping[str, str] = reasons.NO_ARR_REASONS,
) -> dict[str, Any]:
    """An episode as the detail shows it: its file's size (``sizes``: ``episode_sizes()``) and
    why it waits (needs ``setup`` and ``now``); ``downloads`` by hash."""
    reason = None
    if setup is not None and now is not None:
        reason = reasons.episode_reason(
            episode, request, downloads, setup, now=now, arr_reasons=arr_reasons
        )
    return episode_item(
        episode, size=sizes.get((episode.torrent_hash or "", episode.key)), reason=reason
    )


def episode_sizes(downloads: Sequence[DownloadRow]) -> dict[tuple[str, EpisodeKey], int]:
    """The size of each episode's file(s), by (torrent hash, episode), from the torrents' files."""
    sizes: dict[tuple[str, EpisodeKey], int] = {}
    for download in downloads:
        for file in download.files:
            for key in file.episodes:
                sizes[(download.hash, key)] = sizes.get((download.hash, key), 0) + file.size
    return sizes


def timeline_item(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "at": iso(entry.at),
        "source": entry.source,
        "event": entry.event,
        "from_state": entry.from_state,
        "to_state": entry.to_state,
        "season": entry.season,
        "episode": entry.episode,
        "detail": entry.detail,
    }


def request_detail(
    row: RequestRow,
    episodes: Sequence[EpisodeRow],
    downloads: Sequence[DownloadRow],
    timeline: Sequence[TimelineEntry],
    *,
    setup: Setup | None = None,
    now: float | None = None,
    arr_reasons: Mapping[str, str] = reasons.NO_ARR_REASONS,
    addresses: ServiceAddresses | None = None,
) -> dict[str, Any]:
    sizes = episode_sizes(downloads)
    by_hash = {d.hash: d for d in downloads}
    client = setup.download_client if setup is not None else "qBittorrent"

    def episode(e: EpisodeRow) -> dict[str, Any]:
        return episode_detail(e, row, by_hash, sizes, setup=setup, now=now, arr_reasons=arr_reasons)

    return {
        **request_item(
            row,
            episodes,
            downloads=downloads,
            setup=setup,
            now=now,
            arr_reasons=arr_reasons,
            addresses=addresses,
        ),
        "episodes": [episode(e) for e in sorted(episodes, key=lambda e: e.key)],
        "downloads": [
            download_item(d, now=now, arr_reason=arr_reasons.get(d.hash), client=client)
            for d in downloads
        ],
        "timeline": [timeline_item(t) for t in timeline],
    }


def dead_letter_item(letter: DeadLetter) -> dict[str, Any]:
    """A dead letter with the body of its mail (authenticated API only)."""
    return {
        "id": letter.id,
        "at": iso(letter.at),
        "actor": letter.actor,
        "error": letter.error,
        "mail_id": letter.mail_id,
        "source": letter.source,
        "kind": letter.kind,
        "body": letter.body,
    }


def _progress(value: float) -> float:
    return round(min(max(float(value), 0.0), 100.0), 2)
