"""Wall-clock time that follows Trio's clock, so virtual time in tests moves timestamps too."""

from __future__ import annotations

import time
import typing

import trio


@typing.final
class WallClock:
    """Seconds since the epoch, advanced by Trio's clock from the moment it was made."""

    def __init__(self, epoch: float | None = None) -> None:
        self._epoch = time.time() if epoch is None else epoch
        self._trio_start = trio.current_time()

    def now(self) -> float:
        return self._epoch + (trio.current_time() - self._trio_start)
