"""The OTP-style supervisor: starts children in order, restarts them per strategy, stops them
in reverse order, and gives up (escalates) when restarts exceed its intensity.
"""

from __future__ import annotations

import logging
import typing
from collections.abc import Sequence

import attrs
import trio

from ._actor import actor_mailbox
from ._errors import SupervisorGaveUp
from ._intensity import RestartIntensity
from ._registry import Registry
from ._spec import ChildSpec, Restart, Strategy
from ._statistics import (
    ActorState,
    ChildStatistics,
    SupervisorState,
    SupervisorStatistics,
    TaskStatistics,
)

logger = logging.getLogger(__name__)

ExitKind = typing.Literal["normal", "shutdown", "crash"]


@attrs.frozen
class _Exit:
    kind: ExitKind
    error: Exception | None = None


@attrs.define(eq=False)
class _Child:
    """A child slot: its spec plus the state of its current incarnation."""

    spec: ChildSpec
    state: ActorState = "starting"
    starts: int = 0
    crashes: int = 0
    scope: trio.CancelScope | None = None
    done: trio.Event = attrs.Factory(trio.Event)
    # Set while the supervisor itself stops the child, whose exit is then expected, not news.
    stopping: bool = False
    exit: _Exit | None = None

    @property
    def running(self) -> bool:
        return self.scope is not None and not self.done.is_set()


@attrs.define(eq=False)
class _ShieldWhenStarted:
    """Passes ``started()`` on, and from then on shields the child from outside cancellation.

    After that only the supervisor stops the child, one by one in reverse start order, instead
    of every child being cancelled at once when the supervisor's own scope is cancelled. Before
    ``started()`` the child stays cancellable, so a hanging init cannot block a shutdown.
    """

    status: trio.TaskStatus[object]
    scope: trio.CancelScope
    task: trio.lowlevel.Task
    nursery: trio.Nursery
    has_started: bool = False

    def started(self, value: object = None) -> None:
        self.has_started = True
        self.status.started(value)
        # Trio leaves the child where it was, instead of moving it into the supervisor's
        # nursery, when whoever is starting it has been cancelled meanwhile; it then counts on
        # that cancellation to end the child, so shielding it there would hang the start.
        if self.task.parent_nursery is self.nursery:
            self.scope.shield = True


def _should_restart(restart: Restart, kind: ExitKind) -> bool:
    if restart is Restart.PERMANENT:
        return True
    return restart is Restart.TRANSIENT and kind == "crash"


def _check_unique_ids(
    instance: Supervisor,
    attribute: attrs.Attribute[tuple[ChildSpec, ...]],
    specs: tuple[ChildSpec, ...],
) -> None:
    ids = [spec.id for spec in specs]
    if len(set(ids)) != len(ids):
        raise ValueError(f"child ids of supervisor {instance.name!r} are not unique: {ids}")


