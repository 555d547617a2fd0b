"""Why an item waits or is stuck, in words a person reads: pure functions, no I/O.

A reason names what the item waits for and, when it has waited ``stuck_after`` seconds or
more, for how long ("no seeds for 12 min", "waiting for Shoko — Shoko is not configured",
"Jellyfin has not listed it for 20 min"). An item moving along as it should has none.
While Sonarr or Radarr holds an import back (import pending, import blocked, failed pending),
an item not imported yet says so in the *arr's own words.
The API shows them on requests, episodes and downloads; /health counts them as problems.

A download says only what is known of it: one qBittorrent never reported is "not reported by
qBittorrent yet" (with no download client configured: nothing is known of it), never "queued
in qBittorrent"; one qBittorrent does not have is "qBittorrent does not have this torrent"
(never reported), "gone from qBittorrent" (removed mid-download) or "removed from qBittorrent
after it finished". An item downloaded but not imported whose torrent was removed says both.
"""

from __future__ import annotations

import types
import typing
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import attrs

from status_tracker.domain import STATE_RANK, DownloadRow, EpisodeRow, RequestRow, WaitingItems

NOT_CONFIGURED = "is not configured"
ARR_HOLDING_STATES: typing.Final = frozenset({"importPending", "importBlocked", "failedPending"})
"""The *arr queue states (``trackedDownloadState``) in which the *arr holds an import back."""
NO_ARR_REASONS: Mapping[str, str] = types.MappingProxyType({})
_BEFORE_IMPORT = frozenset({"grabbing", "downloading", "downloaded"})
_MOVING = frozenset({"grabbing", "downloading", "downloaded", "importing", "anime_matching"})


@typing.final
@attrs.frozen(kw_only=True)
class Setup:
    """Which services the tracker can reach, and when an item counts as stuck."""

    stuck_after: float
    download_client: str | None = "qBittorrent"
    """The download client's name, None when none is configured."""
    jellyfin: bool = True
    shoko: bool = True
    sonarr_api: bool = True


