"""The reconciler's other decisions: reasons from the *arr queue, stalled downloads, library
nudges, and the history cursor. Pure: no I/O, no Trio; table- and property-tested.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable, Mapping, Sequence

import attrs

from status_tracker.domain import STATE_RANK

StalledAction = typing.Literal["none", "notify", "research"]
FIRST_READ_LOOKBACK_S: typing.Final = 2 * 86400.0
"""How far back the first history read of a service goes, when no cursor is stored yet."""


class QueueItem(typing.Protocol):
    @property
    def id(self) -> int: ...
    @property
    def download_id(self) -> str | None: ...
    @property
    def title(self) -> str | None: ...
    @property
    def item_id(self) -> int | None: ...
    @property
    def status(self) -> str | None: ...
    @property
    def tracked_state(self) -> str | None: ...
    @property
    def messages(self) -> tuple[str, ...]: ...
    @property
    def error_message(self) -> str | None: ...
    @property
    def size_left(self) -> float: ...


@typing.final
@attrs.frozen(kw_only=True)
class QueuedDownload:
    """One download of an *arr queue (a season pack's per-episode records folded into one)."""

    download_id: str
    title: str | None
    queue_ids: tuple[int, ...]
    item_ids: tuple[int, ...]
    tracked_state: str | None
    reason: str | None
    size_left: float
    stalled: bool


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def state_words(state: str) -> str:
    """An *arr state name as its UI says it: ``importBlocked`` → ``import blocked``."""
    return _CAMEL.sub(" ", state).lower()


def queue_reason(item: QueueItem) -> str | None:
    """Why a download waits, in the *arr's own words: its state unless plain downloading, its
    status messages, the download client's message. None when nothing is wrong."""
    parts: list[str] = []
    if item.tracked_state and item.tracked_state != "downloading":
        parts.append(state_words(item.tracked_state))
    parts.extend(item.messages)
    if item.error_message:
        parts.append(item.error_message)
    if not parts:
        return None
    head, *rest = parts
    return f"{head}: {'; '.join(rest)}" if rest else head


def is_stalled(item: QueueItem) -> bool:
    """The download client reports no connections (qBittorrent's stalledDL in the *arr's words)."""
    message = (item.error_message or "").lower()
    return "stalled" in message or (item.status or "").lower() == "stalled"


def group_queue(items: Iterable[QueueItem]) -> dict[str, QueuedDownload]:
    """The queue's downloads by lower-cased download id; pending (delayed) items have none."""
    grouped: dict[str, list[QueueItem]] = {}
    for item in items:
        if item.download_id:
            grouped.setdefault(item.download_id.lower(), []).append(item)
    downloads = {}
    for download_id, records in sorted(grouped.items()):
        first = records[0]
        downloads[download_id] = QueuedDownload(
            download_id=download_id,
            title=first.title,
            queue_ids=tuple(sorted({r.id for r in records})),
            item_ids=tuple(sorted({r.item_id for r in records if r.item_id is not None})),
            tracked_state=first.tracked_state,
            reason=queue_reason(first),
            size_left=min(r.size_left for r in records),
            stalled=any(is_stalled(r) for r in records),
        )
    return downloads


def progress_since(
    previous_size_left: float | None,
    previous_progress_at: float | None,
    size_left: float,
    now: float,
) -> float:
    """When a download last made progress: now when first seen or when fewer bytes are left."""
    if previous_size_left is None or previous_progress_at is None:
        return now
    if size_left < previous_size_left:
        return now
    return previous_progress_at


# -- stalled downloads ------------------------------------------------------------------------


@typing.final
@attrs.frozen(kw_only=True)
class StallVerdict:
    """What to do about one download: ``none``, ``notify`` (record it), ``research`` (remove,
    blocklist, search again) or ``spare`` (stalled, but another request is happy with it)."""

    action: typing.Literal["none", "notify", "research", "spare"]
    reason: str | None = None


def _minutes(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"


def judge_stall(
    download: QueuedDownload,
    *,
    progress_at: float,
    acted_at: float | None,
    now: float,
    policy: StalledAction,
    after_s: float,
    happy_elsewhere: str | None = None,
) -> StallVerdict:
    """Decide about a download that may be stalled.

    Stalled: still downloading, bytes left, the client reports no connections, and no progress
    for ``after_s``. Acts at most once per download per ``after_s``; never while another
    request is happy with the download (``happy_elsewhere`` says which and why).
    """
    if policy == "none":
        return StallVerdict(action="none")
    if download.tracked_state not in (None, "downloading") or download.size_left <= 0:
        return StallVerdict(action="none")
    idle = now - progress_at
    if not download.stalled or idle < after_s:
        return StallVerdict(action="none")
    if acted_at is not None and now - acted_at < after_s:
        return StallVerdict(action="none")
    reason = f"no progress for {_minutes(idle)} and no connections"
    if download.reason:
        reason = f"{reason} ({download.reason})"
    if happy_elsewhere:
        return StallVerdict(action="spare", reason=f"{reason}; kept: {happy_elsewhere}")
    return StallVerdict(action=policy, reason=reason)


_DONE_WITH_DOWNLOAD = STATE_RANK.get("downloaded", 0)


def happy_with(download_states: Mapping[int, Sequence[str]]) -> str | None:
    """Which request is happy with a download, if any: one whose items on it are all done
    downloading (its own files are complete), so removing the download would take them away.

    ``download_states``: per request id, the states of its items (episodes, or the movie) that
    the download holds.
    """
    for request_id, states in sorted(download_states.items()):
        ranked = [STATE_RANK.get(state) for state in states if state not in ("deleted", "failed")]
        if ranked and all(rank is not None and rank >= _DONE_WITH_DOWNLOAD for rank in ranked):
            return f"request {request_id} already has its files from this download"
    return None


# -- library nudges ---------------------------------------------------------------------------


@typing.final
@attrs.frozen(kw_only=True)
class Waiting:
    """A request imported but not yet seen in Jellyfin, waiting since ``since``."""

    request_id: int
    since: float
    jellyfin_id: str | None = None


@typing.final
@attrs.frozen(kw_only=True)
class Nudge:
    """Ask Jellyfin to refresh ``item_id`` (its parent folder), or the whole library (None)."""

    request_id: int
    since: float
    item_id: str | None


def nudges_due(
    waiting: Iterable[Waiting],
    done: set[tuple[int, float]],
    *,
    now: float,
    after_s: float,
    library_refreshed_at: float | None,
) -> list[Nudge]:
    """One refresh per waiting stay, once it has waited ``after_s``.

    An item Jellyfin knows (a series, a parent folder) gets its own refresh; the others share
    one whole-library refresh, at most once per ``after_s`` (a scan restarts a running one).
    """
    due = [
        item
        for item in waiting
        if now - item.since >= after_s and (item.request_id, item.since) not in done
    ]
    nudges = [Nudge(request_id=w.request_id, since=w.since, item_id=w.jellyfin_id) for w in due]
    by_item = [nudge for nudge in nudges if nudge.item_id]
    library = [nudge for nudge in nudges if not nudge.item_id]
    library_allowed = library_refreshed_at is None or now - library_refreshed_at >= after_s
    return by_item + (library if library_allowed else [])


# -- the history cursor -----------------------------------------------------------------------


@typing.final
@attrs.frozen(kw_only=True)
class Cursor:
    """The newest history row already read: its id (rows only grow) and date (to ask since)."""

    id: int
    date: float


class Dated(typing.Protocol):
    @property
    def id(self) -> int: ...
    @property
    def date(self) -> float: ...


def unread(records: Iterable[Dated], cursor: Cursor | None, now: float) -> list[Dated]:
    """The rows after the cursor (``history/since`` answers rows at the cursor's date again).

    Ids grow with time, so when no row has a later id than the cursor's but some are dated
    after it (and not after ``now``), the cursor's id is not one the service gave in order (a
    reply once named an id far ahead): those rows are the unread ones, and `advance` takes the
    cursor back to them instead of skipping every later row for good.
    """
    if cursor is None:
        return list(records)
    later = [record for record in records if record.id > cursor.id]
    if later:
        return later
    return [
        record for record in records if record.id < cursor.id and cursor.date < record.date <= now
    ]


def advance(cursor: Cursor | None, records: Iterable[Dated], now: float) -> Cursor | None:
    """The cursor after reading the unread ``records``: the newest row by id (the cursor itself
    when there is none), dated no later than ``now``: a row dated in the future (a wrong clock,
    a lying reply) must not make the next read ask for rows since a time that has not come,
    which would skip every row until then."""
    newest = max(records, key=lambda record: record.id, default=cursor)
    if newest is None:
        return None
    return Cursor(id=newest.id, date=min(newest.date, now))


def read_from(cursor: Cursor | None, now: float) -> float:
    """The date to ask history since: the cursor's (never after ``now``), or a short look back
    on the first read."""
    return min(cursor.date, now) if cursor is not None else now - FIRST_READ_LOOKBACK_S
