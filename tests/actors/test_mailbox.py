"""Mailboxes: backpressure, dead letters, stopped actors, statistics (items 15 and 18)."""

from __future__ import annotations

import math

import attrs
import pytest
import trio
from status_tracker.actors.runtime import (
    ActorDied,
    ActorRef,
    ActorStatistics,
    ChildSpec,
    MailboxFull,
    Registry,
    RegistryStatistics,
    Strategy,
    Supervisor,
    SupervisorStatistics,
    TaskStatistics,
    actor_child,
    task_child,
)
from trio.testing import wait_all_tasks_blocked


class Crash(Exception):
    """What the test actor raises on purpose."""


@attrs.define(eq=False)
class Gate:
    """Handles each message only once ``opened`` is set, recording the mailbox fill it saw."""

    opened: trio.Event = attrs.Factory(trio.Event)
    seen: list[tuple[object, int]] = attrs.Factory(list)
    ref: ActorRef | None = None

    async def handle(self, message: object) -> object:
        assert self.ref is not None
        self.seen.append((message, self.ref.statistics().mailbox_used))
        await self.opened.wait()
        if message == "crash":
            raise Crash("told to crash")
        return message


@attrs.define(eq=False)
class Parked:
    """Never finishes handling its first message."""

    async def handle(self, message: object) -> object:
        await trio.sleep_forever()


def gate(name: str, *, mailbox_size: int = 2, **kwargs: object) -> tuple[ChildSpec, ActorRef, Gate]:
    behaviour = Gate()
    spec, ref = actor_child(name, lambda: behaviour, mailbox_size=mailbox_size, **kwargs)
    behaviour.ref = ref
    return spec, ref, behaviour


async def test_a_full_mailbox_blocks_cast_and_refuses_cast_nowait(
    autojump_clock: trio.testing.MockClock,
) -> None:
    spec, ref, behaviour = gate("slow", mailbox_size=2)
    supervisor = Supervisor("root", [spec])
    sent_at: list[float] = []

    async def internal_sender() -> None:
        await ref.cast(4)
        sent_at.append(trio.current_time())

    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        for message in (1, 2, 3):
            await ref.cast(message)
        await wait_all_tasks_blocked()
        assert ref.statistics().mailbox_used == ref.statistics().mailbox_max == 2
        with pytest.raises(MailboxFull) as full:
            ref.cast_nowait("from ingress")
        assert full.value.actor_id == "slow"

        nursery.start_soon(internal_sender)
        await trio.sleep(7)
        assert sent_at == []
        assert ref.statistics().mailbox_used == 2

        behaviour.opened.set()
        await wait_all_tasks_blocked()
        assert sent_at == [7]
        assert [message for message, _ in behaviour.seen] == [1, 2, 3, 4]
        assert max(used for _, used in behaviour.seen) <= 2
        assert ref.statistics().mailbox_used == 0
        await supervisor.stop()


def test_a_mailbox_is_never_unbounded() -> None:
    with pytest.raises(ValueError, match="mailbox_size"):
        actor_child("greedy", Parked, mailbox_size=math.inf)
    with pytest.raises(ValueError, match="mailbox_size"):
        Registry("greedy", lambda key: Parked(), mailbox_size=-1)


async def test_the_dead_letter_hook_receives_the_message_that_crashed_the_actor(
    autojump_clock: trio.testing.MockClock,
) -> None:
    dead_letters: list[tuple[str, object, BaseException]] = []
    spec, ref, behaviour = gate(
        "fragile",
        on_dead_letter=lambda actor_id, message, error: dead_letters.append(
            (actor_id, message, error)
        ),
    )
    behaviour.opened.set()
    supervisor = Supervisor("root", [spec])
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        await ref.cast("fine")
        await ref.cast("crash")
        await wait_all_tasks_blocked()
        [(actor_id, message, error)] = dead_letters
        assert (actor_id, message) == ("fragile", "crash")
        assert isinstance(error, Crash)
        assert str(error) == "told to crash"
        await supervisor.stop()


