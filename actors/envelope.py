"""The envelope every domain actor receives: messages, who sent them, and their mail row."""

from __future__ import annotations

import typing

import attrs

from storage import Store


@typing.final
@attrs.frozen(kw_only=True)
class Deliver:
    """Apply ``messages`` in order, in one transaction that also marks ``mail_id`` applied.

    ``redelivery`` says an earlier try may already have been applied: check before applying.
    """

    messages: tuple[object, ...]
    source: str
    mail_id: int | None = None
    redelivery: bool = False


@typing.final
@attrs.frozen(kw_only=True)
class Applied:
    """The reply to a Deliver: whether anything changed."""

    changed: bool


async def already_applied(store: Store, deliver: Deliver) -> bool:
    """True when a redelivered message's mail row was applied by an earlier try."""
    if not deliver.redelivery or deliver.mail_id is None:
        return False
    return await store.mail_applied(deliver.mail_id)
