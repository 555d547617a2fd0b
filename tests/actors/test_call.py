"""Request/reply the gen_server way: replies, ActorDied instead of hangs, timeouts (items 16-17)."""

from __future__ import annotations

import attrs
import pytest
import trio
from status_tracker.actors.runtime import ActorDied, Supervisor, SupervisorGaveUp, actor_child
from trio.testing import wait_all_tasks_blocked


class Crash(Exception):
    """What the test actor raises on purpose."""


@attrs.define(eq=False)
class Slow:
    """Handles ``(what, seconds)``: works for that long, then replies or crashes."""

    async def handle(self, message: object) -> object:
        what, seconds = message
        await trio.sleep(seconds)
        if what == "crash":
            raise Crash(f"crashed after {seconds} s")
        return f"{what} after {seconds} s"


async def test_a_call_returns_what_the_handler_returned(
    autojump_clock: trio.testing.MockClock,
) -> None:
    spec, ref = actor_child("slow", Slow)
    supervisor = Supervisor("root", [spec])
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        assert await ref.call(("hello", 2)) == "hello after 2 s"
        assert trio.current_time() == 2
        await supervisor.stop()


async def test_a_call_to_an_actor_that_dies_mid_call_raises_actor_died_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    spec, ref = actor_child("slow", Slow)
    supervisor = Supervisor("root", [spec])
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        with pytest.raises(ActorDied) as died:
            await ref.call(("crash", 3), timeout=60)
        assert trio.current_time() == 3
        assert died.value.actor_id == "slow"
        assert isinstance(died.value.cause, Crash)
        assert died.value.__cause__ is died.value.cause

        assert await ref.call(("still here", 1)) == "still here after 1 s"
        assert ref.statistics().restarts == 1
        await supervisor.stop()


async def test_a_slow_call_times_out_at_exactly_five_seconds_and_its_late_reply_is_dropped(
    autojump_clock: trio.testing.MockClock,
) -> None:
    dead_letters: list[object] = []
    spec, ref = actor_child(
        "slow", Slow, on_dead_letter=lambda actor_id, message, error: dead_letters.append(message)
    )
    supervisor = Supervisor("root", [spec])
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        with pytest.raises(trio.TooSlowError):
            await ref.call(("late", 10))
        assert trio.current_time() == 5

        await trio.sleep(5)
        await wait_all_tasks_blocked()
        statistics = ref.statistics()
        assert (statistics.state, statistics.handled, statistics.crashes) == ("running", 1, 0)
        assert dead_letters == []
        assert await ref.call(("next", 0)) == "next after 0 s"
        await supervisor.stop()


async def test_calls_queued_when_the_supervisor_gives_up_fail_at_once_not_at_their_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    spec, ref = actor_child("slow", Slow)
    supervisor = Supervisor("root", [spec], intensity=0)
    outcomes: list[tuple[float, type[BaseException] | None]] = []

    async def queued_call() -> None:
        with pytest.raises(ActorDied) as died:
            await ref.call(("queued", 0), timeout=60)
        outcomes.append((trio.current_time(), type(died.value.cause)))

    with pytest.RaisesGroup(SupervisorGaveUp):
        async with trio.open_nursery() as nursery:
            await nursery.start(supervisor.run)
            await ref.cast(("crash", 2))
            await wait_all_tasks_blocked()
            nursery.start_soon(queued_call)
    assert outcomes == [(2, SupervisorGaveUp)]
