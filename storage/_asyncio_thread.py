"""An asyncio loop on a thread of its own, for asyncpg, and Trio awaiting coroutines on it.

asyncpg needs asyncio. Run under Trio's own thread (trio-asyncio), every callback, socket
read and future of asyncpg's took a turn of Trio's scheduler on the thread that also serves
HTTP: a fifth of that thread's time in an ingest burst on PostgreSQL. On a thread of its own,
asyncio runs on its own selector, and a call costs Trio two wake-ups: one to hand it over, one
for its result.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import typing
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

import trio

P = ParamSpec("P")
T = TypeVar("T")


@typing.final
class AsyncioThread:
    """A running asyncio loop on a daemon thread; ``call`` runs a coroutine function there."""

    def __init__(self, name: str) -> None:
        # Made directly, not through asyncio's policy: trio-asyncio, once imported, replaces
        # the policy with one that refuses a new loop from Trio's thread.
        self._loop = asyncio.SelectorEventLoop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    async def call(
        self, function: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``await function(*args, **kwargs)`` on the loop's thread; its result or error.

        Cancelled here, the coroutine is cancelled there and awaited to its end (a transaction
        rolled back, a connection back in its pool) before the cancellation goes on: nothing of
        it runs on after its caller has left.
        """
        token = trio.lowlevel.current_trio_token()
        finished = trio.Event()
        running: list[asyncio.Task[T]] = []

        def wake(_: asyncio.Task[T]) -> None:
            with contextlib.suppress(trio.RunFinishedError):  # Trio is gone: no one waits
                token.run_sync_soon(finished.set)

        def start() -> None:
            task = self._loop.create_task(_called(function, args, kwargs))
            task.add_done_callback(wake)
            running.append(task)

        def cancel() -> None:
            running[0].cancel()

        # Handed over in order: ``cancel`` always finds the task ``start`` made.
        self._loop.call_soon_threadsafe(start)
        try:
            await finished.wait()
        except trio.Cancelled:
            self._loop.call_soon_threadsafe(cancel)
            with trio.CancelScope(shield=True):
                await finished.wait()
            raise
        return running[0].result()

    async def aclose(self) -> None:
        """Stop the loop (its coroutines should be done) and wait for its thread to end."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            await trio.to_thread.run_sync(self._thread.join)


async def _called(function: Callable[..., Awaitable[T]], args: Any, kwargs: Any) -> T:
    return await function(*args, **kwargs)
