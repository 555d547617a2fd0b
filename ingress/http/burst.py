"""Whether webhooks are arriving in a burst: the work that can wait yields to them meanwhile."""

from __future__ import annotations

import collections
import contextlib
import typing
from collections.abc import Iterator

import trio

BURST_COUNT = 32
BURST_WINDOW_S = 0.5
BURST_QUIET_S = 0.1
"""A burst is over once no webhook has been stored for this long and none is being stored.
Within a burst they come milliseconds apart; waiting out the whole window after the last one
left the backlog waiting 0.4 s more than it had to (a 2,400-webhook burst then drains in ~1 s)."""


@typing.final
class WebhookBurst:
    """Called, tells whether the last ``count`` webhooks were stored within ``window_s``.

    Real senders (Sonarr, Radarr, Jellyseerr and Jellyfin, each sending one webhook at a time)
    never make one; a flood, or a sender replaying its backlog, does. It ends ``quiet_s``
    after the last webhook was stored, unless one is being stored (a slow commit, which the
    senders wait for, is no pause); a pause in a flood ends it too: what waits is applied
    meanwhile.
    """

    def __init__(
        self,
        *,
        count: int = BURST_COUNT,
        window_s: float = BURST_WINDOW_S,
        quiet_s: float = BURST_QUIET_S,
    ) -> None:
        self._stored: collections.deque[float] = collections.deque(maxlen=count)
        self._window_s = window_s
        self._quiet_s = quiet_s
        self._storing = 0

    @contextlib.contextmanager
    def storing(self) -> Iterator[None]:
        """A webhook is being stored meanwhile."""
        self._storing += 1
        try:
            yield
        finally:
            self._storing -= 1

    def stored(self) -> None:
        """A webhook was stored."""
        self._stored.append(trio.current_time())

    def __call__(self) -> bool:
        stored = self._stored
        now = trio.current_time()
        return (
            len(stored) == stored.maxlen
            and now - stored[0] <= self._window_s
            and (self._storing > 0 or now - stored[-1] <= self._quiet_s)
        )
