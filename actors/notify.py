"""The notifier port: what the tracker tells people, and what any delivery service must offer.

The notifier actor delivers each ``NotificationRequested`` of the durable outbox through a
``Notifier`` (Apprise is the first); deciding what deserves a notification stays with the
actors that own the request.
"""

from __future__ import annotations

import typing

import attrs

NotificationKind = typing.Literal["available", "failed", "stuck", "test"]
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
    """Delivers a notification to every target it was configured with."""

    async def notify(self, notification: NotificationRequested) -> None:
        """Deliver ``notification`` once; return when every target has it.

        Raises:
            ClientError: some target could not be reached or refused it; the caller keeps
                the notification and tries again later.
        """
        ...