async def test_sending_to_a_stopped_actor_raises_and_queued_messages_become_dead_letters(
    autojump_clock: trio.testing.MockClock,
) -> None:
    dead_letters: list[tuple[object, BaseException]] = []
    spec, ref, _ = gate(
        "gone",
        mailbox_size=4,
        on_dead_letter=lambda actor_id, message, error: dead_letters.append((message, error)),
    )
    supervisor = Supervisor("root", [spec])
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        for message in ("in progress", "queued 1", "queued 2"):
            await ref.cast(message)
        await wait_all_tasks_blocked()
        await supervisor.stop()

    assert [message for message, _ in dead_letters] == ["in progress", "queued 1", "queued 2"]
    assert isinstance(dead_letters[0][1], trio.Cancelled)
    assert all(isinstance(error, ActorDied) for _, error in dead_letters[1:])
    assert ref.statistics().state == "stopped"
    with pytest.raises(ActorDied, match="'gone' died"):
        await ref.cast("late")
    with pytest.raises(ActorDied):
        ref.cast_nowait("late")
    with pytest.raises(ActorDied):
        await ref.call("late")
    assert len(dead_letters) == 3


async def test_statistics_describe_the_whole_tree(autojump_clock: trio.testing.MockClock) -> None:
    spec, ref, behaviour = gate("gate", mailbox_size=3)

    async def poller(*, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        await trio.sleep_forever()

    registry = Registry("sessions", lambda key: Parked(), mailbox_size=5)
    middle = Supervisor("middle", [task_child("poller", poller)], intensity=2, period=3)
    root = Supervisor(
        "root",
        [
            ChildSpec(id="middle", start=middle.run),
            ChildSpec(id="sessions", start=registry.run),
            spec,
        ],
        strategy=Strategy.REST_FOR_ONE,
    )
    ref.cast_nowait("early")

    def expected(
        root_state: str, gate_state: str, gate_used: int, handled: int, crashes: int
    ) -> SupervisorStatistics:
        running = root_state == "running"
        return SupervisorStatistics(
            id="root",
            strategy=Strategy.REST_FOR_ONE,
            state=root_state,
            restarts_in_window=crashes,
            children=(
                SupervisorStatistics(
                    id="middle",
                    strategy=Strategy.ONE_FOR_ONE,
                    state=root_state,
                    restarts_in_window=0,
                    children=(
                        TaskStatistics(
                            id="poller",
                            state="running" if running else "stopped",
                            restarts=0,
                            crashes=0,
                        ),
                    ),
                ),
                RegistryStatistics(
                    id="sessions",
                    state=root_state,
                    active=1 if running else 0,
                    spawned_total=1,
                    passivated_total=0,
                    restarts_in_window=0,
                    children=(
                        ActorStatistics(
                            id="sessions['a']",
                            state="running",
                            mailbox_used=1,
                            mailbox_max=5,
                            restarts=0,
                            handled=0,
                            crashes=0,
                        ),
                    )
                    if running
                    else (),
                ),
                ActorStatistics(
                    id="gate",
                    state=gate_state,
                    mailbox_used=gate_used,
                    mailbox_max=3,
                    restarts=crashes,
                    handled=handled,
                    crashes=crashes,
                ),
            ),
        )

    async with trio.open_nursery() as nursery:
        await nursery.start(root.run)
        await registry.cast("a", "first")
        await registry.cast("a", "second")
        await ref.cast("queued")
        await wait_all_tasks_blocked()
        assert root.statistics() == expected("running", "running", 1, 0, 0)

        behaviour.opened.set()
        await ref.cast("crash")
        await wait_all_tasks_blocked()
        assert root.statistics() == expected("running", "running", 0, 2, 1)
        await root.stop()
    assert root.statistics() == expected("stopped", "stopped", 0, 2, 1)
