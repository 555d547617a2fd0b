"""Both backends store and deduplicate webhooks alike: SQLite runs the inbox's statements
itself, PostgreSQL calls ``accept_mail()`` (migration 18), which runs them on the server.

Random sequences of mail (a few bodies and event keys, some without one, and the reconciler's
reports keyed by their event alone), each step one call or a burst of concurrent calls, with the
clock moved past each window now and then, give each backend's answers; they must be the same,
mail for mail."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from status_tracker.storage import (
    DEDUPE_WINDOW_S,
    EVENT_DEDUPE_WINDOW_S,
    Accepted,
    IncomingMail,
    Store,
    open_store,
)
from status_tracker.storage._store import LATE_WEBHOOK_WINDOW_S

Mail = tuple[int | None, int | None]
"""A body's number and its event key's (None: no event key); no body: the reconciler's report
of that event (keyed by it alone)."""
Step = tuple[str, list[Mail], float]
"""One call of ``accept_mail`` with the mails, or a burst of one call per mail; then the clock
moves on by the float."""

MAILS = st.tuples(st.integers(0, 2), st.none() | st.integers(0, 2)) | st.tuples(
    st.none(), st.integers(0, 2)
)
BURSTS = (
    st.lists(st.integers(0, 3), min_size=1, max_size=4, unique=True)
    .flatmap(
        # Concurrent calls share transactions; which of two with one key goes first is the
        # scheduler's choice, so a burst's mails have keys of their own: a body each, and no event
        # key or their body's number as one (which mails of other steps may share).
        lambda bodies: st.tuples(
            *(st.tuples(st.just(body), st.sampled_from([None, body])) for body in bodies)
        )
    )
    .map(list)
)
LATER = st.sampled_from(
    [
        0.0,
        1.0,
        LATE_WEBHOOK_WINDOW_S,
        LATE_WEBHOOK_WINDOW_S + 1,
        DEDUPE_WINDOW_S,
        DEDUPE_WINDOW_S + 1,
        EVENT_DEDUPE_WINDOW_S,
        EVENT_DEDUPE_WINDOW_S + 1,
    ]
)
STEPS = st.lists(
    st.tuples(st.just("call"), st.lists(MAILS, min_size=1, max_size=4), LATER)
    | st.tuples(st.just("burst"), BURSTS, LATER),
    min_size=1,
    max_size=8,
)


def incoming(prefix: str, body: int | None, event: int | None) -> IncomingMail:
    if body is None:
        assert event is not None
        return IncomingMail(
            target="dispatch",
            source="sonarr",
            kind="caught_up_grab:EpisodesGrabbed",
            body="{}",
            dedupe_key=f"{prefix}event-{event}",
            event_key=f"{prefix}event-{event}",
        )
    return IncomingMail(
        target="dispatch",
        source="sonarr",
        kind="Grab",
        body=f'{{"body": {body}}}',
        dedupe_key=f"{prefix}body-{body}",
        event_key=None if event is None else f"{prefix}event-{event}",
    )


async def burst(store: Store, mails: Sequence[IncomingMail], now: float) -> list[Accepted]:
    """One call per mail, all at once; their answers in the mails' order."""
    got: dict[int, Accepted] = {}

    async def accept(place: int, mail: IncomingMail) -> None:
        (got[place],) = await store.accept_mail([mail], now=now)

    async with trio.open_nursery() as nursery:
        for place, mail in enumerate(mails):
            nursery.start_soon(accept, place, mail)
    return [got[place] for place in range(len(mails))]


async def play(store: Store, prefix: str, steps: Sequence[Step]) -> list[tuple[bool, int]]:
    """Each mail's answer: whether it was a duplicate, and which earlier mail (by its place
    in the sequence) was stored under the id it got."""
    now = 1_000_000.0
    answers: list[Accepted] = []
    for how, mails, later in steps:
        if how == "call":
            answers += await store.accept_mail([incoming(prefix, *mail) for mail in mails], now=now)
        else:
            answers += await burst(store, [incoming(prefix, *mail) for mail in mails], now)
        now += later
    first_place: dict[int, int] = {}
    for place, answer in enumerate(answers):
        first_place.setdefault(answer.mail_id, place)
    return [(answer.duplicate, first_place[answer.mail_id]) for answer in answers]


@pytest.mark.postgresql
async def test_both_backends_accept_and_deduplicate_alike(
    sqlite_url: str, postgres_url: str
) -> None:
    examples = itertools.count()
    async with open_store(sqlite_url) as sqlite, open_store(postgres_url) as postgresql:
        token = trio.lowlevel.current_trio_token()

        @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(steps=STEPS)
        def alike(steps: list[Step]) -> None:
            prefix = f"{next(examples)}:"  # each example's keys are its own
            on_sqlite = trio.from_thread.run(play, sqlite, prefix, steps, trio_token=token)
            on_postgresql = trio.from_thread.run(play, postgresql, prefix, steps, trio_token=token)
            assert on_postgresql == on_sqlite

        await trio.to_thread.run_sync(alike)
