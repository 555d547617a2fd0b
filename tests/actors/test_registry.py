"""Registries: spawn on demand, passivation without losing messages, restarts, giving up."""

from __future__ import annotations

import gc
import random
import weakref
from collections.abc import Hashable

import attrs
import pytest
import trio
from status_tracker.actors.runtime import (
    ActorDied,
    ActorStatistics,
    MailboxFull,
    Registry,
    RegistryStatistics,
    Restart,
    SupervisorGaveUp,
)
from trio.testing import wait_all_tasks_blocked


class Crash(Exception):
    """What the test actor raises on purpose."""


@attrs.define
class World:
    """The storage and the observations shared by every session actor of one test."""

    saved: dict[Hashable, list[object]] = attrs.Factory(dict)
    events: list[tuple[object, ...]] = attrs.Factory(list)
    dead_letters: list[tuple[str, object, BaseException]] = attrs.Factory(list)
    init_takes: float = 0.0
    terminate_takes: float = 0.0

    def session(self, key: Hashable) -> Session:
        return Session(self, key)

    def dead_letter(self, actor_id: str, message: object, error: BaseException) -> None:
        self.dead_letters.append((actor_id, message, error))


@attrs.define(eq=False)
class Session:
    """Keeps a list per key: loads it in init, saves it after each message and in terminate."""

    world: World
    key: Hashable
    items: list[object] = attrs.Factory(list)

    async def init(self) -> None:
        await trio.sleep(self.world.init_takes)
        self.items = list(self.world.saved.get(self.key, []))
        self.world.events.append(("init", self.key, trio.current_time()))

    async def handle(self, message: object) -> object:
        if message == "crash":
            raise Crash(f"{self.key} told to crash")
        if message == "items":
            return list(self.items)
        if message == "park":
            await trio.sleep_forever()
        self.items.append(message)
        self.world.saved[self.key] = list(self.items)
        self.world.events.append(("handled", self.key, message, trio.current_time()))
        return len(self.items)

    async def terminate(self, reason: str) -> None:
        self.world.events.append(("terminate", self.key, reason, trio.current_time()))
        await trio.sleep(self.world.terminate_takes)
        self.world.saved[self.key] = list(self.items)


def registry(world: World, **options: object) -> Registry:
    return Registry("sessions", world.session, on_dead_letter=world.dead_letter, **options)


async def test_an_actor_is_spawned_on_its_first_message_and_runs_init_first(
    autojump_clock: trio.testing.MockClock,
) -> None:
    world = World(init_takes=1.0)
    sessions = registry(world)
    async with trio.open_nursery() as nursery:
        await nursery.start(sessions.run)
        assert sessions.keys() == []
        sessions.cast_nowait("alice", "hello")
        await sessions.cast("bob", "hi")
        assert await sessions.call("alice", "items") == ["hello"]
        assert trio.current_time() == 1
        assert sorted(sessions.keys()) == ["alice", "bob"]
        alice = [event for event in world.events if event[1] == "alice"]
        assert alice == [("init", "alice", 1), ("handled", "alice", "hello", 1)]
        assert sessions.statistics().spawned_total == 2
        await sessions.stop()


async def test_an_idle_actor_is_passivated_and_its_next_message_reloads_its_state(
    autojump_clock: trio.testing.MockClock,
) -> None:
    world = World()
    sessions = registry(world, passivate_after=10.0)
    async with trio.open_nursery() as nursery:
        await nursery.start(sessions.run)
        await sessions.cast("alice", "a")
        await trio.sleep(6)
        await sessions.cast("alice", "b")
        await trio.sleep(9.5)
        assert sessions.keys() == ["alice"]
        await trio.sleep(1)
        assert sessions.keys() == []
        assert world.events[-1] == ("terminate", "alice", "passivated", 16)
        assert sessions.statistics().passivated_total == 1

        await trio.sleep(5.5)
        assert await sessions.call("alice", "items") == ["a", "b"]
        assert world.events[-1] == ("init", "alice", 22)
        statistics = sessions.statistics()
        assert (statistics.active, statistics.spawned_total) == (1, 2)
        await sessions.stop()


async def test_passivated_actors_leave_nothing_behind(
    autojump_clock: trio.testing.MockClock,
) -> None:
    world = World()
    instances: list[weakref.ref[Session]] = []

    def tracked(key: Hashable) -> Session:
        session = world.session(key)
        instances.append(weakref.ref(session))
        return session

    sessions = Registry("sessions", tracked, passivate_after=10.0)
    async with trio.open_nursery() as nursery:
        await nursery.start(sessions.run)
        for key in range(1000):
            await sessions.cast(key, "seen")
        await trio.sleep(11)
        assert sessions.keys() == []
        assert sessions.statistics().passivated_total == 1000
        gc.collect()
        assert [ref for ref in instances if ref() is not None] == []
        assert len(sessions._entries) == len(sessions._retiring) == 0
        assert await sessions.call(7, "items") == ["seen"], "the next message reloads it"
        await sessions.stop()


@pytest.mark.parametrize("seed", range(5))
async def test_no_message_is_lost_when_it_arrives_as_its_actor_is_passivated(
    autojump_clock: trio.testing.MockClock, seed: int
) -> None:
    world = World()
    sessions = registry(world, passivate_after=10.0)
    keys = list(range(40))
    shuffle = random.Random(seed).shuffle
    sent: dict[Hashable, list[object]] = {key: [] for key in keys}
    async with trio.open_nursery() as nursery:
        await nursery.start(sessions.run)
        for round_number in range(4):
            shuffle(keys)
            for index, key in enumerate(keys):
                message = f"{key}:{round_number}"
                sent[key].append(message)
                # Mix the non-blocking path with the awaiting one, which yields to the actors.
                if index % 2:
                    sessions.cast_nowait(key, message)
                else:
                    await sessions.cast(key, message)
            # Arrive exactly when every actor's idle deadline fires.
            await trio.sleep(10.0)
        await wait_all_tasks_blocked()
        for key in keys:
            assert await sessions.call(key, "items") == sent[key]
        await sessions.stop()
    assert world.dead_letters == []
    assert sessions.statistics().passivated_total > 0


