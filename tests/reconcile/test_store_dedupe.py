"""The inbox's dedupe rule on both backends: one event reported by a webhook and by the
reconciler, whichever comes first, is one mail; two webhooks are one only with one body."""

from __future__ import annotations

import trio
from status_tracker.storage import (
    DEDUPE_WINDOW_S,
    EVENT_DEDUPE_WINDOW_S,
    Accepted,
    IncomingMail,
    MarkMailApplied,
    PruneMail,
    SetSetting,
    Store,
)
from status_tracker.storage._store import LATE_WEBHOOK_WINDOW_S


def caught_up(key: str) -> IncomingMail:
    return IncomingMail(
        target="dispatch",
        source="sonarr",
        kind="caught_up_grab:EpisodesGrabbed",
        body="{}",
        dedupe_key=key,
        event_key=key,
    )


async def test_a_webhook_then_the_same_event_from_history_is_one_mail(store: Store) -> None:
    first = await store.accept_webhook(
        source="sonarr", kind="Grab", body='{"a": 1}', dedupe_key="body-1", now=0.0,
        event_key="event:grab",
    )  # fmt: skip
    assert not first.duplicate
    (second,) = await store.accept_mail([caught_up("event:grab")], now=10.0)
    assert second.duplicate
    assert second.mail_id == first.mail_id
    # Days later (a tracker that was down reads on from its cursor), still the same event.
    (late,) = await store.accept_mail([caught_up("event:grab")], now=EVENT_DEDUPE_WINDOW_S - 1)
    assert late.duplicate
    assert late.mail_id == first.mail_id
    assert (await store.mail_counts())["webhooks"] == 1


async def test_webhooks_with_one_event_identity_and_other_bodies_are_other_events(
    store: Store,
) -> None:
    """Radarr grabs the same release (one infohash) again after its file was deleted: that
    webhook names the same download and movie as the first grab, and is applied all the same.
    The history rows of either grab, read later, are duplicates."""
    first = await store.accept_webhook(
        source="radarr", kind="Grab", body='{"indexer": "A"}', dedupe_key="body-1", now=0.0,
        event_key="event:grab",
    )  # fmt: skip
    again = await store.accept_webhook(
        source="radarr", kind="Grab", body='{"indexer": "B"}', dedupe_key="body-2", now=20.0,
        event_key="event:grab",
    )  # fmt: skip
    assert not first.duplicate
    assert not again.duplicate
    assert again.mail_id != first.mail_id
    # An identical body within the hour is one delivery, as ever.
    resent = await store.accept_webhook(
        source="radarr", kind="Grab", body='{"indexer": "A"}', dedupe_key="body-1", now=30.0,
        event_key="event:grab",
    )  # fmt: skip
    assert resent.duplicate
    assert resent.mail_id == first.mail_id
    rows = await store.accept_mail([caught_up("event:grab"), caught_up("event:grab")], now=300.0)
    assert [row.duplicate for row in rows] == [True, True]
    assert (await store.mail_counts())["webhooks"] == 2


async def test_history_first_then_the_webhook_is_one_mail(store: Store) -> None:
    (first,) = await store.accept_mail(
        [caught_up("event:import")], now=0.0, ops=[SetSetting(key="cursor", value="7")]
    )
    assert not first.duplicate
    assert await store.get_setting("cursor") == "7"
    # The webhook of an event comes when it happens: after the reconciler read the event, only
    # if its delivery was late (seconds; a sender retrying through a proxy: minutes).
    late = await store.accept_webhook(
        source="sonarr", kind="Download", body="{}", dedupe_key="body",
        now=LATE_WEBHOOK_WINDOW_S - 1, event_key="event:import",
    )  # fmt: skip
    assert late.duplicate
    assert late.mail_id == first.mail_id


async def test_a_webhook_long_after_the_reconcilers_report_is_the_event_again(
    store: Store,
) -> None:
    """On a first start the reconciler catches up a grab Radarr made days ago; when the file
    is deleted and Radarr grabs the same release again, that webhook is a new event."""
    (caught,) = await store.accept_mail([caught_up("event:grab")], now=0.0)
    again = await store.accept_webhook(
        source="radarr", kind="Grab", body="{}", dedupe_key="body",
        now=LATE_WEBHOOK_WINDOW_S + 1, event_key="event:grab",
    )  # fmt: skip
    assert not again.duplicate
    assert again.mail_id != caught.mail_id
    # Its own history row, read afterwards, matches it.
    (row,) = await store.accept_mail([caught_up("event:grab")], now=LATE_WEBHOOK_WINDOW_S + 60)
    assert row.duplicate
    assert row.mail_id == again.mail_id


