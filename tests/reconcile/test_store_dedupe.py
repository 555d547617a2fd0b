"""The inbox's dedupe rule on both backends: one event, whoever reports it first, is one mail."""

from __future__ import annotations

import trio
from status_tracker.storage import (
    DEDUPE_WINDOW_S,
    EVENT_DEDUPE_WINDOW_S,
    Accepted,
    IncomingMail,
    SetSetting,
    Store,
)


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
    # A different body of the same event (a resent webhook) is a duplicate too.
    third = await store.accept_webhook(
        source="sonarr", kind="Grab", body='{"a": 2}', dedupe_key="body-2", now=20.0,
        event_key="event:grab",
    )  # fmt: skip
    assert third.duplicate
    assert (await store.mail_counts())["webhooks"] == 1


async def test_history_first_then_the_webhook_is_one_mail(store: Store) -> None:
    (first,) = await store.accept_mail(
        [caught_up("event:import")], now=0.0, ops=[SetSetting(key="cursor", value="7")]
    )
    assert not first.duplicate
    assert await store.get_setting("cursor") == "7"
    late = await store.accept_webhook(
        source="sonarr", kind="Download", body="{}", dedupe_key="body", now=DEDUPE_WINDOW_S * 5,
        event_key="event:import",
    )  # fmt: skip
    assert late.duplicate


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
    by statement for all of them): an event or a body that comes twice in the burst is still
    stored once, and the repeat is told which mail holds it."""
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
    assert sorted(number % 10 for number in kept) == list(range(10)), "one mail per event"
    for number, answer in answers.items():
        (keeper,) = [a for n, a in kept.items() if n % 10 == number % 10]
        assert answer.mail_id == keeper.mail_id
    assert (await store.mail_counts())["webhooks"] == 10
