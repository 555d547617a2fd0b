"""Stopping supervision trees: order, grace, bounds, no orphans (catalogue items 11-13, 19)."""

from __future__ import annotations

import logging
from collections.abc import Hashable

import attrs
import pytest
import trio
from status_tracker.actors.runtime import (
    ActorDied,
    ActorStatistics,
    ChildSpec,
    Registry,
    RegistryStatistics,
    Supervisor,
    SupervisorStatistics,
    TaskStatistics,
    actor_child,
    task_child,
)


@attrs.define(eq=False)
class SlowToStop:
    """An actor whose terminate hook takes ``cleanup`` seconds and logs when it runs."""

    name: str
    log: list[tuple[object, ...]]
    cleanup: float = 0.0

    async def handle(self, message: object) -> object:
        return message

    async def terminate(self, reason: str) -> None:
        self.log.append((self.name, "terminate", trio.current_time(), reason))
        await trio.sleep(self.cleanup)
        self.log.append((self.name, "cleaned up", trio.current_time()))


def live_tasks() -> set[trio.lowlevel.Task]:
    """Every task of the current run, found by walking the nursery tree from the root."""
    found: set[trio.lowlevel.Task] = set()
    pending = [trio.lowlevel.current_root_task()]
    while pending:
        task = pending.pop()
        found.add(task)
        for nursery in task.child_nurseries:
            pending.extend(nursery.child_tasks)
    return found


