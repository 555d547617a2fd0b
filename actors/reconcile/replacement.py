"""After recovery blocklisted a stalled download: wait for the *arr's replacement grab and, when
none follows, ask for one search. Pure: no I/O, no Trio; table- and property-tested.

Removing a download with ``blocklist=true`` makes Sonarr/Radarr search again only while its
"Redownload failed" setting is on, and a search may find nothing. So each removal is followed
(``ReplacementWait``): a grab of its items under another download (seen in the queue, or read
from history) settles it; if some item is still without one ``wait_s`` after the removal, one
search asks for those items, unless recovery already asked for them within ``period_s``.
"""

from __future__ import annotations

import typing
from collections.abc import Collection, Iterable, Mapping, Sequence

import attrs

from status_tracker.domain import ReplacementWait

from ..recovery.reasons import duration_words


class HistoryRow(typing.Protocol):
    @property
    def event_type(self) -> str: ...
    @property
    def download_id(self) -> str | None: ...
    @property
    def item_id(self) -> int | None: ...


def grabs(records: Iterable[HistoryRow]) -> list[tuple[str, int]]:
    """(download id in lower case, item id) of each grab in history rows."""
    return [
        (record.download_id.lower(), record.item_id)
        for record in records
        if record.event_type == "grabbed" and record.download_id and record.item_id is not None
    ]


def search_detail(wait: ReplacementWait, *, now: float) -> str:
    """The timeline's words for a search recovery asks for."""
    count = len(wait.searched_ids)
    if wait.service == "sonarr":
        what = f"{count} episode{'s' if count != 1 else ''}"
    else:
        what = f"{count} movie{'s' if count != 1 else ''}"
    return (
        f"{wait.title or wait.download_id}: no replacement grabbed "
        f"{duration_words(now - wait.removed_at)} after it was blocklisted; "
        f"asked {wait.service.capitalize()} to search again for {what}"
    )


def last_searches(waits: Iterable[ReplacementWait]) -> dict[int, float]:
    """When recovery last asked for a search of each item."""
    searched: dict[int, float] = {}
    for wait in waits:
        if wait.outcome == "searched" and wait.settled_at is not None:
            for item in wait.searched_ids:
                searched[item] = max(searched.get(item, wait.settled_at), wait.settled_at)
    return searched


def follow(
    waits: Sequence[ReplacementWait],
    *,
    queued: Mapping[str, Collection[int]],
    grabbed: Iterable[tuple[str, int]],
    now: float,
    wait_s: float,
    period_s: float,
) -> list[ReplacementWait]:
    """The waits that change this round, as they become.

    Args:
        waits: every stored wait of one service, open and settled (settled ones tell when
            each item was last searched).
        queued: the *arr's queue now: item ids by download id (lower case).
        grabbed: (download id, item id) of the grabs read from its history this round.
        now: the time of this round.
        wait_s: how long after a removal a replacement grab may take.
        period_s: at most one search per item within this long.

    Returns:
        Each open wait that learned of a grab or settled: ``replaced`` once every item is
        grabbed under another download; after ``wait_s``, ``searched`` with the items still
        without a grab that had no search within ``period_s``, or ``searched_recently`` when
        every one of them had.
    """
    searched = last_searches(waits)
    grab_list = list(grabbed)
    changed = []
    for wait in waits:
        if wait.outcome is not None:
            continue
        seen = {
            item
            for download_id, items in queued.items()
            if download_id != wait.download_id
            for item in items
        }
        seen.update(item for download_id, item in grab_list if download_id != wait.download_id)
        got = tuple(sorted((set(wait.grabbed_ids) | seen) & set(wait.item_ids)))
        after = attrs.evolve(wait, grabbed_ids=got)
        missing = sorted(set(wait.item_ids) - set(got))
        if not missing:
            after = attrs.evolve(after, outcome="replaced", settled_at=now)
        elif now - wait.removed_at >= wait_s:
            due = tuple(
                item for item in missing if item not in searched or now - searched[item] >= period_s
            )
            if due:
                after = attrs.evolve(after, outcome="searched", searched_ids=due, settled_at=now)
                searched.update(dict.fromkeys(due, now))
            else:
                after = attrs.evolve(after, outcome="searched_recently", settled_at=now)
        if after != wait:
            changed.append(after)
    return changed
