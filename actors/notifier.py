"""The notifier: delivers the notification outbox, with retries, and never blocks anything else.

Rows reach the outbox in the transaction of the change they report (see the RequestActor), so
none is lost to a crash. This loop reads them, batches them (``notification_batches``), sends
each batch to every target that does not have it yet, and then, in a transaction of its own,
marks the rows sent or records the failure and the time of the next try (exponential backoff).

Delivery is at least once per target: a crash after a target took a message and before the
mark committed sends that one message again after the restart. That window is one send plus one
small write; nothing else can repeat a message, because retries skip the targets a batch's rows
record as delivered. A target that is down delays only its own messages; an error of any kind
while delivering a batch is recorded as a failed attempt, never a crash of the service.
"""

from __future__ import annotations

import logging
import typing
from collections.abc import Mapping, Sequence

import attrs
import trio
from status_tracker.clients import ClientError
from status_tracker.clients.apprise_notifier import fingerprint, redact_notify_url
from status_tracker.storage import (
    DatabaseUnavailable,
    GiveUpNotifications,
    MarkNotificationsSent,
    PruneNotifications,
    QueueNotification,
    RecordNotificationAttempt,
    Store,
    StoredNotification,
)

from status_tracker.domain import Notice
from status_tracker.strict import storable

from .clock import WallClock
from .notification_batches import (
    BACKOFF_FIRST_S,
    Batch,
    Queued,
    backoff,
    compose,
    expired,
    plan,
)
from .notify import NotificationRequested, Notifier

logger = logging.getLogger(__name__)

DEFAULT_WINDOW_S = 30.0
MAX_WAIT_FACTOR = 10
"""A group still growing is sent anyway once its oldest notice waited ten windows."""
IDLE_RECHECK_S = 60.0
KEEP_FINISHED_S = 30 * 24 * 3600.0
PRUNE_EVERY_S = 3600.0

TEST_NOTIFICATION = NotificationRequested(
    kind="test",
    title="status-tracker test notification",
    body="If you can read this, status-tracker's notifications reach this target.",
)


def queue_op(notice: Notice, *, at: float) -> QueueNotification:
    """The outbox write for ``notice``, to commit with the change it reports."""
    return QueueNotification(notice=notice, at=float(at))


@typing.final
@attrs.frozen(kw_only=True)
class TestResult:
    """How sending the test message to one target went (its URL redacted)."""

    url: str
    ok: bool
    error: str | None = None


@typing.final
@attrs.frozen(kw_only=True)
class NotifierStatistics:
    """What the notifier did since start (the outbox counts come from the database)."""

    targets: int
    messages_sent: int
    delivery_failures: int
    given_up: int
    last_error: str | None
    last_error_at: float | None
    last_sent_at: float | None


