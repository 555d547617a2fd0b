"""Supervisor restart semantics, after OTP's supervisor_SUITE (catalogue items 1-10 and 14)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import attrs
import pytest
import trio
from status_tracker.actors.runtime import (
    ActorDied,
    ActorRef,
    ActorStatistics,
    ChildSpec,
    Restart,
    Strategy,
    Supervisor,
    SupervisorGaveUp,
    TaskStatistics,
    actor_child,
    task_child,
)
from trio.testing import wait_all_tasks_blocked


class Crash(Exception):
    """What a test actor raises on purpose."""


@attrs.define
class Journal:
    """What the test actors of one test did, in order."""

    handled: list[tuple[str, int, object]] = attrs.Factory(list)
    terminated: list[tuple[str, int, str]] = attrs.Factory(list)
    dead_letters: list[tuple[str, object, BaseException]] = attrs.Factory(list)
    _instances: dict[str, itertools.count[int]] = attrs.Factory(dict)

    def next_instance(self, name: str) -> int:
        return next(self._instances.setdefault(name, itertools.count()))

    def dead_letter(self, actor_id: str, message: object, error: BaseException) -> None:
        self.dead_letters.append((actor_id, message, error))


@attrs.define(eq=False)
class Worker:
    """Counts what it handles; ``"crash"`` raises, ``"state"`` replies (instance, count)."""

    journal: Journal
    name: str
    instance: int = -1
    count: int = 0

    async def init(self) -> None:
        self.instance = self.journal.next_instance(self.name)

    async def handle(self, message: object) -> object:
        if message == "crash":
            raise Crash(f"{self.name} told to crash")
        if message == "state":
            return (self.instance, self.count)
        self.count += 1
        self.journal.handled.append((self.name, self.instance, message))
        return None

    async def terminate(self, reason: str) -> None:
        self.journal.terminated.append((self.name, self.instance, reason))


def worker(
    journal: Journal, name: str, restart: Restart = Restart.PERMANENT
) -> tuple[ChildSpec, ActorRef]:
    return actor_child(
        name,
        lambda: Worker(journal, name),
        mailbox_size=4,
        restart=restart,
        on_dead_letter=journal.dead_letter,
    )


def gave_up(name: str, cause: Callable[[BaseException | None], bool]) -> pytest.RaisesExc:
    """Matches the `SupervisorGaveUp` of supervisor ``name`` whose cause passes ``cause``."""
    return pytest.RaisesExc(
        SupervisorGaveUp, check=lambda error: error.name == name and cause(error.__cause__)
    )


async def test_permanent_actor_restarts_fresh_and_keeps_the_queued_messages(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal = Journal()
    spec, ref = worker(journal, "w")
    supervisor = Supervisor("root", [spec])
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        for message in ["a", "b", "crash", "c", "d"]:
            ref.cast_nowait(message)
        await wait_all_tasks_blocked()

        assert journal.handled == [("w", 0, "a"), ("w", 0, "b"), ("w", 1, "c"), ("w", 1, "d")]
        assert await ref.call("state") == (1, 2)
        [(actor_id, message, error)] = journal.dead_letters
        assert (actor_id, message, type(error)) == ("w", "crash", Crash)
        assert ref.statistics() == ActorStatistics(
            id="w", state="running", mailbox_used=0, mailbox_max=4, restarts=1, handled=5, crashes=1
        )
        await supervisor.stop()
    assert trio.current_time() == 0


async def test_intensity_exceeded_stops_every_child_and_raises_to_the_parent(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal = Journal()
    bystander_spec, bystander = worker(journal, "bystander")
    crasher_spec, crasher = worker(journal, "crasher")
    supervisor = Supervisor("root", [bystander_spec, crasher_spec], intensity=1, period=5)
    both = pytest.RaisesGroup(Crash, Crash)
    with pytest.RaisesGroup(gave_up("root", both.matches)):
        async with trio.open_nursery() as nursery:
            await nursery.start(supervisor.run)
            await crasher.cast("crash")
            await wait_all_tasks_blocked()
            assert supervisor.statistics().restarts_in_window == 1
            await trio.sleep(4.5)
            await crasher.cast("crash")

    assert trio.current_time() == 4.5
    assert journal.terminated == [("bystander", 0, "shutdown")]
    assert supervisor.statistics().state == "stopped"
    assert bystander.statistics().state == crasher.statistics().state == "stopped"
    with pytest.raises(ActorDied) as died:
        await bystander.cast("hello")
    assert isinstance(died.value.cause, SupervisorGaveUp)


async def test_intensity_window_slides_so_spaced_crashes_never_trip_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal = Journal()
    spec, ref = worker(journal, "w")
    supervisor = Supervisor("root", [spec], intensity=1, period=5)
    with pytest.RaisesGroup(gave_up("root", lambda cause: isinstance(cause, ExceptionGroup))):
        async with trio.open_nursery() as nursery:
            await nursery.start(supervisor.run)
            for _ in range(5):
                await ref.cast("crash")
                await wait_all_tasks_blocked()
                assert supervisor.statistics().restarts_in_window == 1
                await trio.sleep(5.0)
            assert ref.statistics().restarts == 5
            assert supervisor.statistics().restarts_in_window == 0
            await ref.cast("crash")
            await trio.sleep(4.9)
            await ref.cast("crash")
    assert trio.current_time() == 25 + 4.9


async def test_one_for_one_siblings_keep_their_identity_and_state(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal = Journal()
    (a_spec, a), (b_spec, b), (c_spec, c) = (worker(journal, name) for name in "abc")
    supervisor = Supervisor("root", [a_spec, b_spec, c_spec], strategy=Strategy.ONE_FOR_ONE)
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        for ref in (a, b, c):
            await ref.cast("x")
        await b.cast("crash")
        assert [await ref.call("state") for ref in (a, b, c)] == [(0, 1), (1, 0), (0, 1)]
        assert journal.terminated == []
        await supervisor.stop()


async def test_one_for_all_restarts_every_sibling_but_not_temporary_bystanders(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal = Journal()
    a_spec, a = worker(journal, "a")
    temp_spec, temp = worker(journal, "temp", Restart.TEMPORARY)
    b_spec, b = worker(journal, "b")
    c_spec, c = worker(journal, "c")
    supervisor = Supervisor(
        "root", [a_spec, temp_spec, b_spec, c_spec], strategy=Strategy.ONE_FOR_ALL
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        await b.cast("crash")
        await wait_all_tasks_blocked()

        assert journal.terminated == [
            ("c", 0, "restart"),
            ("temp", 0, "restart"),
            ("a", 0, "restart"),
        ]
        assert [await ref.call("state") for ref in (a, b, c)] == [(1, 0), (1, 0), (1, 0)]
        assert [child.id for child in supervisor.statistics().children] == ["a", "b", "c"]
        with pytest.raises(ActorDied):
            await temp.cast("hello")
        await supervisor.stop()


async def test_rest_for_one_restarts_only_the_children_started_after_the_crashed_one(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal = Journal()
    (a_spec, a), (b_spec, b), (c_spec, c), (d_spec, d) = (worker(journal, n) for n in "abcd")
    supervisor = Supervisor(
        "root", [a_spec, b_spec, c_spec, d_spec], strategy=Strategy.REST_FOR_ONE
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        for ref in (a, b, c, d):
            await ref.cast("x")
        await b.cast("crash")
        await wait_all_tasks_blocked()

        assert journal.terminated == [("d", 0, "restart"), ("c", 0, "restart")]
        states = [await ref.call("state") for ref in (a, b, c, d)]
        assert states == [(0, 1), (1, 0), (1, 0), (1, 0)]
        await supervisor.stop()


@pytest.mark.parametrize("restart", list(Restart))
@pytest.mark.parametrize("how", ["normal", "shutdown", "crash"])
async def test_restart_type_decides_which_exits_are_restarted(
    autojump_clock: trio.testing.MockClock, restart: Restart, how: str
) -> None:
    starts: list[float] = []
    finish = trio.Event()

    async def task(*, task_status: trio.TaskStatus[None]) -> None:
        starts.append(trio.current_time())
        task_status.started()
        await finish.wait()
        if how == "crash":
            raise Crash("crash")

    supervisor = Supervisor("root", [task_child("t", task, restart=restart)])
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        await trio.sleep(1)
        if how == "shutdown":
            supervisor.cancel_child("t")
        else:
            finish.set()
            finish = trio.Event()
        await wait_all_tasks_blocked()

        restarted = restart is Restart.PERMANENT or (
            restart is Restart.TRANSIENT and how == "crash"
        )
        assert starts == ([0, 1] if restarted else [0])
        children = supervisor.statistics().children
        if restart is Restart.TEMPORARY:
            assert children == ()
        else:
            assert children == (
                TaskStatistics(
                    id="t",
                    state="running" if restarted else "stopped",
                    restarts=int(restarted),
                    crashes=int(how == "crash"),
                ),
            )
        await supervisor.stop()


async def test_a_child_supervisor_giving_up_counts_as_one_crash_for_its_parent(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal = Journal()
    spec, ref = worker(journal, "leaf")
    middle = Supervisor("middle", [spec], intensity=0)
    root = Supervisor("root", [ChildSpec(id="middle", start=middle.run)], intensity=1)
    leaf_crashed = pytest.RaisesExc(Crash).matches
    middle_twice = pytest.RaisesGroup(
        gave_up("middle", leaf_crashed), gave_up("middle", leaf_crashed)
    )
    with pytest.RaisesGroup(gave_up("root", middle_twice.matches)):
        async with trio.open_nursery() as nursery:
            await nursery.start(root.run)
            await ref.cast("crash")
            await wait_all_tasks_blocked()

            assert root.statistics().restarts_in_window == 1
            assert middle.statistics().state == "running"
            assert middle.statistics().restarts_in_window == 0
            assert await ref.call("state") == (1, 0)
            await ref.cast("crash")
    assert root.statistics().state == middle.statistics().state == "stopped"


async def test_a_start_failure_raises_from_start_and_leaves_nothing_running(
    autojump_clock: trio.testing.MockClock,
) -> None:
    events: list[str] = []

    async def first(*, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        try:
            await trio.sleep_forever()
        finally:
            events.append("first stopped")

    async def broken(*, task_status: trio.TaskStatus[None]) -> None:
        await trio.sleep(1)
        raise Crash("cannot start")

    async def never(*, task_status: trio.TaskStatus[None]) -> None:
        events.append("never started")

    children = [task_child(name, fn) for name, fn in [("1", first), ("2", broken), ("3", never)]]
    supervisor = Supervisor("root", children)
    async with trio.open_nursery() as nursery:
        with pytest.raises(Crash, match="cannot start") as failed:
            await nursery.start(supervisor.run)
        assert nursery.child_tasks == frozenset()
    assert "while supervisor 'root' was starting '2'" in failed.value.__notes__
    assert events == ["first stopped"]
    assert supervisor.statistics().state == "stopped"
    assert trio.current_time() == 1


async def test_an_init_that_keeps_failing_is_bounded_by_intensity_and_does_not_spin(
    autojump_clock: trio.testing.MockClock,
) -> None:
    inits: list[float] = []

    @attrs.define
    class FailsAfterFirstStart:
        async def init(self) -> None:
            inits.append(trio.current_time())
            if len(inits) > 1:
                raise Crash("init failed")

        async def handle(self, message: object) -> object:
            raise Crash("handle failed")

    spec, ref = actor_child("flaky", FailsAfterFirstStart)
    supervisor = Supervisor("root", [spec], intensity=3, period=5)
    four_crashes = pytest.RaisesGroup(Crash, Crash, Crash, Crash)
    with pytest.RaisesGroup(gave_up("root", four_crashes.matches)):
        async with trio.open_nursery() as nursery:
            await nursery.start(supervisor.run)
            await ref.cast("go")
    assert inits == [0, 0, 0, 0]
    assert ref.statistics().crashes == 4


async def test_two_crashes_in_the_same_tick_reach_the_parent_in_one_group(
    autojump_clock: trio.testing.MockClock,
) -> None:
    go = trio.Event()

    @attrs.define
    class CrashesOnCue:
        error: Exception

        async def handle(self, message: object) -> object:
            await go.wait()
            raise self.error

    a_spec, a = actor_child("a", lambda: CrashesOnCue(KeyError("a")))
    b_spec, b = actor_child("b", lambda: CrashesOnCue(ValueError("b")))
    supervisor = Supervisor("root", [a_spec, b_spec], intensity=1)
    both = pytest.RaisesGroup(KeyError, ValueError)
    with pytest.RaisesGroup(gave_up("root", both.matches)):
        async with trio.open_nursery() as nursery:
            await nursery.start(supervisor.run)
            await a.cast("x")
            await b.cast("x")
            await wait_all_tasks_blocked()
            go.set()
    assert trio.current_time() == 0
