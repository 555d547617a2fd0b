"""The envelopes every domain actor receives: messages, who sent them, and their mail rows."""

from __future__ import annotations

import typing
from collections.abc import Awaitable, Callable, Sequence

import attrs
from status_tracker.storage import DatabaseUnavailable, Store

_T = typing.TypeVar("_T")


@typing.final
@attrs.frozen(kw_only=True)
class Deliver:
    """Apply ``messages`` in order, in one transaction that also marks ``mail_id`` applied.

    ``redelivery`` says an earlier try may already have been applied: check before applying.
    ``caught_up`` names the event (``caught_up_grab``...) when the reconciler learned the
    messages from a service's API rather than from a webhook. ``created_at`` is set when the
    messages create their request under an id the dispatcher has just allocated: nothing is
    stored under it yet, and the request is created at that time (the dispatcher's, so that
    requests created together are ordered, by creation time and then id, as their mail).
    """

    messages: tuple[object, ...]
    source: str
    mail_id: int | None = None
    redelivery: bool = False
    caught_up: str | None = None
    created_at: float | None = None


@typing.final
@attrs.frozen(kw_only=True)
class DeliverAll:
    """Apply each delivery in order, all in one transaction that marks every mail row applied."""

    deliveries: tuple[Deliver, ...]


@typing.final
@attrs.frozen(kw_only=True)
class Applied:
    """The reply to a Deliver: whether anything changed."""

    changed: bool


def deliveries_in(message: object, actor: str) -> tuple[Deliver, ...]:
    """The deliveries a Deliver or DeliverAll holds.

    Raises:
        TypeError: ``actor`` got something else.
    """
    if isinstance(message, Deliver):
        return (message,)
    if isinstance(message, DeliverAll):
        return message.deliveries
    raise TypeError(f"{actor} got {message!r}")


async def already_applied(store: Store, deliver: Deliver) -> bool:
    """True when a redelivered message's mail row was applied by an earlier try."""
    if not deliver.redelivery or deliver.mail_id is None:
        return False
    return await store.mail_applied(deliver.mail_id)


async def not_yet_applied(store: Store, deliveries: Sequence[Deliver]) -> list[Deliver]:
    """``deliveries`` without the redelivered ones an earlier try applied."""
    return [deliver for deliver in deliveries if not await already_applied(store, deliver)]


async def outlasting_outages(store: Store, step: Callable[[bool], Awaitable[_T]]) -> _T:
    """Run ``step(False)``; after each database outage it meets, ``step(True)`` once it is back.

    The flag says an earlier try may have committed before the outage showed: state held in
    memory may be stale, so reload it and check the mail row before applying again.
    """
    retried = False
    while True:
        try:
            return await step(retried)
        except DatabaseUnavailable:
            await store.wait_available()
            retried = True


async def apply_through_outages(
    store: Store,
    deliveries: tuple[Deliver, ...],
    *,
    apply: Callable[[tuple[Deliver, ...]], Awaitable[_T]],
    reload: Callable[[], Awaitable[None]],
) -> _T:
    """``apply(deliveries)``; after a database outage, reload the actor's state and apply them
    again as redeliveries (their mail rows say whether the first try committed)."""

    async def attempt(retried: bool) -> _T:
        if not retried:
            return await apply(deliveries)
        await reload()
        return await apply(tuple(attrs.evolve(d, redelivery=True) for d in deliveries))

    return await outlasting_outages(store, attempt)
