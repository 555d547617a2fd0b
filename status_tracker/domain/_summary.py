"""What a request's list item shows of its episodes: a summary, so a finished request's item
needs no episode rows (the store counts them)."""

from __future__ import annotations

import typing
from collections import Counter
from collections.abc import Sequence

import attrs

from ._records import EpisodeRow


@typing.final
@attrs.frozen(kw_only=True)
class EpisodeSummary:
    """How many of a request's episodes are in each state (by state name), the Jellyfin id of
    the first episode Jellyfin lists (by season and episode; never a deleted one), and whether
    any episode is in a torrent."""

    counts: tuple[tuple[str, int], ...] = ()
    first_listed: str | None = None
    in_torrent: bool = False


NO_EPISODES = EpisodeSummary()


def summarize(episodes: Sequence[EpisodeRow]) -> EpisodeSummary:
    """The summary of ``episodes`` (a request's)."""
    listed = [e for e in episodes if e.jellyfin_id and e.state != "deleted"]
    first = min(listed, key=lambda e: e.key, default=None)
    return EpisodeSummary(
        counts=tuple(sorted(Counter(e.state for e in episodes).items())),
        first_listed=first.jellyfin_id if first is not None else None,
        in_torrent=any(e.torrent_hash for e in episodes),
    )
