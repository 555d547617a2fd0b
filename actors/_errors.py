"""Errors the actor runtime raises: a dead actor, a full mailbox, a supervisor giving up."""

from __future__ import annotations

import typing


@typing.final
class ActorDied(Exception):
    """The actor a message was meant for crashed, or was stopped for good.

    Raised by a call whose handler crashed or was cancelled (the Erlang monitor DOWN), and by a
    cast or call to an actor whose supervisor has stopped.

    Attributes:
        actor_id: Who died.
        cause: The error that killed it, when there is one.
    """

    def __init__(self, actor_id: str, cause: BaseException | None = None) -> None:
        self.actor_id = actor_id
        self.cause = cause
        detail = "" if cause is None else f": {cause!r}"
        super().__init__(f"actor {actor_id!r} died{detail}")


@typing.final
class MailboxFull(Exception):
    """A non-blocking send found the actor's bounded mailbox full (answer 429/503 or drop).

    Attributes:
        actor_id: Whose mailbox is full.
    """

    def __init__(self, actor_id: str) -> None:
        self.actor_id = actor_id
        super().__init__(f"mailbox of actor {actor_id!r} is full")


@typing.final
class SupervisorGaveUp(Exception):
    """A supervisor saw more restarts than its intensity allows, stopped its children, and quit.

    It is raised `from` the child error(s) that used up the budget (an exception group when
    there were several), and counts as one crash for the parent supervisor.

    Attributes:
        name: The supervisor (or registry) that gave up.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"supervisor {name!r} exceeded its restart intensity and gave up")