def duration_words(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3 h 5 min``, ``2 days``."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


class ArrQueueRecord(typing.Protocol):
    """What the reconciler last read of one download in Sonarr's or Radarr's queue."""

    @property
    def service(self) -> str: ...
    @property
    def download_id(self) -> str: ...
    @property
    def tracked_state(self) -> str | None: ...
    @property
    def reason(self) -> str | None: ...


def arr_reasons(records: Iterable[ArrQueueRecord]) -> dict[str, str]:
    """The *arrs' words for the downloads whose import they hold back, by download id
    (lower-case): ``Sonarr: import blocked: …``. A download they report no problem with, or no
    longer list, has none."""
    return {
        record.download_id.lower(): f"{record.service.capitalize()}: {record.reason}"
        for record in records
        if record.tracked_state in ARR_HOLDING_STATES and record.reason
    }


def _never_reported(row: DownloadRow) -> bool:
    return row.client_state is None and row.progress == 0 and row.state in ("queued", "missing")


def removed_after_finishing(row: DownloadRow | None) -> bool:
    """The download client removed the torrent once it had finished (100 %)."""
    return row is not None and row.state == "missing" and row.progress >= 100


def download_reason(
    row: DownloadRow,
    *,
    now: float,
    client: str | None = "qBittorrent",
    arr: str | None = None,
) -> str | None:
    """Why a download is not moving, or None while it moves (or is done). ``arr``: what the
    *arr says while it holds the download's import back, which comes first. ``client``: the
    download client's name, None when none is configured."""
    if arr is not None:
        return arr
    if client is None:
        if row.client_state is None:
            return "nothing is known of it: no download client is configured"
        client = "qBittorrent"
    if _never_reported(row):
        if row.state == "missing":
            return f"{client} does not have this torrent"
        return f"not reported by {client} yet"
    if removed_after_finishing(row):
        return f"removed from {client} after it finished"
    match row.state:
        case "stalled":
            waited = duration_words(now - (row.stalled_since or row.last_change_at))
            if not row.seeds:
                return f"no seeds for {waited}"
            return f"stalled for {waited}: {row.seeds} seeds connected, nothing arriving"
        case "queued":
            return f"queued in {client}"
        case "paused":
            return f"paused in {client}"
        case "missing":
            return f"gone from {client}"
        case "error":
            return f"{client} reports an error ({row.client_state or 'unknown'})"
    return None


def _waiting_for(service: str) -> str:
    return f"waiting for {service} — {service} {NOT_CONFIGURED}"


def item_reason(
    *,
    state: str,
    last_change_at: float,
    media_type: str,
    download: DownloadRow | None,
    shoko_matched: bool,
    setup: Setup,
    now: float,
    arr: str | None = None,
) -> str | None:
    """Why one movie or one episode waits in ``state``, or None when nothing holds it up.

    ``arr``: what the *arr says of its download while it holds the import back; it is the
    reason of an item not imported yet (an item already imported waits on something else).
    """
    if arr is not None and state in _BEFORE_IMPORT:
        return arr
    waited = now - last_change_at
    stuck = waited >= setup.stuck_after
    since = duration_words(waited)
    arr = "Radarr" if media_type == "movie" else "Sonarr"
    client = setup.download_client
    match state:
        case "pending" | "approved":
            return f"{arr} has not grabbed a release for {since}" if stuck else None
        case "requested":
            return "waiting for approval in Jellyseerr"
        case "grabbing" | "downloading":
            if client is None:
                return _waiting_for("qBittorrent")
            unreported = download is None or (
                download.state == "queued" and _never_reported(download)
            )
            if download is not None and not unreported and download.progress < 100:
                said = download_reason(download, now=now, client=client)
                if said:
                    return said
            if not stuck:
                return None
            if download is None or download.state == "queued":
                return f"{client} has not reported the torrent for {since}"
            return f"no progress for {since}"
        case "downloaded":
            if not stuck:
                return None
            if removed_after_finishing(download):
                removed = f"removed from {client or 'qBittorrent'} after it finished"
                return f"{arr} has not imported it for {since}; the torrent was {removed}"
            return f"{arr} has not imported it for {since}"
        case "anime_matching" if not shoko_matched:
            if not setup.shoko:
                return _waiting_for("Shoko")
            return f"Shoko has not matched it for {since}" if stuck else None
        case "importing" | "anime_matching":
            if not setup.jellyfin:
                return _waiting_for("Jellyfin")
            return f"Jellyfin has not listed it for {since}" if stuck else None
    return None


def episode_reason(
    episode: EpisodeRow,
    request: RequestRow,
    downloads: Mapping[str, DownloadRow],
    setup: Setup,
    *,
    now: float,
    arr_reasons: Mapping[str, str] = NO_ARR_REASONS,
) -> str | None:
    """Why one episode waits, or None. ``arr_reasons``: see ``arr_reasons()``."""
    return item_reason(
        state=episode.state,
        last_change_at=episode.last_change_at,
        media_type="tv",
        download=downloads.get(episode.torrent_hash or ""),
        shoko_matched=episode.shoko_file_id is not None,
        setup=setup,
        now=now,
        arr=arr_reasons.get(episode.torrent_hash or ""),
    )


def request_reason(
    request: RequestRow,
    episodes: Sequence[EpisodeRow],
    downloads: Mapping[str, DownloadRow],
    setup: Setup,
    *,
    now: float,
    arr_reasons: Mapping[str, str] = NO_ARR_REASONS,
) -> str | None:
    """Why a request waits: its own reason (a movie), or what holds back its least advanced
    episodes (TV), with how many episodes it holds back. ``arr_reasons``: see ``arr_reasons()``.
    """
    if request.state in ("available", "failed", "deleted"):
        return None
    live = [e for e in episodes if e.state != "deleted"]
    if request.media_type == "movie" or not live:
        return item_reason(
            state=request.state,
            last_change_at=request.last_change_at,
            media_type=request.media_type,
            download=downloads.get(request.download_hash or ""),
            shoko_matched=request.shoko_file_id is not None,
            setup=setup,
            now=now,
            arr=arr_reasons.get(request.download_hash or ""),
        )
    if request.state == "partially_available":
        return _partly_available(request, live, setup)
    reasons = [
        reason
        for episode in _least_advanced(live)
        if (
            reason := episode_reason(
                episode, request, downloads, setup, now=now, arr_reasons=arr_reasons
            )
        )
    ]
    if not reasons:
        return None
    reason, count = Counter(reasons).most_common(1)[0]
    if len(live) == 1:
        return reason
    return f"{reason} ({count} of {len(live)} episodes)"


def _least_advanced(episodes: Sequence[EpisodeRow]) -> list[EpisodeRow]:
    moving = [e for e in episodes if e.state in STATE_RANK and e.state != "available"]
    if not moving:
        return []
    least = min(STATE_RANK[e.state] for e in moving)
    return [e for e in moving if STATE_RANK[e.state] == least]


def _partly_available(request: RequestRow, episodes: Sequence[EpisodeRow], setup: Setup) -> str:
    available = sum(e.state == "available" for e in episodes)
    said = f"{available} of {len(episodes)} episodes available"
    unknown = sorted(set(request.requested_seasons) - set(request.known_seasons))
    if unknown:
        seasons = ", ".join(str(s) for s in unknown)
        plural = "s" if len(unknown) > 1 else ""
        how = "" if setup.sonarr_api else " (Sonarr's API is not configured)"
        return f"{said}; the episodes of season{plural} {seasons} are not known yet{how}"
    pending = sum(e.state == "pending" for e in episodes)
    return f"{said}; {pending} not grabbed yet" if pending else said


def problems(groups: Iterable[WaitingItems], setup: Setup, *, now: float) -> list[str]:
    """Sentences for /health: how many items are stuck, and what waits on a service that is not
    configured. Counts only: no titles (/health needs no secret)."""
    stuck = 0
    waiting_on: Counter[str] = Counter()
    for group in groups:
        changed_at = now - setup.stuck_after - 1.0 if group.stale else now
        reason = item_reason(
            state=group.state,
            last_change_at=changed_at,
            media_type=group.media_type,
            download=None,
            shoko_matched=group.shoko_matched,
            setup=setup,
            now=now,
        )
        if reason and NOT_CONFIGURED in reason:
            waiting_on[reason.split(" — ")[0].removeprefix("waiting for ")] += group.count
        elif group.stale and group.state in _MOVING:
            stuck += group.count
    sentences = []
    if stuck:
        items = "item is" if stuck == 1 else "items are"
        sentences.append(
            f"{stuck} {items} stuck: no change for {duration_words(setup.stuck_after)} or more"
        )
    for service, count in sorted(waiting_on.items()):
        items = "item waits" if count == 1 else "items wait"
        sentences.append(f"{count} {items} for {service}, which {NOT_CONFIGURED}")
    return sentences