async def test_a_message_sent_while_its_predecessor_saves_waits_for_that_save(
    autojump_clock: trio.testing.MockClock,
) -> None:
    world = World(terminate_takes=2.0)
    sessions = registry(world, passivate_after=10.0)
    async with trio.open_nursery() as nursery:
        await nursery.start(sessions.run)
        await sessions.cast("alice", "a")
        await trio.sleep(11)
        assert await sessions.call("alice", "items") == ["a"]
        assert world.events[-2:] == [
            ("terminate", "alice", "passivated", 10),
            ("init", "alice", 12),
        ]
        await sessions.stop()


async def test_a_crashed_actor_is_restarted_with_the_same_mailbox(
    autojump_clock: trio.testing.MockClock,
) -> None:
    world = World()
    sessions = registry(world)
    async with trio.open_nursery() as nursery:
        await nursery.start(sessions.run)
        for message in ["a", "crash", "b", "c"]:
            sessions.cast_nowait("alice", message)
        assert await sessions.call("alice", "items") == ["a", "b", "c"]
        [(actor_id, message, error)] = world.dead_letters
        assert (actor_id, message, type(error)) == ("sessions['alice']", "crash", Crash)
        assert [event[:2] for event in world.events if event[0] == "init"] == [
            ("init", "alice"),
            ("init", "alice"),
        ]
        statistics = sessions.statistics()
        assert statistics.restarts_in_window == 1
        assert statistics.children == (
            ActorStatistics(
                id="sessions['alice']",
                state="running",
                mailbox_used=0,
                mailbox_max=16,
                restarts=1,
                handled=4,
                crashes=1,
            ),
        )
        await sessions.stop()


async def test_a_call_whose_actor_crashes_raises_actor_died(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sessions = registry(World())
    async with trio.open_nursery() as nursery:
        await nursery.start(sessions.run)
        with pytest.raises(ActorDied) as died:
            await sessions.call("alice", "crash")
        assert died.value.actor_id == "sessions['alice']"
        assert isinstance(died.value.cause, Crash)
        await sessions.stop()


async def test_a_temporary_actor_that_crashes_is_forgotten_with_its_queue(
    autojump_clock: trio.testing.MockClock,
) -> None:
    world = World()
    sessions = registry(world, restart=Restart.TEMPORARY)
    async with trio.open_nursery() as nursery:
        await nursery.start(sessions.run)
        for message in ["a", "crash", "b"]:
            sessions.cast_nowait("alice", message)
        await wait_all_tasks_blocked()
        assert sessions.keys() == []
        assert [(message, type(error)) for _, message, error in world.dead_letters] == [
            ("crash", Crash),
            ("b", ActorDied),
        ]
        assert await sessions.call("alice", "items") == ["a"]
        assert sessions.statistics().spawned_total == 2
        await sessions.stop()


async def test_too_many_restarts_across_keys_make_the_registry_give_up(
    autojump_clock: trio.testing.MockClock,
) -> None:
    world = World()
    sessions = registry(world, intensity=2, period=1.0)
    three_crashes = pytest.RaisesGroup(Crash, Crash, Crash)
    with pytest.RaisesGroup(
        pytest.RaisesExc(SupervisorGaveUp, check=lambda e: three_crashes.matches(e.__cause__))
    ):
        async with trio.open_nursery() as nursery:
            await nursery.start(sessions.run)
            await sessions.cast("bystander", "x")
            for key, pause in [("a", 1.0), ("b", 1.0), ("c", 0.5), ("d", 0.25)]:
                await sessions.cast(key, "crash")
                await trio.sleep(pause)
                assert sessions.statistics().state == "running"
            await sessions.cast("e", "crash")
    assert trio.current_time() == 2.75
    assert ("terminate", "bystander", "shutdown", 2.75) in world.events
    assert sessions.statistics().state == "stopped"
    with pytest.raises(ActorDied) as died:
        await sessions.cast("bystander", "x")
    assert isinstance(died.value.cause, SupervisorGaveUp)


async def test_statistics_stay_bounded_and_show_the_fullest_mailboxes(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sessions = registry(World(), mailbox_size=30)
    async with trio.open_nursery() as nursery:
        await nursery.start(sessions.run)
        for key in range(25):
            await sessions.cast(key, "park")
            for filler in range(key):
                sessions.cast_nowait(key, filler)
        await wait_all_tasks_blocked()
        for filler in range(24, 30):
            sessions.cast_nowait(24, filler)
        with pytest.raises(MailboxFull):
            sessions.cast_nowait(24, "one too many")

        statistics = sessions.statistics()
        assert statistics == RegistryStatistics(
            id="sessions",
            state="running",
            active=25,
            spawned_total=25,
            passivated_total=0,
            restarts_in_window=0,
            children=statistics.children,
        )
        assert [child.id for child in statistics.children] == [
            f"sessions[{key}]" for key in range(24, 4, -1)
        ]
        assert statistics.children[0].mailbox_used == statistics.children[0].mailbox_max == 30
        assert all(child.mailbox_used <= child.mailbox_max for child in statistics.children)
        await sessions.stop()
