"""The state order of requests and episodes, and which moves between states are allowed."""

from __future__ import annotations

import enum
import typing
from collections.abc import Iterable

import attrs

from status_tracker.domain import KNOWN_STATES, STATE_RANK, TERMINAL_STATES


class Verdict(enum.Enum):
    APPLY = "apply"
    SAME = "same"
    REFUSE = "refuse"


@typing.final
@attrs.frozen
class Judgement:
    verdict: Verdict
    reason: str | None = None


GRABBED_AGAIN = "grabbed again after its file was deleted"
"""The reason a deleted item that lost only its file moves back to ``grabbing``."""


def judge(
    current: str,
    target: str,
    *,
    backward_reason: str | None = None,
    lost_only_its_file: bool = False,
) -> Judgement:
    """Decide whether an item may move from ``current`` to ``target``.

    Forward jumps are allowed. A backward move is allowed only with a real reason
    (``backward_reason``, e.g. a new release grabbed after a failed one); otherwise it is
    refused with an explanation. A deleted item moves nowhere, whatever the reason, with one
    exception: one that lost only its file (``lost_only_its_file``: Sonarr deleted an episode's
    file, the episode itself was not deleted) may be grabbed again, back to ``grabbing``, with
    ``GRABBED_AGAIN`` as the reason. Unknown states are always refused.
    """
    if current not in KNOWN_STATES or target not in KNOWN_STATES:
        unknown = current if current not in KNOWN_STATES else target
        return Judgement(Verdict.REFUSE, f"unknown state {unknown!r}")
    if current == target:
        return Judgement(Verdict.SAME)
    if current == "deleted":
        if lost_only_its_file and target == "grabbing":
            return Judgement(Verdict.APPLY, GRABBED_AGAIN)
        return Judgement(Verdict.REFUSE, f"item was deleted; {target} ignored")
    if target in TERMINAL_STATES or current == "failed":
        return Judgement(Verdict.APPLY)
    if STATE_RANK[target] > STATE_RANK[current]:
        return Judgement(Verdict.APPLY)
    if backward_reason:
        return Judgement(Verdict.APPLY, backward_reason)
    return Judgement(Verdict.REFUSE, f"backward move {current} -> {target} without a reason")


def is_past(current: str, target: str) -> bool:
    """True when ``current`` is already at or beyond ``target`` (observations never go back)."""
    if current in TERMINAL_STATES:
        return True
    return STATE_RANK.get(current, -1) >= STATE_RANK.get(target, -1)


def derive_request_state(
    episode_states: Iterable[str], own_state: str, *, seasons_unknown: bool = False
) -> str:
    """A TV request's state from its episodes.

    All available → available, or ``partially_available`` while ``seasons_unknown`` (a
    requested season whose episode list is not known whole); some available and the rest only
    pending (not grabbed) → ``partially_available``; otherwise the least advanced episode still
    in progress, pending ones counting as the request's own pre-grab state; only failed and
    available left → failed; every episode deleted → deleted; with no episodes the request
    keeps its own. A failed request (declined or failed in Jellyseerr before anything was
    grabbed) whose episodes are all still pending stays failed: nothing of it is under way.
    An episode that lost only its file (Sonarr deleted it; the episode is still wanted) is
    passed as ``pending`` by the caller: it waits to be grabbed again, so the request is
    ``approved`` or ``partially_available`` (active), not deleted.
    """
    every = list(episode_states)
    states = [s for s in every if s != "deleted"]
    if not states:
        return "deleted" if every else own_state
    if all(s == "available" for s in states):
        return "partially_available" if seasons_unknown else "available"
    in_progress = [s for s in states if s not in ("available", "failed")]
    if not in_progress:
        return "failed"
    if "available" in states and all(s == "pending" for s in in_progress):
        return "partially_available"
    least = min(in_progress, key=lambda s: STATE_RANK[s])
    if least == "pending":
        if own_state == "failed" and all(s == "pending" for s in in_progress):
            return "failed"
        return own_state if own_state in ("requested", "approved") else "approved"
    return least


def episode_download_target(
    *, torrent_state: str, torrent_progress: float, own_progress: float | None, own_complete: bool
) -> str | None:
    """Where an episode of a torrent stands by what the torrent reports, or None (no news).

    Its own file complete, or the whole torrent complete → ``downloaded``. The torrent started
    (downloading, stalled, queued or paused after some progress, or its own file started) →
    ``downloading``, even at 0 % for its own file: it sits in a download that is running.
    ``own_progress`` is None when the file holding the episode is not known.
    """
    complete = torrent_progress >= 100.0 or torrent_state in ("completed", "seeding")
    if own_complete or complete:
        return "downloaded"
    if torrent_state in ("missing", "error"):
        return None
    started = torrent_progress > 0 or torrent_state == "downloading"
    if started or (own_progress is not None and own_progress > 0):
        return "downloading"
    return None
