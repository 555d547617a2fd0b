"""AsyncioThread: asyncio coroutines awaited from Trio, their results, errors and cancellation."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import asyncpg
import pytest
import trio
import trio_asyncio
from status_tracker.storage import AsyncioThread, DatabaseUnavailable, _postgres

from tests.support.service import wait_until

DEADLINE_S = 10.0


@pytest.fixture
async def asyncio_thread() -> AsyncIterator[AsyncioThread]:
    running = AsyncioThread("test-asyncio")
    yield running
    await running.aclose()


async def _where(delay_s: float) -> tuple[int, bool]:
    await asyncio.sleep(delay_s)
    return threading.get_ident(), asyncio.get_running_loop().is_running()


async def test_a_call_runs_on_the_loop_thread_and_gives_its_result(
    asyncio_thread: AsyncioThread,
) -> None:
    with trio.fail_after(DEADLINE_S):
        thread, running = await asyncio_thread.call(_where, delay_s=0.01)
    assert thread != threading.get_ident()
    assert running


async def test_calls_at_once_run_together(asyncio_thread: AsyncioThread) -> None:
    answers: list[int] = []
    running = [0]
    most_at_once = [0]

    async def one(number: int) -> None:
        async def echo() -> int:
            running[0] += 1
            most_at_once[0] = max(most_at_once[0], running[0])
            await asyncio.sleep(0.05)
            running[0] -= 1
            return number

        answers.append(await asyncio_thread.call(echo))

    with trio.fail_after(DEADLINE_S):
        async with trio.open_nursery() as nursery:
            for number in range(20):
                nursery.start_soon(one, number)
    assert sorted(answers) == list(range(20))
    assert most_at_once[0] > 1  # not one after another


async def test_an_error_there_is_raised_here(asyncio_thread: AsyncioThread) -> None:
    async def refuse() -> None:
        raise LookupError("no such row")

    with trio.fail_after(DEADLINE_S), pytest.raises(LookupError, match="no such row"):
        await asyncio_thread.call(refuse)


async def test_cancelled_here_the_coroutine_ends_there_before_the_caller_goes_on(
    asyncio_thread: AsyncioThread,
) -> None:
    began = threading.Event()
    steps: list[str] = []

    async def transaction() -> None:
        began.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            await asyncio.sleep(0.1)  # a rollback's round trip
            steps.append("rolled back")
            raise

    with trio.fail_after(DEADLINE_S):
        with trio.move_on_after(0.05) as scope:
            await asyncio_thread.call(transaction)
        steps.append("caller went on")
    assert scope.cancelled_caught
    assert began.is_set()
    assert steps == ["rolled back", "caller went on"]


async def test_a_result_reached_as_the_caller_is_cancelled_is_returned_then_cancelled(
    asyncio_thread: AsyncioThread,
) -> None:
    seen: list[str] = []

    async def finishing() -> str:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            return "a pool it opened"  # finished before the cancellation could stop it
        return "never"

    with trio.fail_after(DEADLINE_S):
        with trio.move_on_after(0.05) as scope:
            seen.append(await asyncio_thread.call(finishing))
            await trio.lowlevel.checkpoint()
            seen.append("went on")
    assert scope.cancelled_caught
    assert seen == ["a pool it opened"]


async def test_a_call_running_as_the_loop_closes_fails_clearly() -> None:
    asyncio_thread = AsyncioThread("test-asyncio-closed-under-a-call")
    began = threading.Event()

    async def long() -> None:
        began.set()
        await asyncio.sleep(60)

    failures: list[BaseException] = []

    async def caller() -> None:
        try:
            await asyncio_thread.call(long)
        except RuntimeError as exc:
            failures.append(exc)

    with trio.fail_after(DEADLINE_S):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(caller)
            await trio.to_thread.run_sync(began.wait)
            await asyncio_thread.aclose()
    assert [str(failure) for failure in failures] == ["the asyncio loop closed while the call ran"]


async def test_closing_ends_the_thread_and_later_calls_fail_clearly() -> None:
    asyncio_thread = AsyncioThread("test-asyncio-closing")
    with trio.fail_after(DEADLINE_S):
        await asyncio_thread.call(_where, delay_s=0)
        await asyncio_thread.aclose()
    assert "test-asyncio-closing" not in {thread.name for thread in threading.enumerate()}
    with pytest.raises(RuntimeError, match="closed"):
        await asyncio_thread.call(_where, delay_s=0)


@pytest.mark.postgresql
async def test_a_failed_postgresql_connect_leaves_no_connection_open(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service tries again while its database starts: each failed try closes what it
    opened (here the first pool opened, the second could not connect)."""
    opened = _postgres._open_pool

    async def second_refused(url: str, **options: object) -> asyncpg.Pool:
        if "init" in options:
            raise ConnectionResetError("the server went away")
        return await opened(url, **options)

    monkeypatch.setattr(_postgres, "_open_pool", second_refused)
    database = postgres_url.rsplit("/", 1)[1]
    admin = await trio_asyncio.aio_as_trio(asyncpg.connect)(postgres_url)
    try:
        for _ in range(3):
            with trio.fail_after(DEADLINE_S), pytest.raises(DatabaseUnavailable):
                await _postgres.PostgresDriver.connect(postgres_url)

        async def none_left() -> bool:
            # A terminated connection's server process ends a moment later.
            others = await trio_asyncio.aio_as_trio(admin.fetchval)(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                database,
            )
            return others == 0

        await wait_until(none_left, what="the failed tries' connections to end")
    finally:
        await trio_asyncio.aio_as_trio(admin.close)()
    assert not [t for t in threading.enumerate() if t.name == "postgresql"]
