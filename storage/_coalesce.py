"""Look-ups of one key each, asked for at once by many tasks, read together in one statement.

A wave of the dispatcher starts an actor per download it names, each reading its own row: on
PostgreSQL every read is a round trip (and two hand-offs to the driver's thread), 600 of them
for a burst's 600 downloads. Read together, the keys asked for within one turn of the
scheduler take one.
"""

from __future__ import annotations

import typing
from collections.abc import Awaitable, Callable, Collection, Mapping

import trio

K = typing.TypeVar("K")
V = typing.TypeVar("V")


@typing.final
class _Batch(typing.Generic[K, V]):
    def __init__(self) -> None:
        self.keys: dict[K, None] = {}
        self.found: Mapping[K, V] | None = None
        self.done = trio.Event()


@typing.final
class Coalesced(typing.Generic[K, V]):
    """``get(key)``: what ``read`` finds for ``key`` (None: nothing), read with every other key
    asked for until the first asker's next turn of the scheduler.

    The first asker reads for all of them. Should its read fail, or the first asker be
    cancelled, each of the others reads its own key alone: a failure is raised to each asker
    by its own read, and no one waits on a read that is not happening.
    """

    def __init__(self, read: Callable[[Collection[K]], Awaitable[Mapping[K, V]]]) -> None:
        self._read = read
        self._gathering: _Batch[K, V] | None = None

    async def get(self, key: K) -> V | None:
        """What ``read`` finds for ``key``, read together with the keys asked for meanwhile;
        alone if the read for all of them fails or its asker is cancelled (no new asker is
        chosen: each reads its own)."""
        batch = self._gathering
        if batch is not None:
            batch.keys[key] = None
            await batch.done.wait()
            if batch.found is None:
                return (await self._read([key])).get(key)
            return batch.found.get(key)
        batch = self._gathering = _Batch()
        batch.keys[key] = None
        try:
            await trio.lowlevel.checkpoint()  # the tasks woken with this one ask meanwhile
            self._gathering = None
            batch.found = await self._read(list(batch.keys))
        finally:
            if self._gathering is batch:
                self._gathering = None
            batch.done.set()
        return batch.found.get(key)
