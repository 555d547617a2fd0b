"""Frozen snapshots returned by `statistics()`; together they describe the supervision tree."""

from __future__ import annotations

import typing

import attrs

from ._spec import Strategy

ActorState = typing.Literal["starting", "running", "restarting", "stopped"]
SupervisorState = typing.Literal["idle", "starting", "running", "stopping", "stopped"]


@typing.final
@attrs.frozen(kw_only=True)
class ActorStatistics:
    """One actor: its lifecycle state and its mailbox.

    Attributes:
        id: The actor id (a registry actor's id is ``"registry[key]"``).
        state: ``starting`` (running init), ``running``, ``restarting`` (crashed, waiting for
            its supervisor) or ``stopped``.
        mailbox_used: Messages waiting in the mailbox; never above ``mailbox_max``.
        mailbox_max: The mailbox bound.
        restarts: How many times a new instance was started after the first.
        handled: Messages handled without crashing.
        crashes: Crashes, in init or while handling a message.
    """

    id: str
    state: ActorState
    mailbox_used: int
    mailbox_max: int
    restarts: int
    handled: int
    crashes: int


@typing.final
@attrs.frozen(kw_only=True)
class TaskStatistics:
    """A plain supervised task (`task_child` or any `ChildSpec` that is not an actor).

    Attributes:
        id: The child id.
        state: ``starting``, ``running``, ``restarting`` or ``stopped``.
        restarts: Restarts since its supervisor started.
        crashes: Crashes since its supervisor started.
    """

    id: str
    state: ActorState
    restarts: int
    crashes: int


@typing.final
@attrs.frozen(kw_only=True)
class RegistryStatistics:
    """A registry of one actor per key, kept small however many keys are live.

    Attributes:
        id: The registry name.
        state: ``idle`` (never run), ``running``, ``stopping`` or ``stopped``.
        active: Live actors.
        spawned_total: Actors spawned since the registry was created.
        passivated_total: Actors stopped for being idle since the registry was created.
        restarts_in_window: Restarts counted against the intensity right now.
        children: The (at most 20) actors with the fullest mailboxes, fullest first.
    """

    id: str
    state: SupervisorState
    active: int
    spawned_total: int
    passivated_total: int
    restarts_in_window: int
    children: tuple[ActorStatistics, ...]


@typing.final
@attrs.frozen(kw_only=True)
class SupervisorStatistics:
    """A supervisor and, recursively, everything under it.

    Attributes:
        id: The supervisor name.
        strategy: Its restart strategy.
        state: ``idle`` (never run), ``starting``, ``running``, ``stopping`` or ``stopped``.
        restarts_in_window: Restarts counted against the intensity right now.
        children: One record per current child, in start order.
    """

    id: str
    strategy: Strategy
    state: SupervisorState
    restarts_in_window: int
    children: tuple[ChildStatistics, ...]


ChildStatistics: typing.TypeAlias = (
    ActorStatistics | TaskStatistics | RegistryStatistics | SupervisorStatistics
)
