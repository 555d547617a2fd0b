"""How a supervisor is told what to run: OTP restart types, strategies and child specs."""

from __future__ import annotations

import enum
import typing
from collections.abc import Awaitable, Callable

import attrs

Shutdown: typing.TypeAlias = float | typing.Literal["brutal"]


@typing.final
class Restart(enum.Enum):
    """When a supervisor restarts a child that stopped.

    ``PERMANENT`` always; ``TRANSIENT`` only after a crash (not after a normal return or a
    cancellation); ``TEMPORARY`` never, not even when a sibling's crash restarts the others,
    and it is removed from the supervisor.
    """

    PERMANENT = "permanent"
    TRANSIENT = "transient"
    TEMPORARY = "temporary"


@typing.final
class Strategy(enum.Enum):
    """Which children a supervisor restarts when one of them has to be restarted."""

    ONE_FOR_ONE = "one_for_one"
    """Only the child that stopped."""
    ONE_FOR_ALL = "one_for_all"
    """Every child: the others are stopped (reverse start order), then all start again."""
    REST_FOR_ONE = "rest_for_one"
    """The child that stopped and every child started after it."""


def _check_shutdown(
    instance: object, attribute: attrs.Attribute[Shutdown], value: Shutdown
) -> None:
    if value != "brutal" and not (isinstance(value, int | float) and value >= 0):
        raise ValueError(f"{attribute.name} must be seconds >= 0 or 'brutal', not {value!r}")


@typing.final
@attrs.frozen(kw_only=True)
class ChildSpec:
    """One child of a supervisor, the way OTP describes it.

    Attributes:
        id: Unique among its siblings; names the child in logs and statistics.
        start: ``async def start(*, task_status)``, run as ``await nursery.start(spec.start)``.
            It calls ``task_status.started(...)`` once it is ready; raising before that is a
            start failure. A `Supervisor.run` or `Registry.run` can be used directly, and then
            the parent's statistics include the child's whole subtree.
        restart: When it is restarted (see `Restart`).
        shutdown: Seconds of grace the child gets to clean up when it is stopped, or
            ``"brutal"`` for none. The actor wrapper runs an actor's ``terminate`` hook under
            this bound; for any other child the supervisor logs a warning when the child is
            still running after it (Trio cannot kill a task that shields itself or never
            reaches a checkpoint, so the supervisor keeps waiting).
    """

    id: str
    start: Callable[..., Awaitable[object]]
    restart: Restart = Restart.PERMANENT
    shutdown: Shutdown = attrs.field(default=5.0, validator=_check_shutdown)


def task_child(
    id: str,
    async_fn: Callable[..., Awaitable[object]],
    *,
    restart: Restart = Restart.PERMANENT,
    shutdown: Shutdown = 5.0,
) -> ChildSpec:
    """Describe a plain long-running task (an HTTP server, a poll loop) as a supervised child.

    Args:
        id: The child id.
        async_fn: ``async def fn(*, task_status)``; it calls ``task_status.started()`` when
            ready. Returning counts as a normal exit, raising as a crash.
        restart: When it is restarted.
        shutdown: Grace in seconds, or ``"brutal"``; see `ChildSpec.shutdown`.

    Returns:
        The spec to pass to a `Supervisor`.
    """
    return ChildSpec(id=id, start=async_fn, restart=restart, shutdown=shutdown)
