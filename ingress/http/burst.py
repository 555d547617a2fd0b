"""Whether webhooks are arriving in a burst: the work that can wait yields to them meanwhile."""

from __future__ import annotations

import collections
import typing

import trio

BURST_COUNT = 32
BURST_WINDOW_S = 0.5


@typing.final
class WebhookBurst:
    """Called, tells whether the last ``count`` webhooks were stored within ``window_s``.

    Real senders (Sonarr, Radarr, Jellyseerr and Jellyfin, each sending one webhook at a time)
    never make one; a flood, or a sender replaying its backlog, does. It ends at most
    ``window_s`` after the webhooks stop.
    """

    def __init__(self, *, count: int = BURST_COUNT, window_s: float = BURST_WINDOW_S) -> None:
        self._stored: collections.deque[float] = collections.deque(maxlen=count)
        self._window_s = window_s

    def stored(self) -> None:
        """A webhook was stored."""
        self._stored.append(trio.current_time())

    def __call__(self) -> bool:
        stored = self._stored
        return len(stored) == stored.maxlen and trio.current_time() - stored[0] <= self._window_s
