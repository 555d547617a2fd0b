"""Write operations an actor hands to the storage writer; one list of them is one transaction."""

from __future__ import annotations

import typing

import attrs

from status_tracker.domain import (
    DownloadRow,
    EpisodeRow,
    Notice,
    ReplacementWait,
    RequestRow,
    TimelineEntry,
)

from ._records import ArrDownloadFields, DeadLetterFields, SessionFields


@typing.final
@attrs.frozen(kw_only=True)
class SaveRequest:
    row: RequestRow


@typing.final
@attrs.frozen(kw_only=True)
class SaveEpisodes:
    rows: tuple[EpisodeRow, ...]


@typing.final
@attrs.frozen(kw_only=True)
class SaveDownload:
    row: DownloadRow


@typing.final
@attrs.frozen(kw_only=True)
class AppendTimeline:
    entries: tuple[TimelineEntry, ...]


@typing.final
@attrs.frozen(kw_only=True)
class MarkMailApplied:
    """Mark a mail row handled; ``error`` set means it was given up on (a dead letter)."""

    mail_id: int
    at: float
    error: str | None = None


@typing.final
@attrs.frozen(kw_only=True)
class CountMailAttempt:
    mail_id: int


@typing.final
@attrs.frozen(kw_only=True)
class PostMail:
    """Hand a message to another actor durably, in the sender's transaction."""

    target: str
    source: str
    kind: str
    body: str
    at: float


@typing.final
@attrs.frozen(kw_only=True)
class PruneMail:
    """Forget applied mail received before ``before`` (older than the dedupe window)."""

    before: float


@typing.final
@attrs.frozen(kw_only=True)
class RecordDeadLetter(DeadLetterFields):
    """Keep a mail row that could not be applied, with what is needed to post it again."""


@typing.final
@attrs.frozen(kw_only=True)
class RetryDeadLetter:
    """Post a dead letter's mail again as new mail (applied after everything before it)."""

    dead_letter_id: int
    at: float


@typing.final
@attrs.frozen(kw_only=True)
class DiscardDeadLetter:
    dead_letter_id: int


@typing.final
@attrs.frozen(kw_only=True)
class SaveSession(SessionFields):
    """Keep a dashboard sign-in: the sha256 of its id, never the id itself."""


@typing.final
@attrs.frozen(kw_only=True)
class EndSession:
    id_hash: str


@typing.final
@attrs.frozen(kw_only=True)
class PruneSessions:
    """Forget sessions expired by ``now`` or granted under a token no longer in use."""

    now: float
    token_fingerprint: str
    also_kept: tuple[str, ...] = ()
    """Fingerprints of the other tokens in use (the view token's)."""


@typing.final
@attrs.frozen(kw_only=True)
class SetSetting:
    key: str
    value: str


@typing.final
@attrs.frozen(kw_only=True)
class QueueNotification:
    """Put a notice in the outbox (in the transaction of the change it reports).

    A notice whose ``dedupe_key`` is already in the outbox is not queued again.
    """

    notice: Notice
    at: float


@typing.final
@attrs.frozen(kw_only=True)
class SaveArrDownload(ArrDownloadFields):
    """What Sonarr's or Radarr's queue says of one download (the reconciler's own row)."""


@typing.final
@attrs.frozen(kw_only=True)
class ForgetArrDownload:
    """The download left the *arr's queue."""

    service: str
    download_id: str


@typing.final
@attrs.frozen(kw_only=True)
class RecordLibraryNudge:
    """A library refresh was asked of Jellyfin for a request waiting since ``since``."""

    request_id: int
    since: float
    at: float
    detail: str


@typing.final
@attrs.frozen(kw_only=True)
class MarkNotificationsSent:
    """Every target has these outbox rows: they are done."""

    ids: tuple[int, ...]
    at: float
    delivered: str


@typing.final
@attrs.frozen(kw_only=True)
class RecordNotificationAttempt:
    """Delivering these rows failed (for some targets): remember who has them, try again later."""

    ids: tuple[int, ...]
    delivered: str
    error: str
    next_attempt_at: float


@typing.final
@attrs.frozen(kw_only=True)
class GiveUpNotifications:
    """Stop trying to deliver these rows (too old to be worth telling)."""

    ids: tuple[int, ...]
    at: float
    error: str


@typing.final
@attrs.frozen(kw_only=True)
class PruneNotifications:
    """Forget sent and given-up outbox rows finished before ``before``."""

    before: float


@typing.final
@attrs.frozen(kw_only=True)
class PruneEventKeys:
    """Forget event identities recorded before ``before``."""

    before: float


@typing.final
@attrs.frozen(kw_only=True)
class SaveReplacementWait:
    """Recovery's wait for the replacement of a download it blocklisted, as it stands now."""

    wait: ReplacementWait


@typing.final
@attrs.frozen(kw_only=True)
class PruneReplacementWaits:
    """Forget ``service``'s waits settled before ``settled_before``."""

    service: str
    settled_before: float


Op = (
    SaveRequest
    | SaveEpisodes
    | SaveDownload
    | AppendTimeline
    | MarkMailApplied
    | CountMailAttempt
    | PostMail
    | PruneMail
    | RecordDeadLetter
    | RetryDeadLetter
    | DiscardDeadLetter
    | SaveSession
    | EndSession
    | PruneSessions
    | SetSetting
    | QueueNotification
    | MarkNotificationsSent
    | RecordNotificationAttempt
    | GiveUpNotifications
    | PruneNotifications
    | SaveArrDownload
    | ForgetArrDownload
    | RecordLibraryNudge
    | PruneEventKeys
    | SaveReplacementWait
    | PruneReplacementWaits
)
