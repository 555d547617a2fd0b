"""Failures stay where they belong: a bad write fails alone; an outage fails fast, then ends."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
import trio
import trio_asyncio
from status_tracker.storage import (
    DatabaseUnavailable,
    IncomingMail,
    SaveRequest,
    StorageError,
    Store,
    open_store,
)
from status_tracker.storage._postgres import PostgresDriver, _one_statement
from status_tracker.storage._store import _accept_in_one_call, _accept_statements

from tests.storage.test_contract import movie
from tests.support.flaky_database import flaky_store

DEADLINE_S = 10


async def test_values_the_driver_cannot_take_fail_only_their_own_write(store: Store) -> None:
    await bad_values_fail_only_their_own_write(store)


async def bad_values_fail_only_their_own_write(store: Store) -> None:
    """Three good writes and two the driver refuses, sharing transactions: only the two fail."""
    good = [movie(1), movie(4), movie(5)]
    bad = [
        movie(2, tmdb_id=2**63),  # past a signed 64-bit column: OverflowError / DataError
        movie(3, title="lone \ud800 surrogate"),  # UTF-8 cannot encode it
    ]
    outcomes: dict[int, str] = {}

    async def save(row: object) -> None:
        try:
            await store.commit([SaveRequest(row=row)])  # type: ignore[arg-type]
            outcomes[row.id] = "stored"  # type: ignore[attr-defined]
        except StorageError:
            outcomes[row.id] = "refused"  # type: ignore[attr-defined]

    async with trio.open_nursery() as nursery:
        for row in (good[0], bad[0], good[1], bad[1], good[2]):
            nursery.start_soon(save, row)
    assert outcomes == {1: "stored", 2: "refused", 3: "refused", 4: "stored", 5: "stored"}
    assert store.writer_statistics().largest_batch > 1, "the writes should share a transaction"
    for row in good:
        assert await store.load_request(row.id) == row
    for row in bad:
        assert await store.load_request(row.id) is None
    assert store.available


async def test_a_webhook_the_database_refuses_in_a_burst_fails_alone_and_the_rest_once(
    store: Store,
) -> None:
    # A burst's webhooks are alike: PostgreSQL gets them in one pipelined call. One it refuses
    # there (a lone surrogate fails as it is encoded, midway; a NUL as the server reads it)
    # must take none of the others with it, nor store any twice.
    refused_bodies = ['{"t": "\ud800"}']
    if store.dialect == "postgresql":
        refused_bodies.append('{"t": "\x00"}')
    bodies = [f'{{"n": {n}}}' for n in range(6)]
    bodies[2:2] = refused_bodies
    outcomes: dict[str, str] = {}

    async def accept(body: str) -> None:
        try:
            accepted = await store.accept_webhook(
                source="radarr", kind="Grab", body=body, dedupe_key=body, now=1.0
            )
            # Stored by a first try that was not rolled back, it would be its own duplicate.
            outcomes[body] = "duplicate" if accepted.duplicate else "stored"
        except StorageError:
            outcomes[body] = "refused"

    async with trio.open_nursery() as nursery:
        for body in bodies:
            nursery.start_soon(accept, body)
    assert outcomes == {body: "refused" if body in refused_bodies else "stored" for body in bodies}
    assert store.writer_statistics().largest_batch > 1, "the webhooks should share a transaction"
    stored = await store.fetch("SELECT body FROM mail ORDER BY id")
    assert sorted(row["body"] for row in stored) == sorted(set(bodies) - set(refused_bodies))


async def test_during_an_outage_reads_and_writes_fail_fast_and_it_ends_alone(
    tmp_path: Path,
) -> None:
    async with flaky_store(str(tmp_path / "db.sqlite")) as (store, driver):
        await store.commit([SaveRequest(row=movie(1))])
        driver.down = True
        with pytest.raises(DatabaseUnavailable):
            await store.commit([SaveRequest(row=movie(2))])
        assert not store.available
        assert store.outage_statistics().reason is not None
        calls = driver.calls
        with pytest.raises(DatabaseUnavailable):
            await store.load_request(1)
        with pytest.raises(DatabaseUnavailable):
            await store.commit([SaveRequest(row=movie(3))])
        assert driver.calls - calls <= 2, "while down, calls should not wait on the database"

        driver.down = False
        with trio.fail_after(DEADLINE_S):
            await store.wait_available()
        assert store.available
        assert store.outage_statistics().outages == 1
        await store.commit([SaveRequest(row=movie(2))])
        assert await store.load_request(1) == movie(1)
        assert await store.load_request(2) == movie(2)


async def test_a_write_cancelled_before_it_is_queued_is_not_stored(store: Store) -> None:
    with trio.CancelScope() as scope:
        scope.cancel()
        await store.commit([SaveRequest(row=movie(1))])
    await store.commit([SaveRequest(row=movie(2))])  # queued after it: the writer has moved on
    assert await store.load_request(1) is None
    assert await store.load_request(2) == movie(2)


def grab(body: str) -> IncomingMail:
    """A Radarr grab's mail, its body its own dedupe key."""
    return IncomingMail(target="dispatch", source="radarr", kind="Grab", body=body, dedupe_key=body)


