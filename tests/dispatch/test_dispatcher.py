"""The dispatcher: replays waiting mail in order, and turns a poison message into a dead letter."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Collection, Hashable, Mapping
from pathlib import Path

import pytest
import trio
from status_tracker.actors.clock import WallClock
from status_tracker.actors.dispatch import actor as dispatch_actor
from status_tracker.actors.dispatch.actor import Dispatcher, Translator
from status_tracker.actors.envelope import deliveries_in
from status_tracker.actors.mail import encode, request_target
from status_tracker.actors.media_request.messages import (
    AvailabilityUnconfirmed,
    DeletionRequested,
    WebhookFact,
)
from status_tracker.actors.runtime import Registry
from status_tracker.ingress.translate import translate
from status_tracker.storage import (
    IncomingMail,
    MarkMailApplied,
    PostMail,
    RetryDeadLetter,
    Store,
    open_store,
)

from status_tracker.domain import RequestRow
from tests.support.fixtures import load_fixture, numbered_movie_request
from tests.support.flaky_database import flaky_store


class Recorder:
    """An actor that records what it applies, all of a delivery in one commit, and explodes on
    a deletion (the poison)."""

    applied: list[tuple[Hashable, object]] = []

    def __init__(self, key: Hashable, store: Store) -> None:
        self.key = key
        self.store = store

    async def handle(self, message: object) -> None:
        deliveries = deliveries_in(message, "Recorder")
        facts = [fact for deliver in deliveries for fact in deliver.messages]
        if any(isinstance(fact, DeletionRequested) for fact in facts):
            raise RuntimeError("poison")
        await self.store.commit(
            [MarkMailApplied(mail_id=d.mail_id, at=1.0) for d in deliveries if d.mail_id]
        )
        Recorder.applied += [(self.key, fact) for fact in facts]


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[Store]:
    async with open_store(sqlite_url) as opened:
        yield opened


def mail(request_id: int, message: object) -> PostMail:
    kind, body = encode(message)
    return PostMail(target=request_target(request_id), source="api", kind=kind, body=body, at=1.0)


async def run_dispatcher(
    store: Store,
    nursery: trio.Nursery,
    *,
    translator: Translator = translate,
    webhook_burst: Callable[[], bool] = lambda: False,
) -> tuple[Dispatcher, Registry]:
    registry = Registry("requests", lambda key: Recorder(key, store), intensity=10, period=1.0)
    await nursery.start(registry.run)
    dispatcher = Dispatcher(
        store=store,
        translate=translator,
        call_request=lambda key, deliver: registry.call(key, deliver),
        call_torrent=lambda key, deliver: registry.call(key, deliver),
        call_services=lambda deliver: registry.call("services", deliver),
        clock=WallClock(),
        max_attempts=3,
        webhook_burst=webhook_burst,
    )
    await nursery.start(dispatcher.run)
    return dispatcher, registry


async def wait_applied(store: Store, dispatcher: Dispatcher, *, handled: int) -> None:
    """Wait until the inbox is empty and the dispatcher has finished ``handled`` rows."""
    with trio.fail_after(10):
        while True:
            finished = dispatcher.dispatched + dispatcher.dead_lettered
            if finished >= handled and not (await store.mail_counts())["pending"]:
                return
            await trio.sleep(0.01)


async def test_waiting_mail_is_replayed_at_start_in_order_for_each_request(store: Store) -> None:
    Recorder.applied = []
    await store.commit([mail(n % 3 + 1, AvailabilityUnconfirmed(reason=f"r{n}")) for n in range(9)])
    async with trio.open_nursery() as nursery:
        dispatcher, registry = await run_dispatcher(store, nursery)
        await wait_applied(store, dispatcher, handled=9)
        assert dispatcher.dispatched == 9
        assert registry.statistics().restarts_in_window == 0
        nursery.cancel_scope.cancel()
    for key in (1, 2, 3):
        reasons = [fact.reason for applied_to, fact in Recorder.applied if applied_to == key]
        assert reasons == [f"r{n}" for n in range(key - 1, 9, 3)]


async def test_while_a_burst_of_webhooks_is_stored_mail_waits_for_its_end(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dispatch_actor, "BURST_WAIT_S", 60.0)
    Recorder.applied = []
    burst = [True]
    async with trio.open_nursery() as nursery:
        dispatcher, _ = await run_dispatcher(store, nursery, webhook_burst=lambda: burst[0])
        await store.commit([mail(1, AvailabilityUnconfirmed(reason=f"r{n}")) for n in range(3)])
        await trio.sleep(0.3)
        assert (await store.mail_counts())["pending"] == 3
        assert Recorder.applied == []
        burst[0] = False
        await wait_applied(store, dispatcher, handled=3)
        nursery.cancel_scope.cancel()
    assert [fact.reason for _, fact in Recorder.applied] == ["r0", "r1", "r2"]


async def test_mail_waits_out_a_burst_no_longer_than_burst_wait_s(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dispatch_actor, "BURST_WAIT_S", 0.3)
    Recorder.applied = []
    async with trio.open_nursery() as nursery:
        dispatcher, _ = await run_dispatcher(store, nursery, webhook_burst=lambda: True)
        await store.commit([mail(n, AvailabilityUnconfirmed(reason=f"r{n}")) for n in (1, 2)])
        await wait_applied(store, dispatcher, handled=2)
        nursery.cancel_scope.cancel()
    assert sorted(fact.reason for _, fact in Recorder.applied) == ["r1", "r2"]


async def test_a_message_that_keeps_crashing_its_actor_becomes_a_dead_letter(store: Store) -> None:
    Recorder.applied = []
    await store.commit(
        [
            mail(1, DeletionRequested()),
            mail(1, AvailabilityUnconfirmed(reason="after the poison")),
        ]
    )
    async with trio.open_nursery() as nursery:
        dispatcher, registry = await run_dispatcher(store, nursery)
        await wait_applied(store, dispatcher, handled=2)
        assert dispatcher.dead_lettered == 1
        assert registry.statistics().restarts_in_window == 3
        nursery.cancel_scope.cancel()
    letters, count = await store.dead_letters()
    assert count == 1
    assert letters[0].actor == "request:1"
    assert "crashed its actor 3 times" in letters[0].error
    assert "DeletionRequested" in letters[0].message
    assert Recorder.applied == [(1, AvailabilityUnconfirmed(reason="after the poison"))]


async def test_unreadable_mail_is_a_dead_letter_at_once(store: Store) -> None:
    await store.commit(
        [PostMail(target="request:1", source="api", kind="NoSuchMessage", body="{}", at=1.0)]
    )
    async with trio.open_nursery() as nursery:
        dispatcher, _ = await run_dispatcher(store, nursery)
        await wait_applied(store, dispatcher, handled=1)
        nursery.cancel_scope.cancel()
    assert dispatcher.dead_lettered == 1
    letters, _ = await store.dead_letters()
    assert letters[0].error.startswith("unreadable")


async def test_a_webhook_is_read_by_the_translator_it_is_replayed_with(store: Store) -> None:
    """Raw bodies are kept: a row one translator refused, a fixed one applies when retried."""
    Recorder.applied = []
    body = json.dumps(load_fixture("jellyseerr/media_auto_approved_movie.json"))
    await store.accept_webhook(
        source="jellyseerr", kind="MEDIA_AUTO_APPROVED", body=body, dedupe_key="k", now=1.0
    )

    def refuse(source: str, body: object, /) -> WebhookFact:
        raise LookupError("this release cannot read it")

    async with trio.open_nursery() as nursery:
        dispatcher, _ = await run_dispatcher(store, nursery, translator=refuse)
        await wait_applied(store, dispatcher, handled=1)
        nursery.cancel_scope.cancel()
    (letter,), _ = await store.dead_letters()
    assert letter.error == "unreadable: this release cannot read it"
    assert Recorder.applied == []

    await store.commit([RetryDeadLetter(dead_letter_id=letter.id, at=2.0)])
    async with trio.open_nursery() as nursery:
        dispatcher, _ = await run_dispatcher(store, nursery)
        await wait_applied(store, dispatcher, handled=1)
        nursery.cancel_scope.cancel()
    assert [(key, type(fact).__name__) for key, fact in Recorder.applied] == [(1, "MediaRequested")]


async def approved_in_turns(store: Store, *, turns: int, movies: int = 20) -> list[IncomingMail]:
    """``movies`` movies approved ``turns`` times over, in turns (each turn a new Jellyseerr
    request for every movie), stored in the inbox."""
    mails = []
    for turn in range(turns):
        for movie in range(movies):
            body = numbered_movie_request(movie, title="Turns", first_tmdb_id=5_000)
            body["request"]["request_id"] = str(1 + turn * movies + movie)
            mails.append(
                IncomingMail(
                    target="dispatch",
                    source="jellyseerr",
                    kind="MEDIA_AUTO_APPROVED",
                    body=json.dumps(body),
                    dedupe_key=f"turn-{turn}-{movie}",
                )
            )
    await store.accept_mail(mails, now=1.0)
    return mails


async def test_a_backlog_cut_into_small_waves_is_looked_up_a_few_times_a_row(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wave looks up the requests of the rows it may take, not the whole page behind it.

    Twenty movies approved twenty-five times over, in turns: each turn is a wave (a movie's
    next approval must see its last applied). Planning the whole page for each wave looked up
    6,500 rows' ids for these 500 rows; a wave plans twice what the last one took (64 at
    least): about 1,500."""
    Recorder.applied = []
    turns = 25
    mails = await approved_in_turns(store, turns=turns)
    looked_up: list[int] = []
    requests_holding = store.requests_holding

    async def counted(values: Mapping[str, Collection[object]]) -> list[RequestRow]:
        looked_up.append(len(values.get("tmdb_id", ())))
        return await requests_holding(values)

    monkeypatch.setattr(store, "requests_holding", counted)
    async with trio.open_nursery() as nursery:
        dispatcher, _ = await run_dispatcher(store, nursery)
        await wait_applied(store, dispatcher, handled=len(mails))
        nursery.cancel_scope.cancel()
    assert len(Recorder.applied) == len(mails)
    assert len(looked_up) >= turns  # a wave a turn at least
    assert sum(looked_up) <= 4 * len(mails)


async def test_an_outage_is_waited_out_without_counting_tries_or_dead_letters(
    tmp_path: Path,
) -> None:
    Recorder.applied = []
    async with flaky_store(str(tmp_path / "db.sqlite")) as (store, driver):
        driver.down = True
        async with trio.open_nursery() as nursery:
            dispatcher, _ = await run_dispatcher(store, nursery)
            with trio.move_on_after(0.5):  # the dispatcher keeps waiting; nothing is lost
                await trio.sleep_forever()
            assert dispatcher.dead_lettered == 0
            driver.down = False
            await store.wait_available()
            await store.commit([mail(1, AvailabilityUnconfirmed(reason="during the outage"))])
            driver.down = True
            with trio.move_on_after(0.5):
                await trio.sleep_forever()
            driver.down = False
            # The store fails fast until its probe finds the database back: wait for that,
            # or reading the inbox below races the probe.
            await store.wait_available()
            await wait_applied(store, dispatcher, handled=1)
            nursery.cancel_scope.cancel()
    assert Recorder.applied == [(1, AvailabilityUnconfirmed(reason="during the outage"))]
    assert dispatcher.dead_lettered == 0
