"""The outbox in the store, on both backends: queue, dedupe, mark sent, retry, give up, prune."""

from __future__ import annotations

from status_tracker.storage import (
    GiveUpNotifications,
    MarkNotificationsSent,
    PruneNotifications,
    QueueNotification,
    RecordNotificationAttempt,
    SaveRequest,
    Store,
)

from status_tracker.domain import Notice, RequestRow


def queue(request_id: int, *, at: float, episode: int | None = None, **kw: object):
    notice = Notice(
        request_id=request_id,
        kind=kw.pop("kind", "available"),
        media_type="tv" if episode else "movie",
        title="Horimiya",
        year=2021,
        season=1 if episode else None,
        episode=episode,
        **kw,
    )
    return QueueNotification(notice=notice, at=at)


async def test_queued_rows_are_pending_in_order_with_every_field(store: Store) -> None:
    told = queue(
        3, at=10.0, episode=1, detail="why", requested_by="Ann", jellyfin_id="j", dedupe_key="k"
    )
    await store.commit(
        [
            SaveRequest(row=RequestRow(id=3, media_type="tv", title="Horimiya")),
            told,
            queue(3, at=10.0, episode=2),
        ]
    )
    first, second = await store.pending_notifications()
    assert first.notice == told.notice
    assert (first.created_at, first.attempts, first.delivered) == (10.0, 0, "")
    assert second.id > first.id
    assert await store.notification_counts() == {
        "pending": 2,
        "retrying": 0,
        "sent": 0,
        "failed": 0,
    }


async def test_a_dedupe_key_is_queued_once(store: Store) -> None:
    await store.commit([queue(1, at=1.0, kind="stuck", dedupe_key="stuck:1")])
    await store.commit([queue(1, at=2.0, kind="stuck", dedupe_key="stuck:1")])
    await store.commit([queue(1, at=3.0), queue(1, at=3.0)])  # no key: both kept
    assert len(await store.pending_notifications()) == 3


async def test_attempts_sent_and_given_up_rows_leave_the_pending_list(store: Store) -> None:
    await store.commit([queue(1, at=1.0), queue(2, at=1.0), queue(3, at=1.0)])
    one, two, three = (row.id for row in await store.pending_notifications())
    await store.commit(
        [RecordNotificationAttempt(ids=(one,), delivered="aa", error="down", next_attempt_at=9.5)]
    )
    (retrying, *_rest) = await store.pending_notifications()
    assert (retrying.attempts, retrying.delivered, retrying.last_error) == (1, "aa", "down")
    assert retrying.next_attempt_at == 9.5
    assert (await store.notification_counts())["retrying"] == 1
    await store.commit([MarkNotificationsSent(ids=(one, two), at=20.0, delivered="aa,bb")])
    await store.commit([GiveUpNotifications(ids=(three,), at=30.0, error="too old")])
    assert await store.pending_notifications() == []
    assert await store.notification_counts() == {
        "pending": 0,
        "retrying": 0,
        "sent": 2,
        "failed": 1,
    }
    await store.commit([PruneNotifications(before=25.0)])
    assert await store.notification_counts() == {
        "pending": 0,
        "retrying": 0,
        "sent": 0,
        "failed": 1,
    }


async def test_queueing_a_notification_wakes_the_notifier(store: Store) -> None:
    woken = store.notifications_queued.next_pulse()
    await store.commit([queue(1, at=1.0)])
    assert woken.is_set()
