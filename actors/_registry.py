"""A dynamic (simple_one_for_one) supervisor of one actor per key, spawned on demand.

Idle actors are passivated and come back, reloading their state in init, on their next message.
"""

from __future__ import annotations

import functools
import heapq
import logging
import typing
from collections.abc import Callable, Hashable

import attrs
import trio

from ._actor import Behaviour, run_instance
from ._errors import ActorDied, SupervisorGaveUp
from ._intensity import RestartIntensity
from ._mailbox import (
    DeadLetterHook,
    Envelope,
    Mailbox,
    check_mailbox_size,
    log_dead_letter,
    request,
)
from ._spec import Restart, Shutdown
from ._statistics import RegistryStatistics, SupervisorState

logger = logging.getLogger(__name__)

_BUSIEST_SHOWN = 20


@attrs.define(eq=False)
class _Entry:
    """One key's actor: its mailbox, and an event set once its task has finished."""

    key: Hashable
    mailbox: Mailbox
    done: trio.Event = attrs.Factory(trio.Event)


def _check_size(instance: Registry, attribute: attrs.Attribute[int], value: int) -> None:
    check_mailbox_size(value)


@typing.final
@attrs.define(eq=False)
class Registry:
    """Runs one actor per key, spawning each on its first message.

    Start it with ``await nursery.start(registry.run)``, or use ``registry.run`` as a
    `ChildSpec` start. Senders always go through the registry by key, never through a
    mailbox they kept, so a message can never land in a mailbox that is being retired.

    Attributes:
        name: Names the registry; its actors are called ``name[key]``.
        factory: Builds a fresh `Behaviour` for a key, at every spawn and restart; its init
            reloads the key's state.
        mailbox_size: The bound of every actor's mailbox.
        passivate_after: Seconds an actor may sit idle (empty mailbox, no message in
            progress) before it is stopped normally and forgotten; None to keep actors
            forever.
        restart: How a crashed actor is treated: ``TRANSIENT`` and ``PERMANENT`` restart it
            with the same mailbox; ``TEMPORARY`` forgets it (queued messages become dead
            letters, and the next message spawns a new actor).
        intensity: Restarts tolerated within ``period`` across all keys; one more and the
            registry stops every actor and raises `SupervisorGaveUp`.
        period: The sliding window for ``intensity``, in seconds.
        shutdown: Seconds each actor's terminate hook may take, or ``"brutal"``.
        on_dead_letter: Called as ``(actor_id, message, error)`` for each message that will
            never be handled; logs a warning by default.
    """

    name: str
    factory: Callable[[Hashable], Behaviour]
    mailbox_size: int = attrs.field(default=16, kw_only=True, validator=_check_size)
    passivate_after: float | None = attrs.field(default=300.0, kw_only=True)
    restart: Restart = attrs.field(default=Restart.TRANSIENT, kw_only=True)
    intensity: int = attrs.field(default=10, kw_only=True)
    period: float = attrs.field(default=1.0, kw_only=True)
    shutdown: Shutdown = attrs.field(default=5.0, kw_only=True)
    on_dead_letter: DeadLetterHook | None = attrs.field(default=None, kw_only=True)
    _spawned_total: int = attrs.field(init=False, repr=False, default=0)
    _passivated_total: int = attrs.field(init=False, repr=False, default=0)
    _restarts: RestartIntensity = attrs.field(init=False, repr=False)
    _entries: dict[Hashable, _Entry] = attrs.field(init=False, repr=False, factory=dict)
    _retiring: dict[Hashable, _Entry] = attrs.field(init=False, repr=False, factory=dict)
    _state: SupervisorState = attrs.field(init=False, default="idle")
    _nursery: trio.Nursery | None = attrs.field(init=False, repr=False, default=None)
    _gave_up: SupervisorGaveUp | None = attrs.field(init=False, repr=False, default=None)
    _stopped: trio.Event = attrs.field(init=False, repr=False, factory=trio.Event)

    def __attrs_post_init__(self) -> None:
        self._restarts = RestartIntensity(self.intensity, self.period)

    async def run(
        self, *, task_status: trio.TaskStatus[Registry] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Serve keys until stopped, cancelled, or giving up.

        When it ends, every actor is stopped (their terminate hooks run, concurrently, each
        within ``shutdown``), queued messages become dead letters, waiting callers get
        `ActorDied`, and later sends raise `ActorDied`.

        Args:
            task_status: Receives this registry once it accepts messages.

        Raises:
            SupervisorGaveUp: More restarts than the intensity allows; chained from the
                errors inside the window.
            RuntimeError: The registry is already running.
        """
        if self._state in ("running", "stopping"):
            raise RuntimeError(f"registry {self.name!r} is already running")
        self._state = "running"
        self._restarts.reset()
        self._gave_up = None
        self._stopped = trio.Event()
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                task_status.started(self)
                await trio.sleep_forever()
        finally:
            self._state = "stopped"
            self._nursery = None
            for entry in self._entries.values():
                entry.mailbox.close(self._gave_up)
            self._entries.clear()
            self._retiring.clear()
            self._stopped.set()
        if self._gave_up is not None:
            raise self._gave_up from self._gave_up.__cause__

    async def stop(self) -> None:
        """Stop every actor and make `run` return; waits until done."""
        if self._nursery is not None:
            self._state = "stopping"
            self._nursery.cancel_scope.cancel(reason="shutdown")
        if self._state != "idle":
            await self._stopped.wait()

    async def cast(self, key: Hashable, message: object) -> None:
        """Send to the key's actor (spawning it if needed); waits while its mailbox is full.

        Raises:
            ActorDied: The registry is not running.
        """
        await self._put(key, Envelope(message))

    def cast_nowait(self, key: Hashable, message: object) -> None:
        """Send to the key's actor (spawning it if needed), or fail at once.

        Raises:
            MailboxFull: The key's mailbox is full.
            ActorDied: The registry is not running.
        """
        self._entry_for(key).mailbox.put_nowait(Envelope(message))

    # As ActorRef.call: the timeout is part of the call protocol (gen_server:call/3).
    async def call(
        self,
        key: Hashable,
        message: object,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> object:
        """Send a request to the key's actor (spawning it if needed) and wait for the reply.

        Args:
            key: Which actor.
            message: The request.
            timeout: Seconds for spawning, queueing and handling.

        Returns:
            What the actor's ``handle`` returned.

        Raises:
            ActorDied: The actor crashed or was stopped while handling it, or the registry is
                not running.
            trio.TooSlowError: No reply within ``timeout``; a late reply is discarded.
        """
        return await request(
            self._actor_id(key), functools.partial(self._put, key), message, timeout
        )

    def keys(self) -> list[Hashable]:
        """The keys whose actors are live right now."""
        return list(self._entries)

    def statistics(self) -> RegistryStatistics:
        """A bounded snapshot: counts, plus the 20 actors with the fullest mailboxes."""
        actors = (entry.mailbox.statistics() for entry in self._entries.values())
        busiest = heapq.nlargest(_BUSIEST_SHOWN, actors, key=lambda actor: actor.mailbox_used)
        return RegistryStatistics(
            id=self.name,
            state=self._state,
            active=len(self._entries),
            spawned_total=self._spawned_total,
            passivated_total=self._passivated_total,
            restarts_in_window=self._restarts.in_window(),
            children=tuple(busiest),
        )

    def _actor_id(self, key: Hashable) -> str:
        return f"{self.name}[{key!r}]"

    async def _put(self, key: Hashable, envelope: Envelope) -> None:
        while True:
            entry = self._entry_for(key)
            try:
                await entry.mailbox.put(envelope)
            except ActorDied:
                # Retired while this sender waited for room: its successor takes the message.
                if self._entries.get(key) is entry or self._state != "running":
                    raise
            else:
                return

    def _entry_for(self, key: Hashable) -> _Entry:
        entry = self._entries.get(key)
        if entry is not None:
            return entry
        if self._state != "running" or self._nursery is None:
            raise ActorDied(self._actor_id(key), self._gave_up)
        mailbox = Mailbox(
            self._actor_id(key), self.mailbox_size, self.on_dead_letter or log_dead_letter
        )
        entry = self._entries[key] = _Entry(key, mailbox)
        self._spawned_total += 1
        predecessor = self._retiring.get(key)
        self._nursery.start_soon(
            self._run_entry, entry, None if predecessor is None else predecessor.done
        )
        return entry

    async def _run_entry(self, entry: _Entry, predecessor: trio.Event | None) -> None:
        try:
            if predecessor is not None:
                # The passivated instance may still be saving its state in terminate; its
                # successor's init must not load that state before it is written.
                await predecessor.wait()
            while True:
                try:
                    await run_instance(
                        entry.mailbox,
                        functools.partial(self.factory, entry.key),
                        shutdown=self.shutdown,
                        idle_after=self.passivate_after,
                        passivate=functools.partial(self._passivate, entry),
                    )
                except Exception as error:
                    logger.error(
                        "registry %r: actor %r crashed",
                        self.name,
                        entry.mailbox.actor_id,
                        exc_info=error,
                    )
                    if self.restart is Restart.TEMPORARY:
                        self._forget(entry, error)
                        return
                    if self._restarts.record(error):
                        self._give_up()
                        return
                else:
                    return
        finally:
            entry.done.set()
            if self._retiring.get(entry.key) is entry:
                del self._retiring[entry.key]

    def _passivate(self, entry: _Entry) -> bool:
        if not entry.mailbox.is_idle():
            return False
        self._forget(entry, None)
        self._retiring[entry.key] = entry
        self._passivated_total += 1
        return True

    def _forget(self, entry: _Entry, cause: BaseException | None) -> None:
        if self._entries.get(entry.key) is entry:
            del self._entries[entry.key]
        entry.mailbox.close(cause)

    def _give_up(self) -> None:
        assert self._nursery is not None
        if self._gave_up is None:
            self._gave_up = SupervisorGaveUp(self.name)
            logger.error("registry %r gave up: too many restarts", self.name)
        self._gave_up.__cause__ = self._restarts.cause()
        self._state = "stopping"
        self._nursery.cancel_scope.cancel(reason="shutdown")