def refused_texts(store: Store) -> list[str]:
    """Text the backend refuses: a lone surrogate (asyncpg cannot encode it, SQLite cannot
    store it), and on PostgreSQL a NUL (the server refuses it as it reads it)."""
    return ["\ud800", "\x00"] if store.dialect == "postgresql" else ["\ud800"]


async def apply_with_one_refused(store: Store, bodies: list[str], refused_at: int) -> None:
    """Hand the driver the webhooks of ``bodies`` as one batch, in order: the one at
    ``refused_at`` fails alone, each other is stored as new (not as its own duplicate, which it
    would be had it committed, then run again one by one)."""
    accept = _accept_in_one_call if store.dialect == "postgresql" else _accept_statements
    items = [accept(grab(body), 1.0) for body in bodies]
    results = await store._driver.apply([statements for statements, _, _ in items])
    assert isinstance(results[refused_at], Exception)
    for place, ((_, inserted, _), result) in enumerate(zip(items, results, strict=True)):
        if place != refused_at:
            assert not isinstance(result, Exception), f"webhook {place}: {result!r}"
            assert result[inserted][0]["id"] is not None, f"webhook {place} stored as new"


async def test_a_batch_refused_midway_stores_the_rest_once_as_new(store: Store) -> None:
    # The driver's own view of a burst: its webhooks in one batch, a refused one among them.
    # PostgreSQL sends them as one pipelined statement without BEGIN and COMMIT; were it not one
    # transaction, the webhooks before the refused one would commit, then be run again.
    expected: list[str] = []
    for batch, refused_text in enumerate(refused_texts(store)):
        good = [f'{{"batch": {batch}, "n": {n}}}' for n in range(3)]
        await apply_with_one_refused(store, [*good[:2], f'{{"t": "{refused_text}"}}', good[2]], 2)
        expected += good
    stored = await store.fetch("SELECT body FROM mail ORDER BY id")
    assert [row["body"] for row in stored] == expected


async def test_a_refused_webhook_past_the_first_buffers_of_a_big_batch_takes_none_along(
    store: Store,
) -> None:
    # asyncpg writes a pipeline in 128 kB pieces, the Sync after the last: a webhook the server
    # refuses in a later piece (after the earlier pieces' webhooks ran) or that asyncpg cannot
    # encode leaves none of the others committed, so each is stored once.
    padding = "x" * 20_000
    expected: list[str] = []
    for batch, refused_text in enumerate(refused_texts(store)):
        bodies = [f'{{"batch": {batch}, "n": {n}, "pad": "{padding}"}}' for n in range(12)]
        bodies[9] = f'{{"batch": {batch}, "t": "{refused_text}"}}'
        await apply_with_one_refused(store, bodies, 9)
        expected += bodies[:9] + bodies[10:]
    stored = await store.fetch("SELECT body FROM mail ORDER BY id")
    assert [row["body"] for row in stored] == expected


@pytest.mark.postgresql
async def test_a_batch_whose_rows_fail_to_decode_after_it_committed_fails_each_stored_once(
    postgres_url: str,
) -> None:
    # The one failure that can come after a pipeline's commit: a row the driver cannot decode.
    # Each webhook is told it failed (its sender's retry finds it stored, a duplicate), none is
    # stored twice, and the failure is not raised for the whole batch (the store would run each
    # write again).
    async with open_store(postgres_url):
        pass  # the schema, with accept_mail()
    connection = await trio_asyncio.aio_as_trio(asyncpg.connect)(postgres_url)
    try:

        def undecodable(_: str) -> int:
            raise ValueError("this client cannot read the id")

        await trio_asyncio.aio_as_trio(connection.set_type_codec)(
            "int8", encoder=str, decoder=undecodable, schema="pg_catalog", format="text"
        )
        bodies = [f'{{"n": {n}}}' for n in range(3)]
        calls = [_accept_in_one_call(grab(body), 1.0)[0][0] for body in bodies]
        one = _one_statement([[call] for call in calls])
        assert one is not None
        results = await trio_asyncio.aio_as_trio(PostgresDriver._apply_in_transaction)(
            connection, [[call] for call in calls]
        )
        assert all(isinstance(result, ValueError) for result in results)
        stored = await trio_asyncio.aio_as_trio(connection.fetch)(
            "SELECT body FROM mail ORDER BY id"
        )
        assert [row["body"] for row in stored] == bodies
    finally:
        await trio_asyncio.aio_as_trio(connection.close)()
