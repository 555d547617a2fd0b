"""The shared actor wrapper: fresh behaviour, init, one message at a time, bounded cleanup.

Supervisors reach it through `actor_child`; registries call `run_instance` directly.
"""

from __future__ import annotations

import contextlib
import logging
import typing
from collections.abc import Callable

import attrs
import trio

from ._mailbox import (
    ActorRef,
    DeadLetterHook,
    Envelope,
    Failure,
    Mailbox,
    Reply,
    answer,
    check_mailbox_size,
    log_dead_letter,
)
from ._spec import ChildSpec, Restart, Shutdown

logger = logging.getLogger(__name__)


class Behaviour(typing.Protocol):
    """What an actor does with its messages; a fresh instance is built for every (re)start.

    Two hooks are optional and looked up by name:

    - ``async def init(self) -> None`` runs before the actor counts as started (load state
      here). Raising there is a start failure.
    - ``async def terminate(self, reason: str) -> None`` runs when the actor is stopped
      (shutdown, passivation), shielded and bounded by the child's ``shutdown`` seconds. It
      does not run after a crash.
    """

    async def handle(self, message: object) -> object:
        """Handle one message; the return value is the reply to a call."""
        ...


def only_cancelled(error: BaseException) -> bool:
    """Whether an exception is a cancellation (possibly grouped), not a failure."""
    if isinstance(error, BaseExceptionGroup):
        return error.split(trio.Cancelled)[1] is None
    return isinstance(error, trio.Cancelled)


def _cancel_reason(cancelled: BaseException) -> str:
    if isinstance(cancelled, BaseExceptionGroup):
        return _cancel_reason(cancelled.exceptions[0])
    if isinstance(cancelled, trio.Cancelled) and cancelled.reason is not None:
        return cancelled.reason
    return "shutdown"


async def _terminate(behaviour: Behaviour, mailbox: Mailbox, reason: str, grace: Shutdown) -> None:
    hook = getattr(behaviour, "terminate", None)
    if hook is None or grace == "brutal":
        return
    # Shielded so the cancellation that stops the actor does not also abort its cleanup, and
    # bounded so a stuck cleanup cannot hold up shutdown. Trio cannot kill a task that never
    # reaches a checkpoint, though: a hook that blocks without awaiting overruns this bound.
    with trio.move_on_after(grace, shield=True) as scope:
        try:
            await hook(reason)
        except Exception:
            logger.exception("terminate hook of actor %r failed", mailbox.actor_id)
    if scope.cancelled_caught:
        logger.warning("terminate hook of actor %r cut off after %s s", mailbox.actor_id, grace)


async def _deliver(behaviour: Behaviour, mailbox: Mailbox, envelope: Envelope) -> None:
    reply = envelope.reply
    # A call's reply channel stays open only while its handler runs: however the handler
    # ends, leaving this block closes it, so the caller can never hang on a dead actor.
    with reply if reply is not None else contextlib.nullcontext():
        try:
            value = await behaviour.handle(envelope.message)
        except BaseException as error:
            if isinstance(error, Exception) or only_cancelled(error):
                mailbox.dead_letter(envelope.message, error)
                if reply is not None:
                    answer(reply, Failure(error))
            raise
        mailbox.handled += 1
        if reply is not None:
            answer(reply, Reply(value))


async def _next_message(
    mailbox: Mailbox, idle_after: float | None, passivate: Callable[[], bool]
) -> Envelope | None:
    if idle_after is None:
        return await mailbox.get()
    while True:
        with trio.move_on_after(idle_after):
            return await mailbox.get()
        # Deciding and retiring happen in `passivate` without a checkpoint in between, so no
        # message can slip into this mailbox after it was found empty.
        if passivate():
            return None


async def run_instance(
    mailbox: Mailbox,
    factory: Callable[[], Behaviour],
    *,
    shutdown: Shutdown,
    idle_after: float | None = None,
    passivate: Callable[[], bool] = lambda: False,
    task_status: trio.TaskStatus[ActorRef] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run one instance of an actor until it is cancelled, crashes, or is passivated.

    Args:
        mailbox: The actor's mailbox, which outlives this instance.
        factory: Builds the fresh behaviour.
        shutdown: Grace for the terminate hook, or ``"brutal"``.
        idle_after: Seconds without messages after which ``passivate`` is asked.
        passivate: Retires the actor if it is still idle; returns whether it did.
        task_status: Receives the `ActorRef` once init has succeeded.

    Raises:
        Exception: Whatever init or a handler raised (a crash, for the supervisor).
    """
    mailbox.instances += 1
    mailbox.state = "starting"
    behaviour = factory()
    try:
        init = getattr(behaviour, "init", None)
        if init is not None:
            await init()
        mailbox.state = "running"
        task_status.started(ActorRef(mailbox))
        while (envelope := await _next_message(mailbox, idle_after, passivate)) is not None:
            await _deliver(behaviour, mailbox, envelope)
    except Exception:
        mailbox.crashes += 1
        mailbox.state = "restarting"
        raise
    except BaseException as error:
        was_running = mailbox.state == "running"
        mailbox.state = "stopped"
        if was_running and only_cancelled(error):
            await _terminate(behaviour, mailbox, _cancel_reason(error), shutdown)
        raise
    mailbox.state = "stopped"
    await _terminate(behaviour, mailbox, "passivated", shutdown)


@attrs.frozen(eq=False)
class _ActorStart:
    """The ``start`` of an actor's ChildSpec; the supervisor also reads its mailbox."""

    mailbox: Mailbox
    factory: Callable[[], Behaviour]
    shutdown: Shutdown

    async def __call__(self, *, task_status: trio.TaskStatus[ActorRef]) -> None:
        self.mailbox.reopen()
        await run_instance(
            self.mailbox, self.factory, shutdown=self.shutdown, task_status=task_status
        )


def actor_mailbox(spec: ChildSpec) -> Mailbox | None:
    """The mailbox of an actor child, or None for any other kind of child."""
    return spec.start.mailbox if isinstance(spec.start, _ActorStart) else None


def actor_child(
    id: str,
    factory: Callable[[], Behaviour],
    *,
    mailbox_size: int = 16,
    restart: Restart = Restart.PERMANENT,
    shutdown: Shutdown = 5.0,
    on_dead_letter: DeadLetterHook | None = None,
) -> tuple[ChildSpec, ActorRef]:
    """Describe an actor for a supervisor, and create its mailbox now, once.

    The mailbox outlives restarts, so messages queued behind a crashing one are handled by
    the next instance. Each (re)start builds a fresh behaviour with ``factory``, runs its
    ``init``, then handles messages one at a time.

    Args:
        id: The actor id.
        factory: Builds a fresh `Behaviour` for each (re)start.
        mailbox_size: The mailbox bound (a small int; never unbounded).
        restart: When it is restarted.
        shutdown: Seconds the ``terminate`` hook may take on shutdown, or ``"brutal"``.
        on_dead_letter: Called as ``(actor_id, message, error)`` for each message that will
            never be handled; logs a warning by default.

    Returns:
        The spec to give a `Supervisor`, and the handle to send through.

    Raises:
        ValueError: For a mailbox size that is not an int >= 0.
    """
    check_mailbox_size(mailbox_size)
    mailbox = Mailbox(id, mailbox_size, on_dead_letter or log_dead_letter)
    start = _ActorStart(mailbox, factory, shutdown)
    spec = ChildSpec(id=id, start=start, restart=restart, shutdown=shutdown)
    return spec, ActorRef(mailbox)
