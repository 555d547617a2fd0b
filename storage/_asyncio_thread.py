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

import outcome
import trio

P = ParamSpec("P")
T = TypeVar("T")


@typing.final
class AsyncioThread:
    """A running asyncio loop on a daemon thread; ``call`` runs a coroutine function there."""

    def __init__(self, name: str) -> None:
        # Made directly, not through asyncio's policy: trio-asyncio, once imported (the tests
        # import it for their own connections), replaces the policy with one that refuses a new
        # loop from Trio's thread.
        self._loop = asyncio.SelectorEventLoop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            self._loop.run_forever()
        finally:
            # Whatever is still running is cancelled and run to its end: a caller waiting on
            # it is told, not left waiting for a loop that is gone.
            left = asyncio.all_tasks(self._loop)
            for task in left:
                task.cancel()
            if left:
                self._loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
            self._loop.close()

    async def call(
        self, function: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``await function(*args, **kwargs)`` on the loop's thread; its result or error.

        Cancelled here, the coroutine is cancelled there and awaited to its end (a transaction
        rolled back, a connection back in its pool) before the cancellation goes on: nothing of
        it runs on after its caller has left. Had it already finished, its result is returned
        (a pool it opened is not lost) and the cancellation comes at the caller's next
        checkpoint, as Trio's own operations that cannot be aborted do.

        Raises:
            RuntimeError: the loop is closed, or closed while the call ran.
        """
        token = trio.lowlevel.current_trio_token()
        caller = trio.lowlevel.current_task()
        running: list[asyncio.Task[T]] = []

        def wake(task: asyncio.Task[T]) -> None:
            with contextlib.suppress(trio.RunFinishedError):  # Trio is gone: no one waits
                token.run_sync_soon(trio.lowlevel.reschedule, caller, _outcome_of(task))

        def start() -> None:
            task = self._loop.create_task(_called(function, args, kwargs))
            task.add_done_callback(wake)
            running.append(task)

        def cancel() -> None:
            running[0].cancel()

        def abort(_: object) -> trio.lowlevel.Abort:
            with contextlib.suppress(RuntimeError):  # closed: its tasks were cancelled
                self._loop.call_soon_threadsafe(cancel)
            return trio.lowlevel.Abort.FAILED

        # Handed over in order: ``cancel`` always finds the task ``start`` made.
        self._loop.call_soon_threadsafe(start)
        got = await trio.lowlevel.wait_task_rescheduled(abort)
        if got is _CANCELLED:
            await trio.lowlevel.checkpoint()  # raises Cancelled if this side cancelled it
            raise RuntimeError("the asyncio loop closed while the call ran")
        return typing.cast(T, got)

    async def aclose(self) -> None:
        """Stop the loop (its coroutines should be done) and wait for its thread to end."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            await trio.to_thread.run_sync(self._thread.join)


_CANCELLED = object()
"""What a call's coroutine gave when it was cancelled rather than finished."""


def _outcome_of(task: asyncio.Task[T]) -> outcome.Outcome[object]:
    """A finished task's outcome, for Trio (its error retrieved, so asyncio logs none)."""
    if task.cancelled():
        return outcome.Value(_CANCELLED)
    error = task.exception()
    return outcome.Error(error) if error is not None else outcome.Value(task.result())


async def _called(function: Callable[..., Awaitable[T]], args: Any, kwargs: Any) -> T:
    return await function(*args, **kwargs)