async def test_a_webhook_after_the_reports_mail_was_pruned_is_stored(store: Store) -> None:
    """The reconciler's mail is pruned two hours after it was applied: a webhook with its
    event's identity then is the event again, as it is past ``LATE_WEBHOOK_WINDOW_S``."""
    (caught,) = await store.accept_mail([caught_up("event:x")], now=0.0)
    await store.commit([MarkMailApplied(mail_id=caught.mail_id, at=1.0)])
    await store.commit([PruneMail(before=2 * DEDUPE_WINDOW_S)])
    webhook = await store.accept_webhook(
        source="sonarr", kind="Grab", body="{}", dedupe_key="b", now=2 * DEDUPE_WINDOW_S + 1,
        event_key="event:x",
    )  # fmt: skip
    assert not webhook.duplicate


async def test_event_keys_expire_and_bodies_keep_their_hour(store: Store) -> None:
    await store.accept_mail([caught_up("event:x")], now=0.0)
    (again,) = await store.accept_mail([caught_up("event:x")], now=EVENT_DEDUPE_WINDOW_S + 1)
    assert not again.duplicate
    plain = await store.accept_webhook(
        source="radarr", kind="Test", body="{}", dedupe_key="b", now=0.0
    )
    repeat = await store.accept_webhook(
        source="radarr", kind="Test", body="{}", dedupe_key="b", now=10.0
    )
    assert not plain.duplicate
    assert repeat.duplicate
    later = await store.accept_webhook(
        source="radarr", kind="Test", body="{}", dedupe_key="b", now=DEDUPE_WINDOW_S + 1
    )
    assert not later.duplicate


async def test_several_mails_in_one_transaction(store: Store) -> None:
    results = await store.accept_mail(
        [caught_up("event:1"), caught_up("event:2"), caught_up("event:1")], now=0.0
    )
    assert [r.duplicate for r in results] == [False, False, True]
    assert results[2].mail_id == results[0].mail_id


async def test_a_burst_with_repeated_events_and_bodies_keeps_one_mail_each(store: Store) -> None:
    """Webhooks arriving together share transactions (and, on PostgreSQL, are sent statement
    by statement for all of them): a body that comes twice in the burst is stored once, and the
    repeat is told which mail holds it; bodies of one event identity are each stored. The
    reconciler's reports of those events, together, are all duplicates."""
    answers: dict[int, Accepted] = {}

    async def webhook(number: int) -> None:
        event = number % 10  # ten events, each reported three times
        body = number % 20  # two of those three with the same body
        answers[number] = await store.accept_webhook(
            source="sonarr", kind="Grab", body=f'{{"n": {body}}}', dedupe_key=f"body-{body}",
            now=float(number) / 100, event_key=f"event:{event}",
        )  # fmt: skip

    async with trio.open_nursery() as nursery:
        for number in range(30):
            nursery.start_soon(webhook, number)
    assert store.writer_statistics().largest_batch > 1, "the burst should share transactions"
    kept = {number: a for number, a in answers.items() if not a.duplicate}
    assert sorted(number % 20 for number in kept) == list(range(20)), "one mail per body"
    for number, answer in answers.items():
        (keeper,) = [a for n, a in kept.items() if n % 20 == number % 20]
        assert answer.mail_id == keeper.mail_id
    assert (await store.mail_counts())["webhooks"] == 20

    reports: dict[int, Accepted] = {}

    async def report(number: int) -> None:
        (reports[number],) = await store.accept_mail([caught_up(f"event:{number % 10}")], now=1.0)

    async with trio.open_nursery() as nursery:
        for number in range(20):
            nursery.start_soon(report, number)
    assert all(r.duplicate for r in reports.values())
    assert (await store.mail_counts())["webhooks"] == 20


async def test_reports_in_a_burst_keep_one_mail_per_event(store: Store) -> None:
    """The reconciler's reports of one event, stored together, are one mail."""
    answers: dict[int, Accepted] = {}

    async def report(number: int) -> None:
        (answers[number],) = await store.accept_mail(
            [caught_up(f"event:{number % 10}")], now=float(number) / 100
        )

    async with trio.open_nursery() as nursery:
        for number in range(30):
            nursery.start_soon(report, number)
    kept = {number: a for number, a in answers.items() if not a.duplicate}
    assert sorted(number % 10 for number in kept) == list(range(10)), "one mail per event"
    for number, answer in answers.items():
        (keeper,) = [a for n, a in kept.items() if n % 10 == number % 10]
        assert answer.mail_id == keeper.mail_id