@typing.final
@attrs.define(eq=False)
class Supervisor:
    """Runs children and restarts them the Erlang/OTP way.

    Start it with ``await nursery.start(sup.run)``; it can itself be a child of another
    supervisor (``ChildSpec(id=..., start=sup.run)``), where its giving up counts as one crash.

    Attributes:
        name: Names the supervisor in errors, logs and statistics.
        children: The child specs, in start order.
        strategy: Which children are restarted when one has to be.
        intensity: Restarts tolerated within ``period`` seconds; one more and the supervisor
            stops every child and raises `SupervisorGaveUp`. Nested levels multiply, as in OTP:
            a leaf's budget is about the product of its ancestors' intensities.
        period: The sliding window for ``intensity``, in seconds of `trio.current_time`.
    """

    name: str
    children: tuple[ChildSpec, ...] = attrs.field(converter=tuple, validator=_check_unique_ids)
    strategy: Strategy = attrs.field(default=Strategy.ONE_FOR_ONE, kw_only=True)
    intensity: int = attrs.field(default=1, kw_only=True)
    period: float = attrs.field(default=5.0, kw_only=True)
    _restarts: RestartIntensity = attrs.field(init=False, repr=False)
    _live: list[_Child] = attrs.field(init=False, repr=False)
    _state: SupervisorState = attrs.field(init=False, default="idle")
    _nursery: trio.Nursery | None = attrs.field(init=False, repr=False, default=None)
    _main_scope: trio.CancelScope | None = attrs.field(init=False, repr=False, default=None)
    _wakeup: trio.Event = attrs.field(init=False, repr=False, factory=trio.Event)
    _stopped: trio.Event = attrs.field(init=False, repr=False, factory=trio.Event)

    def __attrs_post_init__(self) -> None:
        self._restarts = RestartIntensity(self.intensity, self.period)
        self._live = [_Child(spec) for spec in self.children]

    async def run(
        self, *, task_status: trio.TaskStatus[Supervisor] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Start the children in order, then supervise them until stopped or giving up.

        Each child is started with ``await nursery.start``, so ``started()`` is reported only
        once every child is ready. Cancelling the caller's scope, or `stop`, stops the children
        in reverse start order, each within its ``shutdown`` grace.

        Args:
            task_status: Receives this supervisor once all children have started.

        Raises:
            SupervisorGaveUp: More restarts than the intensity allows; chained from the child
                error(s) inside the window (an exception group when there are several).
            Exception: A child failed before calling ``started()``: that error, with a note
                naming the child. Children already started have been stopped again.
            RuntimeError: The supervisor is already running.
        """
        if self._state in ("starting", "running", "stopping"):
            raise RuntimeError(f"supervisor {self.name!r} is already running")
        self._state = "starting"
        self._restarts.reset()
        self._live = [_Child(spec) for spec in self.children]
        self._stopped = trio.Event()
        failure: Exception | None = None
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                try:
                    with trio.CancelScope() as self._main_scope:
                        failure = await self._start_and_supervise(task_status)
                finally:
                    self._state = "stopping"
                    with trio.CancelScope(shield=True):
                        await self._stop_each(self._live, reason="shutdown")
        finally:
            self._state = "stopped"
            self._nursery = self._main_scope = None
            gave_up = failure if isinstance(failure, SupervisorGaveUp) else None
            for child in self._live:
                child.state = "stopped"
                self._close_mailbox(child, gave_up)
            self._stopped.set()
        if failure is not None:
            raise failure from failure.__cause__

    async def stop(self) -> None:
        """Stop every child in reverse start order and make `run` return; waits until done."""
        if self._main_scope is not None:
            self._main_scope.cancel(reason="shutdown")
        if self._state != "idle":
            await self._stopped.wait()

    def cancel_child(self, child_id: str, reason: str = "shutdown") -> None:
        """Cancel one running child from outside, like OTP's ``exit(Child, shutdown)``.

        The restart type then decides: a permanent child is restarted (counting against the
        intensity), a transient or temporary one stays down. Does nothing when the child is
        not running.

        Args:
            child_id: The child's id.
            reason: Passed on as the cancel reason (an actor's terminate hook receives it).

        Raises:
            KeyError: No such child.
        """
        for child in self._live:
            if child.spec.id == child_id:
                if child.state == "running" and child.scope is not None:
                    child.scope.cancel(reason=reason)
                return
        raise KeyError(child_id)

    def statistics(self) -> SupervisorStatistics:
        """A snapshot of this supervisor and, recursively, all its children."""
        return SupervisorStatistics(
            id=self.name,
            strategy=self.strategy,
            state=self._state,
            restarts_in_window=self._restarts.in_window(),
            children=tuple(self._child_statistics(child) for child in self._live),
        )

    async def _start_and_supervise(self, task_status: trio.TaskStatus[Supervisor]) -> Exception:
        for child in self._live:
            try:
                await self._start(child)
            except Exception as error:
                error.add_note(f"while supervisor {self.name!r} was starting {child.spec.id!r}")
                return error
        self._state = "running"
        task_status.started(self)
        return await self._supervise()

    async def _supervise(self) -> SupervisorGaveUp:
        while True:
            child = next((child for child in self._live if child.exit is not None), None)
            if child is None:
                await self._wakeup.wait()
                self._wakeup = trio.Event()
                continue
            ended, child.exit = child.exit, None
            assert ended is not None
            if not _should_restart(child.spec.restart, ended.kind):
                self._close_mailbox(child, ended.error)
                if child.spec.restart is Restart.TEMPORARY:
                    self._live.remove(child)
                continue
            if self._restarts.record(ended.error):
                pending = [c.exit.error for c in self._live if c.exit and c.exit.error]
                gave_up = SupervisorGaveUp(self.name)
                gave_up.__cause__ = self._restarts.cause(pending)
                logger.error("supervisor %r gave up: too many restarts", self.name)
                return gave_up
            await self._restart(child)

    async def _restart(self, failed: _Child) -> None:
        if self.strategy is Strategy.ONE_FOR_ONE:
            bystanders: list[_Child] = []
        elif self.strategy is Strategy.ONE_FOR_ALL:
            bystanders = [child for child in self._live if child is not failed]
        else:
            bystanders = self._live[self._live.index(failed) + 1 :]
        await self._stop_each(bystanders, reason="restart")
        for child in bystanders:
            if child.spec.restart is Restart.TEMPORARY:
                self._close_mailbox(child, None)
                self._live.remove(child)
        again = [child for child in self._live if child is failed or child in bystanders]
        for child in again:
            try:
                await self._start(child)
            except Exception as error:
                # Handled like any crash on the next turn of the loop, so a child whose init
                # always fails uses up the intensity instead of spinning.
                child.exit = _Exit("crash", error)
                return

    async def _start(self, child: _Child) -> None:
        assert self._nursery is not None
        child.done = trio.Event()
        child.stopping = False
        child.exit = None
        child.state = "starting"
        child.starts += 1
        try:
            await self._nursery.start(self._run_child, child, child.done)
        except Exception:
            child.crashes += 1
            child.state = "restarting"
            raise
        child.state = "running"

    async def _run_child(
        self, child: _Child, done: trio.Event, *, task_status: trio.TaskStatus[object]
    ) -> None:
        assert self._nursery is not None
        scope = child.scope = trio.CancelScope()
        status = _ShieldWhenStarted(task_status, scope, trio.lowlevel.current_task(), self._nursery)
        try:
            with scope:
                await child.spec.start(task_status=status)
        except Exception as error:
            if not status.has_started:
                raise
            logger.error(
                "supervisor %r: child %r crashed", self.name, child.spec.id, exc_info=error
            )
            ended = _Exit("crash", error)
        else:
            ended = _Exit("shutdown" if scope.cancelled_caught else "normal")
        finally:
            done.set()
        if status.has_started and not child.stopping and child.done is done:
            if ended.kind == "crash":
                child.crashes += 1
            restarting = _should_restart(child.spec.restart, ended.kind)
            child.state = "restarting" if restarting else "stopped"
            child.exit = ended
            self._wakeup.set()

    async def _stop_each(self, children: Sequence[_Child], reason: str) -> None:
        for child in reversed(children):
            child.exit = None
            if not child.running or child.scope is None:
                continue
            child.stopping = True
            child.scope.cancel(reason=reason)
            grace = child.spec.shutdown
            # An actor's wrapper bounds its own terminate hook; for any other child all the
            # supervisor can do is say so, since Trio cannot kill a task.
            if actor_mailbox(child.spec) is None and grace != "brutal":
                with trio.move_on_after(grace):
                    await child.done.wait()
                if not child.done.is_set():
                    logger.warning(
                        "supervisor %r: child %r still running %s s after being cancelled;"
                        " waiting for it",
                        self.name,
                        child.spec.id,
                        grace,
                    )
            await child.done.wait()
            child.state = "stopped"

    def _close_mailbox(self, child: _Child, cause: BaseException | None) -> None:
        mailbox = actor_mailbox(child.spec)
        if mailbox is not None:
            mailbox.close(cause)

    def _child_statistics(self, child: _Child) -> ChildStatistics:
        mailbox = actor_mailbox(child.spec)
        if mailbox is not None:
            return mailbox.statistics()
        owner = getattr(child.spec.start, "__self__", None)
        if isinstance(owner, Supervisor | Registry):
            return owner.statistics()
        return TaskStatistics(
            id=child.spec.id,
            state=child.state,
            restarts=max(child.starts - 1, 0),
            crashes=child.crashes,
        )
