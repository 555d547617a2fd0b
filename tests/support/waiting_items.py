"""What /health counts, from whole rows: the definition ``Store.waiting_items`` is held to,
and how the reason tests make the groups ``reasons.problems`` reads."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from status_tracker.domain import EpisodeRow, RequestRow, WaitingItems


def waiting_items(
    requests: Iterable[RequestRow],
    episodes: Mapping[int, Sequence[EpisodeRow]],
    *,
    stale_before: float,
) -> list[WaitingItems]:
    """The items of active ``requests`` (a series' episodes that are not deleted, else the
    request itself), counted alike; ``stale``: last changed at or before ``stale_before``."""
    counted: Counter[tuple[str, str, bool, bool]] = Counter()
    for request in requests:
        own = [e for e in episodes.get(request.id, ()) if e.state != "deleted"]
        items = own if request.media_type == "tv" and own else [request]
        for item in items:
            stale = item.last_change_at <= stale_before
            matched = item.shoko_file_id is not None
            counted[(request.media_type, item.state, matched, stale)] += 1
    return [
        WaitingItems(media_type=m, state=s, shoko_matched=k, stale=t, count=n)
        for (m, s, k, t), n in sorted(counted.items())
    ]
