"""Bounded mailboxes that outlive actor restarts, and the `ActorRef` callers send through.

A call carries a one-shot reply channel, the gen_server way.
"""

from __future__ import annotations

import contextlib
import logging
import typing
from collections.abc import Awaitable, Callable

import attrs
import trio

from ._errors import ActorDied, MailboxFull
from ._statistics import ActorState, ActorStatistics

logger = logging.getLogger(__name__)

DeadLetterHook: typing.TypeAlias = Callable[[str, object, BaseException], None]


def log_dead_letter(actor_id: str, message: object, error: BaseException) -> None:
    """The default dead-letter hook: log the lost message as a warning."""
    logger.warning("dead letter for actor %r: %r (%r)", actor_id, message, error)


@attrs.frozen
class Reply:
    """What a handler returned for a call."""

    value: object


@attrs.frozen
class Failure:
    """Why a call got no reply: its handler crashed, or the actor was stopped."""

    error: BaseException


@attrs.frozen
class Envelope:
    """A message in a mailbox; a call also carries the channel its reply goes back on."""

    message: object
    reply: trio.MemorySendChannel[Reply | Failure] | None = None


def answer(reply: trio.MemorySendChannel[Reply | Failure], outcome: Reply | Failure) -> None:
    """Send a call's outcome; a caller that has timed out and left is silently skipped."""
    with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
        reply.send_nowait(outcome)


def check_mailbox_size(mailbox_size: int) -> None:
    """Refuse anything but a small whole number: a mailbox is never unbounded.

    Raises:
        ValueError: For a negative size, a float, or math.inf.
    """
    if isinstance(mailbox_size, bool) or not isinstance(mailbox_size, int) or mailbox_size < 0:
        raise ValueError(f"mailbox_size must be an int >= 0, not {mailbox_size!r}")


@typing.final
@attrs.define(eq=False)
class Mailbox:
    """One actor's bounded mailbox plus its lifecycle counters, shared by all its instances.

    It is closed only when the actor is stopped for good. Closing turns the queued messages
    into dead letters, fails their callers with `ActorDied`, and makes later sends raise
    `ActorDied`. Starting the actor again opens a fresh channel.
    """

    actor_id: str
    size: int
    on_dead_letter: DeadLetterHook
    state: ActorState = "starting"
    instances: int = 0
    handled: int = 0
    crashes: int = 0
    _send: trio.MemorySendChannel[Envelope] = attrs.field(init=False, repr=False)
    _receive: trio.MemoryReceiveChannel[Envelope] = attrs.field(init=False, repr=False)
    _closed_by: ActorDied | None = attrs.field(init=False, repr=False, default=None)

    def __attrs_post_init__(self) -> None:
        self._send, self._receive = trio.open_memory_channel[Envelope](self.size)

    def reopen(self) -> None:
        """Open a fresh channel for an actor that is started again after being closed."""
        if self._closed_by is not None:
            self._send, self._receive = trio.open_memory_channel[Envelope](self.size)
            self._closed_by = None

    def close(self, cause: BaseException | None) -> None:
        """Stop taking messages: dead-letter what is queued and fail the waiting callers.

        Args:
            cause: Why the actor is gone for good (None for a normal stop).
        """
        if self._closed_by is not None:
            return
        died = ActorDied(self.actor_id, cause)
        self._closed_by = died
        self.state = "stopped"
        # Draining also takes the values of senders blocked on a full mailbox, so after this
        # loop nobody is parked on the channel and nothing is dropped without a dead letter.
        while True:
            try:
                envelope = self._receive.receive_nowait()
            except trio.WouldBlock:
                break
            self.dead_letter(envelope.message, died)
            if envelope.reply is not None:
                with envelope.reply:
                    answer(envelope.reply, Failure(died))
        self._receive.close()
        self._send.close()

    def is_idle(self) -> bool:
        """Whether nothing is queued and no sender is waiting for room."""
        channel = self._receive.statistics()
        return channel.current_buffer_used == 0 and channel.tasks_waiting_send == 0

    async def put(self, envelope: Envelope) -> None:
        """Queue a message, waiting for room when the mailbox is full (backpressure).

        Raises:
            ActorDied: The actor is stopped for good.
        """
        if self._closed_by is not None:
            raise self._died()
        try:
            await self._send.send(envelope)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise self._died() from None

    def put_nowait(self, envelope: Envelope) -> None:
        """Queue a message or fail at once.

        Raises:
            MailboxFull: No room right now.
            ActorDied: The actor is stopped for good.
        """
        if self._closed_by is not None:
            raise self._died()
        try:
            self._send.send_nowait(envelope)
        except trio.WouldBlock:
            raise MailboxFull(self.actor_id) from None

    async def get(self) -> Envelope:
        """Wait for the next message (only the running instance calls this)."""
        return await self._receive.receive()

    def dead_letter(self, message: object, error: BaseException) -> None:
        """Report a message that will never be handled; a failing hook is only logged."""
        try:
            self.on_dead_letter(self.actor_id, message, error)
        except Exception:
            logger.exception("dead-letter hook failed for actor %r", self.actor_id)

    def statistics(self) -> ActorStatistics:
        """A snapshot of this actor's state and mailbox."""
        return ActorStatistics(
            id=self.actor_id,
            state=self.state,
            mailbox_used=self._receive.statistics().current_buffer_used,
            mailbox_max=self.size,
            restarts=max(self.instances - 1, 0),
            handled=self.handled,
            crashes=self.crashes,
        )

    def _died(self) -> ActorDied:
        cause = None if self._closed_by is None else self._closed_by.cause
        return ActorDied(self.actor_id, cause)