@pytest.mark.parametrize("how", ["stop()", "cancel the parent scope"])
async def test_shutdown_runs_in_reverse_start_order_each_within_its_grace(
    autojump_clock: trio.testing.MockClock, how: str
) -> None:
    log: list[tuple[object, ...]] = []

    async def poller(*, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        try:
            await trio.sleep_forever()
        finally:
            log.append(("poller", "cancelled", trio.current_time()))

    a, _ = actor_child("a", lambda: SlowToStop("a", log, cleanup=1.0))
    b, _ = actor_child("b", lambda: SlowToStop("b", log, cleanup=2.0))
    supervisor = Supervisor("root", [a, task_child("poller", poller), b])
    with trio.CancelScope() as outer:
        async with trio.open_nursery() as nursery:
            await nursery.start(supervisor.run)
            await trio.sleep(10)
            if how == "stop()":
                await supervisor.stop()
            else:
                outer.cancel()

    assert log == [
        ("b", "terminate", 10, "shutdown"),
        ("b", "cleaned up", 12),
        ("poller", "cancelled", 12),
        ("a", "terminate", 12, "shutdown"),
        ("a", "cleaned up", 13),
    ]
    assert trio.current_time() == 13
    assert supervisor.statistics().state == "stopped"


@pytest.mark.parametrize(("shutdown", "stopped_at"), [(3.0, 3.0), ("brutal", 0.0)])
async def test_a_cleanup_that_blocks_is_cut_off_at_its_shutdown_deadline(
    autojump_clock: trio.testing.MockClock,
    caplog: pytest.LogCaptureFixture,
    shutdown: float | str,
    stopped_at: float,
) -> None:
    log: list[tuple[object, ...]] = []
    first, _ = actor_child("first", lambda: SlowToStop("first", log))
    stuck, ref = actor_child(
        "stuck", lambda: SlowToStop("stuck", log, cleanup=float("inf")), shutdown=shutdown
    )
    supervisor = Supervisor("root", [first, stuck])
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        await supervisor.stop()

    assert trio.current_time() == stopped_at
    stuck_log = [entry for entry in log if entry[0] == "stuck"]
    if shutdown == "brutal":
        assert stuck_log == []
    else:
        assert stuck_log == [("stuck", "terminate", 0, "shutdown")]
        assert "terminate hook of actor 'stuck' cut off after 3.0 s" in caplog.messages
    assert log[-2:] == [
        ("first", "terminate", stopped_at, "shutdown"),
        ("first", "cleaned up", stopped_at),
    ]
    assert ref.statistics().state == "stopped"


async def test_a_task_that_overruns_its_shutdown_is_reported_and_awaited(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    flushed: list[float] = []

    async def flusher(*, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        try:
            await trio.sleep_forever()
        finally:
            with trio.CancelScope(shield=True):
                await trio.sleep(10)
                flushed.append(trio.current_time())

    supervisor = Supervisor("root", [task_child("flusher", flusher, shutdown=2.0)])
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        await supervisor.stop()

    assert flushed == [10]
    assert trio.current_time() == 10
    [warning] = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert "'flusher' still running 2.0 s after being cancelled" in warning.getMessage()


def all_stopped(statistics: object) -> bool:
    """Whether a statistics record and everything under it reports stopped."""
    match statistics:
        case SupervisorStatistics(state=state, children=children):
            return state == "stopped" and all(map(all_stopped, children))
        case RegistryStatistics(state=state, active=active, children=children):
            return state == "stopped" and active == 0 and children == ()
        case ActorStatistics(state=state) | TaskStatistics(state=state):
            return state == "stopped"
    raise AssertionError(f"unexpected statistics {statistics!r}")


async def test_cancelling_the_root_leaves_no_task_and_every_handle_stopped(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: list[tuple[object, ...]] = []

    async def poller(*, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        await trio.sleep_forever()

    def session(key: Hashable) -> SlowToStop:
        return SlowToStop(f"session {key}", log, cleanup=1.0)

    leaf, leaf_ref = actor_child("leaf", lambda: SlowToStop("leaf", log))
    middle = Supervisor("middle", [leaf, task_child("poller", poller)])
    registry = Registry("sessions", session)
    top, top_ref = actor_child("top", lambda: SlowToStop("top", log))
    root = Supervisor(
        "root",
        [
            top,
            ChildSpec(id="middle", start=middle.run),
            ChildSpec(id="sessions", start=registry.run),
        ],
    )
    before = live_tasks()
    with trio.CancelScope() as scope:
        async with trio.open_nursery() as nursery:
            await nursery.start(root.run)
            for key in range(3):
                assert await registry.call(key, "hello") == "hello"
            assert len(live_tasks()) > len(before)
            scope.cancel()

    assert live_tasks() == before
    assert all_stopped(root.statistics())
    assert registry.keys() == []
    assert {entry[0] for entry in log if entry[1] == "cleaned up"} == {
        "top",
        "leaf",
        "session 0",
        "session 1",
        "session 2",
    }
    for ref in (leaf_ref, top_ref):
        with pytest.raises(ActorDied):
            await ref.cast("anyone there?")
    with pytest.raises(ActorDied):
        await registry.cast(0, "anyone there?")


@attrs.define(eq=False)
class Account:
    """Computes a new balance, spends 10 s writing it, and only then adopts it."""

    store: dict[str, int]
    flush_takes: float
    balance: int = 0

    async def init(self) -> None:
        self.balance = self.store["balance"]

    async def handle(self, message: object) -> object:
        assert isinstance(message, int)
        new_balance = self.balance + message
        await trio.sleep(10)
        self.store["balance"] = self.balance = new_balance
        return new_balance

    async def terminate(self, reason: str) -> None:
        await trio.sleep(self.flush_takes)
        self.store["balance"] = self.balance
        self.store["flushed"] += 1


@pytest.mark.parametrize(("flush_takes", "stopped_at", "flushed"), [(1.0, 6.0, 1), (60.0, 8.0, 0)])
async def test_cancelling_mid_handler_runs_cleanup_shielded_but_bounded(
    autojump_clock: trio.testing.MockClock, flush_takes: float, stopped_at: float, flushed: int
) -> None:
    store = {"balance": 100, "flushed": 0}
    dead_letters: list[tuple[str, object]] = []
    spec, ref = actor_child(
        "account",
        lambda: Account(store, flush_takes),
        shutdown=3.0,
        on_dead_letter=lambda actor_id, message, error: dead_letters.append((actor_id, message)),
    )
    supervisor = Supervisor("root", [spec])
    caller_saw: list[tuple[float, BaseException | None]] = []

    async def deposit() -> None:
        with pytest.raises(ActorDied) as died:
            await ref.call(50, timeout=30)
        caller_saw.append((trio.current_time(), died.value.cause))

    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        nursery.start_soon(deposit)
        await trio.sleep(5)
        await supervisor.stop()

    assert trio.current_time() == stopped_at
    [(died_at, cause)] = caller_saw
    assert died_at == 5
    assert isinstance(cause, trio.Cancelled)
    assert store == {"balance": 100, "flushed": flushed}
    assert dead_letters == [("account", 50)]


class Crash(Exception):
    """What a test actor raises on purpose."""


@attrs.define(eq=False)
class CrashesWhenAsked:
    """Crashes on every message; has no init, so a restart reports started() at once."""

    async def handle(self, message: object) -> object:
        raise Crash(f"told to crash by {message!r}")


async def test_a_supervisor_cancelled_while_it_restarts_a_child_still_stops(
    autojump_clock: trio.testing.MockClock,
) -> None:
    spec, ref = actor_child("fragile", CrashesWhenAsked)
    supervisor = Supervisor("root", [spec])
    with trio.CancelScope() as scope:
        async with trio.open_nursery() as nursery:
            await nursery.start(supervisor.run)
            with pytest.raises(ActorDied):
                await ref.call("crash")
            # The restart is under way in this very tick: its started() now meets a
            # cancelled starter, and the child must still be cancellable.
            scope.cancel()
    assert supervisor.statistics().state == "stopped"
    assert ref.statistics().state == "stopped"
