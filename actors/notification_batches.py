"""Which queued notices go out now, together, and in which words: pure rules, no I/O.

Batching: notices of one request and one kind form one message. A group is sent once it has
been quiet for ``window`` seconds (no newer notice joined it), or once its oldest notice has
waited ``max_wait`` seconds, whichever comes first: a season pack whose 13 episodes become
available within moments is one message ("Horimiya S01: 13 episodes ready"), and a trickle of
episodes still gets told within ``max_wait``. A group that failed to go out waits for its
``next_attempt_at`` (exponential backoff) and keeps its members; notices that arrive meanwhile
form a group of their own, so no target ever gets the same notice twice from a retry.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Sequence

import attrs

from status_tracker.domain import Notice
from status_tracker.domain.links import jellyfin_details

from .notify import NotificationKind, NotificationRequested

BACKOFF_FIRST_S = 5.0
BACKOFF_MAX_S = 3600.0
GIVE_UP_AFTER_S = 3 * 24 * 3600.0
"""A notice that could not be delivered for three days is given up (and counted as failed)."""

MAX_REASONS = 3

_SINGULAR = {
    "available": "is ready",
    "failed": "failed",
    "stuck": "is stuck",
    "grabbed": "was grabbed",
    "downloaded": "is downloaded",
    "recovered": "recovered",
    "deleted": "was deleted",
}
_PLURAL = {
    "available": "ready",
    "failed": "failed",
    "stuck": "stuck",
    "grabbed": "grabbed",
    "downloaded": "downloaded",
    "recovered": "recovered",
    "deleted": "deleted",
}


@typing.final
@attrs.frozen(kw_only=True)
class Queued:
    """One outbox row: its notice and how delivering it went so far.

    ``delivered`` holds the fingerprints of the targets that already have it.
    """

    id: int
    notice: Notice
    created_at: float
    attempts: int = 0
    next_attempt_at: float | None = None
    delivered: frozenset[str] = frozenset()


@typing.final
@attrs.frozen(kw_only=True)
class Batch:
    """Outbox rows that go out as one message."""

    rows: tuple[Queued, ...]

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(row.id for row in self.rows)

    @property
    def first(self) -> Notice:
        return self.rows[0].notice

    @property
    def delivered(self) -> frozenset[str]:
        return self.rows[0].delivered

    @property
    def attempts(self) -> int:
        return max(row.attempts for row in self.rows)

    @property
    def created_at(self) -> float:
        return min(row.created_at for row in self.rows)


@typing.final
@attrs.frozen(kw_only=True)
class Plan:
    """What to send now, and when the next waiting group falls due (None: nothing waits)."""

    ready: tuple[Batch, ...]
    next_due: float | None


def group(queued: Iterable[Queued]) -> list[Batch]:
    """Rows of one request, kind and delivery history, in order of their first row."""
    groups: dict[tuple[int, str, frozenset[str]], list[Queued]] = {}
    for row in sorted(queued, key=lambda r: r.id):
        groups.setdefault((row.notice.request_id, row.notice.kind, row.delivered), []).append(row)
    return [Batch(rows=tuple(rows)) for rows in groups.values()]


def due_at(batch: Batch, *, window: float, max_wait: float) -> float:
    """When ``batch`` may go out: quiet for ``window``, or ``max_wait`` old, and not backing off."""
    newest = max(row.created_at for row in batch.rows)
    oldest = batch.created_at
    due = min(newest + window, oldest + max(max_wait, window))
    backoff = max((row.next_attempt_at or 0.0) for row in batch.rows)
    return max(due, backoff)


def plan(queued: Iterable[Queued], *, now: float, window: float, max_wait: float) -> Plan:
    """Split the outbox into the batches to send now and the time the next one is due."""
    ready: list[Batch] = []
    next_due: float | None = None
    for batch in group(queued):
        due = due_at(batch, window=window, max_wait=max_wait)
        if due <= now:
            ready.append(batch)
        else:
            next_due = due if next_due is None else min(next_due, due)
    return Plan(ready=tuple(ready), next_due=next_due)


def backoff(attempts: int, *, first: float = BACKOFF_FIRST_S, cap: float = BACKOFF_MAX_S) -> float:
    """Seconds to wait after the ``attempts``-th failed try: first, then doubling, up to cap."""
    return float(min(cap, first * 2 ** max(0, attempts - 1)))


def expired(batch: Batch, *, now: float, give_up_after: float = GIVE_UP_AFTER_S) -> bool:
    return now - batch.created_at >= give_up_after


def compose(
    batch: Batch, *, dashboard_url: str | None = None, jellyfin_url: str | None = None
) -> NotificationRequested:
    """The message for a batch: a title naming what happened, then reasons and links."""
    first = batch.first
    kind = typing.cast(NotificationKind, first.kind)
    notices = [row.notice for row in batch.rows]
    episodes = sorted(
        {(n.season, n.episode) for n in notices if n.season is not None and n.episode is not None}
    )
    name = first.title
    if first.media_type == "movie" and first.year:
        name = f"{name} ({first.year})"
    lines: list[str] = []
    if len(episodes) == 1:
        season, episode = episodes[0]
        title = f"{name} S{season:02d}E{episode:02d} {_SINGULAR[kind]}"
    elif episodes:
        seasons = sorted({season for season, _ in episodes})
        span = f"S{seasons[0]:02d}" + (f"-S{seasons[-1]:02d}" if len(seasons) > 1 else "")
        title = f"{name} {span}: {len(episodes)} episodes {_PLURAL[kind]}"
        lines.append(f"Episodes: {episode_ranges(episodes)}")
    else:
        title = f"{name} {_SINGULAR[kind]}"
    reasons = list(dict.fromkeys(n.detail for n in notices if n.detail))
    for reason in reasons[:MAX_REASONS]:
        lines.append(f"Reason: {reason}")
    if len(reasons) > MAX_REASONS:
        lines.append(f"… and {len(reasons) - MAX_REASONS} more reasons")
    requested_by = next((n.requested_by for n in notices if n.requested_by), None)
    if requested_by:
        lines.append(f"Requested by {requested_by}")
    link = f"{dashboard_url.rstrip('/')}/#open={first.request_id}" if dashboard_url else None
    if link:
        lines.append(f"Dashboard: {link}")
    jellyfin_id = next((n.jellyfin_id for n in notices if n.jellyfin_id), None)
    played = jellyfin_details(jellyfin_url, jellyfin_id) if jellyfin_id else None
    if played:
        lines.append(f"Jellyfin: {played}")
    body = "\n".join(lines) if lines else f"{title}."
    return NotificationRequested(kind=kind, title=title, body=body, link=link)


def episode_ranges(episodes: Sequence[tuple[int, int]]) -> str:
    """``S01E01-E13, S02E01`` for sorted (season, episode) pairs: runs of consecutive episodes."""
    parts: list[str] = []
    run: list[tuple[int, int]] = []

    def close() -> None:
        if not run:
            return
        (season, start), (_, end) = run[0], run[-1]
        parts.append(f"S{season:02d}E{start:02d}" + (f"-E{end:02d}" if end != start else ""))

    for season, episode in episodes:
        if run and run[-1][0] == season and run[-1][1] + 1 == episode:
            run.append((season, episode))
            continue
        close()
        run = [(season, episode)]
    close()
    return ", ".join(parts)
