"""The notifier port: what the tracker tells people, and what any delivery service must offer.

The notifier actor delivers the durable outbox through a ``Notifier`` (Apprise is the first),
one target URL at a time so that a retry never repeats a message to a target that has it;
deciding what deserves a notification stays with the actors that own the request
(``media_request/notifications.py``), and the words with ``notification_batches.py``.
"""

from __future__ import annotations

import typing

import attrs

NotificationKind = typing.Literal[
    "grabbed", "downloaded", "available", "failed", "stuck", "recovered", "deleted", "test"
]
"""Why people are told: the words of ``ST_NOTIFY_EVENTS``, and ``test`` for the API's test."""


@typing.final
@attrs.frozen(kw_only=True)
class NotificationRequested:
    """People should be told something about a request, in words ready to show.

    ``link`` opens the request on the dashboard (or None when no public URL is configured).
    """

    kind: NotificationKind
    title: str
    body: str
    link: str | None = None


class Notifier(typing.Protocol):
    """Delivers a notification to one target (a URL of the delivery service)."""

    async def send(self, url: str, notification: NotificationRequested) -> None:
        """Deliver ``notification`` to ``url`` once; return when the target has it.

        Raises:
            ClientError: the target could not be reached or refused it (its ``reason`` names
                the target only in redacted form); the caller keeps the notification and tries
                again later.
        """
        ...
