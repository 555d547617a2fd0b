"""What people should be told about one commit of a request: a pure function of its decisions.

The RequestActor compares its state before and after a delivery (and reads the timeline entries
the delivery added); each notice it gets back becomes an outbox row in the same transaction, so
a notice exists exactly when the change it reports was committed. No I/O and no Trio here.

Vocabulary (the words of ``ST_NOTIFY_EVENTS``):

- ``grabbed``, ``downloaded``, ``available``, ``failed``, ``deleted``: the item reached the state
  ``grabbing``, ``downloaded``, ``available``, ``failed``, ``deleted``. A TV request gives one
  notice per episode that got there (the notifier batches them into one message); a movie, or a
  series whose episodes are not known, gives one for the request.
- ``stuck``: the recovery sweeper found the item waiting too long (its timeline entry's detail
  is the reason). Once per item per stall: the notice's dedupe key holds the time of the item's
  last change, so the sweeper noting the same stall again queues nothing new.
- ``recovered``: the recovery sweeper drove the item on (linked it again, found it in the
  library).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from status_tracker.domain import EpisodeRow, Notice, RequestRow, TimelineEntry

from .state import RequestState

NOTIFY_EVENTS = ("grabbed", "downloaded", "available", "failed", "stuck", "recovered", "deleted")
"""Every word ``ST_NOTIFY_EVENTS`` accepts."""

DEFAULT_NOTIFY_EVENTS = ("available", "failed", "stuck")

STATE_EVENTS = {
    "grabbing": "grabbed",
    "downloaded": "downloaded",
    "available": "available",
    "failed": "failed",
    "deleted": "deleted",
}
"""The state an item reaches → the event that reports it."""

STUCK_EVENTS = frozenset(
    {"stuck_download", "download_reread", "download_missing", "waiting_for_library"}
)
RECOVERED_EVENTS = frozenset({"relinked", "found_in_library"})
RECOVERY_SOURCE = "recovery"

EpisodeKey = tuple[int, int]


def parse_events(text: str) -> tuple[str, ...]:
    """Comma- or space-separated event names, in the order of ``NOTIFY_EVENTS``.

    Raises:
        ValueError: naming every unknown word.
    """
    words = [word.strip().lower() for word in text.replace(",", " ").split()]
    unknown = sorted({word for word in words if word not in NOTIFY_EVENTS})
    if unknown:
        raise ValueError(
            f"unknown event{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
            f"use any of {', '.join(NOTIFY_EVENTS)}"
        )
    return tuple(event for event in NOTIFY_EVENTS if event in words)


def notices_for(
    before: RequestState | None,
    after: RequestState | None,
    timeline: Sequence[TimelineEntry],
    *,
    events: Iterable[str],
) -> list[Notice]:
    """The notices one committed delivery gives, for the ``events`` people want to hear of.

    Args:
        before: the request before the delivery (None: it did not exist).
        after: the request after it (None: still does not exist).
        timeline: the entries the delivery added, oldest first.
        events: the wanted event names (``ST_NOTIFY_EVENTS``).
    """
    wanted = frozenset(events)
    if after is None or not wanted:
        return []
    request = after.request
    notices = [
        *_state_notices(before, after, timeline, wanted),
        *_recovery_notices(after, timeline, wanted),
    ]
    return [n for n in notices if n.kind in wanted and n.request_id == request.id]


def _state_notices(
    before: RequestState | None,
    after: RequestState,
    timeline: Sequence[TimelineEntry],
    wanted: frozenset[str],
) -> Iterable[Notice]:
    request = after.request
    per_episode: set[str] = set()
    if request.media_type != "movie":
        for key in sorted(after.episodes):
            episode = after.episodes[key]
            previous = before.episodes.get(key) if before is not None else None
            kind = STATE_EVENTS.get(episode.state)
            if kind is None or kind not in wanted:
                continue
            if previous is not None and previous.state == episode.state:
                continue
            per_episode.add(kind)
            yield _notice(
                request, kind, episode=episode, detail=_reason(timeline, episode.state, key)
            )
    kind = STATE_EVENTS.get(request.state)
    previous_state = before.request.state if before is not None else None
    if kind is None or kind in per_episode or previous_state == request.state:
        return
    yield _notice(request, kind, detail=_reason(timeline, request.state, None))


def _recovery_notices(
    after: RequestState, timeline: Sequence[TimelineEntry], wanted: frozenset[str]
) -> Iterable[Notice]:
    request = after.request
    for entry in timeline:
        if entry.source != RECOVERY_SOURCE:
            continue
        kind = (
            "stuck"
            if entry.event in STUCK_EVENTS
            else "recovered"
            if entry.event in RECOVERED_EVENTS
            else None
        )
        if kind is None or kind not in wanted:
            continue
        episode = None
        if entry.season is not None and entry.episode is not None:
            episode = after.episodes.get((entry.season, entry.episode))
            if episode is None:
                continue
        item: RequestRow | EpisodeRow = episode if episode is not None else request
        dedupe_key = (
            f"{kind}:{request.id}:{entry.season}:{entry.episode}:"
            f"{item.state}:{item.last_change_at!r}"
        )
        yield _notice(request, kind, episode=episode, detail=entry.detail, dedupe_key=dedupe_key)


def _reason(timeline: Sequence[TimelineEntry], state: str, key: EpisodeKey | None) -> str | None:
    """The detail of the newest entry that moved this item to ``state`` (failed: the reason)."""
    if state != "failed":
        return None
    for entry in reversed(timeline):
        same_item = key is None or (entry.season, entry.episode) in (key, (None, None))
        if entry.to_state == state and same_item and entry.detail:
            return entry.detail
    return None


def _notice(
    request: RequestRow,
    kind: str,
    *,
    episode: EpisodeRow | None = None,
    detail: str | None = None,
    dedupe_key: str | None = None,
) -> Notice:
    return Notice(
        request_id=request.id,
        kind=kind,
        media_type=request.media_type,
        title=request.title,
        year=request.year,
        season=episode.season if episode is not None else None,
        episode=episode.episode if episode is not None else None,
        detail=detail,
        requested_by=request.requested_by,
        jellyfin_id=(episode.jellyfin_id if episode is not None else None) or request.jellyfin_id,
        dedupe_key=dedupe_key,
    )
