"""The states of requests and episodes, and the order in which they advance."""

from __future__ import annotations

# The states of a request's lifecycle, in order, up to (not including) available; an
# episode is never ``partially_available``, only a request.
ACTIVE_STATES = (
    "requested",
    "approved",
    "grabbing",
    "downloading",
    "downloaded",
    "importing",
    "anime_matching",
    # Some requested episodes available, nothing in progress, the rest unknown or missing.
    "partially_available",
)
FINISHED_STATES = ("available", "failed", "deleted")

STATE_ORDER = (*ACTIVE_STATES, "available")
# How far along each state is; an episode known before its grab is ``pending``, before all.
STATE_RANK = {"pending": -1, **{state: rank for rank, state in enumerate(STATE_ORDER)}}
TERMINAL_STATES = tuple(state for state in FINISHED_STATES if state != "available")
KNOWN_STATES = (*STATE_RANK, *TERMINAL_STATES)
