"""The JSON shapes of the public API, built from stored rows (pure functions)."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from status_tracker.storage import DeadLetter

from status_tracker.domain import DownloadRow, EpisodeRow, RequestRow, TimelineEntry


def iso(timestamp: float | None) -> str | None:
    """An epoch timestamp as ISO 8601 UTC (``...Z``)."""
    if timestamp is None:
        return None
    moment = datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def episode_counts(episodes: Iterable[EpisodeRow]) -> dict[str, int]:
    return dict(sorted(Counter(e.state for e in episodes).items()))


def request_item(row: RequestRow, episodes: Sequence[EpisodeRow]) -> dict[str, Any]:
    """A request as the list and the live feed show it (no episodes, downloads, timeline)."""
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
        "episode_counts": episode_counts(episodes),
    }


def episode_item(row: EpisodeRow) -> dict[str, Any]:
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
    }


def download_item(row: DownloadRow) -> dict[str, Any]:
    return {
        "hash": row.hash,
        "name": row.name,
        "progress": _progress(row.progress),
        "state": row.state,
        "client_state": row.client_state,
        "is_season_pack": row.is_season_pack,
        "release_type": row.release_type,
        "size": row.size,
        "episodes": [{"season": s, "episode": e} for link in row.links for (s, e) in link.episodes],
        "updated_at": iso(row.updated_at),
    }


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
) -> dict[str, Any]:
    return {
        **request_item(row, episodes),
        "episodes": [episode_item(e) for e in sorted(episodes, key=lambda e: e.key)],
        "downloads": [download_item(d) for d in downloads],
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
