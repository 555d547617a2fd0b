"""Reads run side by side, each failure raised as it is rather than in an exception group."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import trio


async def read_together(*reads: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Run the reads at once (a driver runs them side by side); their results in order.

    Once all have ended, the failure of the first read that failed is raised as it is (an
    outage stays a ``DatabaseUnavailable``, which the API answers with a 503).
    """
    results: list[Any] = [None] * len(reads)
    failures: list[tuple[int, Exception]] = []

    async def run(position: int, read: Callable[[], Awaitable[Any]]) -> None:
        try:
            results[position] = await read()
        except Exception as exc:
            failures.append((position, exc))

    async with trio.open_nursery() as nursery:
        for position, read in enumerate(reads[1:], start=1):
            nursery.start_soon(run, position, read)
        await run(0, reads[0])
    if failures:
        raise min(failures, key=lambda failure: failure[0])[1]
    return results