@typing.final
class NotificationDelivery:
    """Delivers the outbox to the configured targets; a supervised, permanent task."""

    def __init__(
        self,
        *,
        store: Store,
        notifier: Notifier,
        clock: WallClock,
        urls: Sequence[str],
        users: Mapping[str, Sequence[str]] | None = None,
        window_s: float = DEFAULT_WINDOW_S,
        dashboard_url: str | None = None,
        jellyfin_url: str | None = None,
        retry_first_s: float = BACKOFF_FIRST_S,
    ) -> None:
        self._store = store
        self._notifier = notifier
        self._clock = clock
        self._urls = tuple(dict.fromkeys(urls))
        self._users = {name.casefold(): tuple(targets) for name, targets in (users or {}).items()}
        self._window_s = window_s
        self._max_wait_s = window_s * MAX_WAIT_FACTOR
        self._dashboard_url = dashboard_url
        self._jellyfin_url = jellyfin_url
        self.retry_first_s = retry_first_s
        self._pruned_at: float | None = None
        self.messages_sent = 0
        self.delivery_failures = 0
        self.given_up = 0
        self._last_error: str | None = None
        self._last_error_at: float | None = None
        self._last_sent_at: float | None = None

    @property
    def all_urls(self) -> tuple[str, ...]:
        """Every configured target: the global ones, then each user's."""
        every = [*self._urls, *(url for urls in self._users.values() for url in urls)]
        return tuple(dict.fromkeys(every))

    def targets_for(self, requested_by: str | None) -> tuple[str, ...]:
        """The global targets, and the requester's own when ``ST_NOTIFY_USERS`` names them."""
        own = self._users.get(requested_by.casefold(), ()) if requested_by else ()
        return tuple(dict.fromkeys([*self._urls, *own]))

    def statistics(self) -> NotifierStatistics:
        return NotifierStatistics(
            targets=len(self.all_urls),
            messages_sent=self.messages_sent,
            delivery_failures=self.delivery_failures,
            given_up=self.given_up,
            last_error=self._last_error,
            last_error_at=self._last_error_at,
            last_sent_at=self._last_sent_at,
        )

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        while True:
            queued = self._store.notifications_queued.next_pulse()
            try:
                next_due = await self.deliver_due()
                await self._prune()
            except DatabaseUnavailable:
                await self._store.wait_available()
                continue
            delay = IDLE_RECHECK_S
            if next_due is not None:
                delay = min(delay, max(0.0, next_due - self._clock.now()))
            with trio.move_on_after(delay):
                await queued.wait()

    async def deliver_due(self) -> float | None:
        """Send every batch that is due; return when the next waiting one falls due."""
        rows = await self._store.pending_notifications()
        now = self._clock.now()
        outbox = plan(
            (_queued(row) for row in rows),
            now=now,
            window=self._window_s,
            max_wait=self._max_wait_s,
        )
        for batch in outbox.ready:
            await self._deliver(batch)
        # After sending, look again at once: a failed batch is due later, more may have come.
        return now if outbox.ready else outbox.next_due

    async def _deliver(self, batch: Batch) -> None:
        delivered = set(batch.delivered)
        errors: list[str] = []
        try:
            message = compose(
                batch, dashboard_url=self._dashboard_url, jellyfin_url=self._jellyfin_url
            )
            for url in self.targets_for(batch.first.requested_by):
                if fingerprint(url) in delivered:
                    continue
                try:
                    await self._notifier.send(url, message)
                except ClientError as exc:
                    logger.warning("notification %r not delivered: %s", message.title, exc)
                    errors.append(storable(exc.reason) or "delivery failed")
                else:
                    delivered.add(fingerprint(url))
        except Exception as exc:  # a bug must cost one notification a retry, never the service
            logger.error("notification batch %s could not be delivered", batch.ids, exc_info=exc)
            errors.append(f"internal error: {type(exc).__name__}")
        now = self._clock.now()
        marked = ",".join(sorted(delivered))
        if not errors:
            await self._store.commit(
                [MarkNotificationsSent(ids=batch.ids, at=now, delivered=marked)]
            )
            self.messages_sent += 1
            self._last_sent_at = now
            return
        self.delivery_failures += len(errors)
        self._last_error, self._last_error_at = "; ".join(errors)[:500], now
        if expired(batch, now=now):
            logger.warning("giving up notification batch %s: %s", batch.ids, self._last_error)
            self.given_up += 1
            await self._store.commit(
                [GiveUpNotifications(ids=batch.ids, at=now, error=self._last_error)]
            )
            return
        await self._store.commit(
            [
                RecordNotificationAttempt(
                    ids=batch.ids,
                    delivered=marked,
                    error=self._last_error,
                    next_attempt_at=now + backoff(batch.attempts + 1, first=self.retry_first_s),
                )
            ]
        )

    async def _prune(self) -> None:
        now = self._clock.now()
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY_S:
            return
        await self._store.commit([PruneNotifications(before=now - KEEP_FINISHED_S)])
        self._pruned_at = now

    async def send_test(self) -> list[TestResult]:
        """Send the test message to every configured target now (not through the outbox)."""
        results: list[TestResult] = []
        for url in self.all_urls:
            try:
                await self._notifier.send(url, TEST_NOTIFICATION)
            except ClientError as exc:
                results.append(
                    TestResult(url=redact_notify_url(url), ok=False, error=storable(exc.reason))
                )
            else:
                results.append(TestResult(url=redact_notify_url(url), ok=True))
        return results


def _queued(row: StoredNotification) -> Queued:
    return Queued(
        id=row.id,
        notice=row.notice,
        created_at=row.created_at,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        delivered=frozenset(part for part in row.delivered.split(",") if part),
    )
