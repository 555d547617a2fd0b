"""Storage's own rows: mail, dead letters, sessions, list queries, and what the poller watches.

A write op that stores one of these rows shares its fields through the row's ``...Fields`` base.
"""

from __future__ import annotations

import typing

import attrs

from status_tracker.domain import Notice


@typing.final
@attrs.frozen(kw_only=True)
class DownloadWatch:
    """What the poller compares with qBittorrent for one unfinished download."""

    hash: str
    name: str | None
    progress: float
    state: str
    client_state: str | None
    episode_count: int
    has_files: bool
    seeds: int | None = None
    peers: int | None = None


@typing.final
@attrs.frozen(kw_only=True)
class Mail:
    """A durable message: a webhook waiting in the inbox, or a hand-off between actors."""

    id: int
    target: str
    source: str
    kind: str
    body: str
    received_at: float
    attempts: int = 0


@attrs.frozen(kw_only=True)
class DeadLetterFields:
    """What a dead letter keeps: who gave up and why, and what is needed to post it again."""

    at: float
    actor: str
    message: str
    error: str
    mail_id: int | None = None
    target: str | None = None
    source: str | None = None
    kind: str | None = None
    body: str | None = None


@typing.final
@attrs.frozen(kw_only=True)
class DeadLetter(DeadLetterFields):
    """A message no actor could handle, kept for a person to look at."""

    id: int


@typing.final
@attrs.frozen(kw_only=True)
class Accepted:
    """What storing a webhook in the inbox gave."""

    mail_id: int
    duplicate: bool


@typing.final
@attrs.frozen(kw_only=True)
class RequestQuery:
    """Filters of the request list."""

    states: tuple[str, ...] = ()
    media_type: str | None = None
    title_contains: str | None = None
    limit: int = 50
    offset: int = 0
    after: tuple[float, int] | None = None
    """Continue after this (``created_at``, ``id``): the keyset cursor of a previous page."""


@typing.final
@attrs.frozen(kw_only=True)
class StoredNotification:
    """An outbox row not yet sent: what happened, and how delivering it has gone so far."""

    id: int
    notice: Notice
    created_at: float
    attempts: int
    next_attempt_at: float | None
    delivered: str
    last_error: str | None


@typing.final
@attrs.frozen(kw_only=True)
class IncomingMail:
    """A message to store in the inbox unless it is a duplicate.

    ``dedupe_key`` is the one-hour key (a webhook's body hash); ``event_key`` the event's
    identity: the reconciler's catch-up of an event already reported is a duplicate for
    ``EVENT_DEDUPE_WINDOW_S``, a webhook only of a catch-up of the last
    ``LATE_WEBHOOK_WINDOW_S`` (two webhooks of one identity are two events; see ``_store``).
    """

    target: str
    source: str
    kind: str
    body: str
    dedupe_key: str
    event_key: str | None = None


@attrs.frozen(kw_only=True)
class ArrDownloadFields:
    """What Sonarr's or Radarr's queue says of one download, and what the reconciler did."""

    service: str
    download_id: str
    title: str | None
    queue_ids: tuple[int, ...]
    item_ids: tuple[int, ...]
    tracked_state: str | None
    reason: str | None
    size_left: float | None
    stalled: bool
    progress_at: float
    seen_at: float
    action: str | None = None
    acted_at: float | None = None


@typing.final
@attrs.frozen(kw_only=True)
class ArrDownload(ArrDownloadFields):
    """The reconciler's record of one download in Sonarr's or Radarr's queue."""


@attrs.frozen(kw_only=True)
class SessionFields:
    """A dashboard sign-in: the sha256 of its id, never the id itself."""

    id_hash: str
    token_fingerprint: str
    created_at: float
    expires_at: float
    role: str = "admin"
    """``admin`` (signed in with the API token) or ``viewer`` (the view token: read only)."""


@typing.final
@attrs.frozen(kw_only=True)
class StoredSession(SessionFields):
    """A dashboard sign-in as stored: the hash of its id, never the id."""