async def request(
    actor_id: str,
    put: Callable[[Envelope], Awaitable[None]],
    message: object,
    limit: float,
) -> object:
    """Send a call and wait for its reply, the gen_server way.

    Args:
        actor_id: Who is called (for the error).
        put: Queues the envelope in the right mailbox.
        message: The request.
        limit: Seconds for queueing plus handling.

    Returns:
        What the handler returned.

    Raises:
        ActorDied: The handler crashed or was cancelled, or the actor is stopped for good.
        trio.TooSlowError: No reply within ``limit``; a late reply is discarded.
    """
    reply_send, reply_receive = trio.open_memory_channel[Reply | Failure](1)
    with reply_receive, trio.fail_after(limit):
        await put(Envelope(message, reply_send))
        try:
            outcome = await reply_receive.receive()
        except trio.EndOfChannel:
            raise ActorDied(actor_id) from None
    if isinstance(outcome, Failure):
        if isinstance(outcome.error, ActorDied):
            raise ActorDied(actor_id, outcome.error.cause) from outcome.error.cause
        raise ActorDied(actor_id, outcome.error) from outcome.error
    return outcome.value


@typing.final
@attrs.frozen(eq=False)
class ActorRef:
    """The handle callers use to reach an actor; it stays valid across the actor's restarts."""

    _mailbox: Mailbox

    @property
    def id(self) -> str:
        """The actor id."""
        return self._mailbox.actor_id

    async def cast(self, message: object) -> None:
        """Send a message without waiting for it to be handled; waits while the mailbox is full.

        Raises:
            ActorDied: The actor is stopped for good.
        """
        await self._mailbox.put(Envelope(message))

    def cast_nowait(self, message: object) -> None:
        """Send a message, or fail at once when the mailbox is full (for ingress: answer 429).

        Raises:
            MailboxFull: The mailbox is full.
            ActorDied: The actor is stopped for good.
        """
        self._mailbox.put_nowait(Envelope(message))

    # The timeout belongs to the call protocol itself (gen_server:call/3), so that no caller
    # can forget it and hang on a stuck actor.
    async def call(self, message: object, timeout: float = 5.0) -> object:  # noqa: ASYNC109
        """Send a request and wait for the handler's return value.

        Args:
            message: The request.
            timeout: Seconds for queueing plus handling (OTP's default of 5 s).

        Returns:
            What the actor's ``handle`` returned.

        Raises:
            ActorDied: The actor crashed or was stopped while handling it, or is stopped for
                good.
            trio.TooSlowError: No reply within ``timeout``; a late reply is discarded.
        """
        return await request(self.id, self._mailbox.put, message, timeout)

    def statistics(self) -> ActorStatistics:
        """A snapshot of the actor's state and mailbox."""
        return self._mailbox.statistics()
