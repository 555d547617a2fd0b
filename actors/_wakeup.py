"""A wake-up call between actors: one side rings, a periodic loop looks at once instead of later."""

from __future__ import annotations

import typing

import trio


@typing.final
class Wakeup:
    """Ends a loop's current wait early; a ring while the loop is busy ends its next wait."""

    def __init__(self) -> None:
        self._event = trio.Event()

    def ring(self, _reason: object = None) -> None:
        """Wake the loop (``_reason``, e.g. a torrent hash, lets it serve as any callback)."""
        self._event.set()

    def rearm(self) -> None:
        """Forget earlier rings: the loop is about to look anyway."""
        if self._event.is_set():
            self._event = trio.Event()

    async def wait(self, seconds: float) -> None:
        """Return after ``seconds``, or as soon as someone rings."""
        with trio.move_on_after(seconds):
            await self._event.wait()
