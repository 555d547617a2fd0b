"""Alike items of a transaction run together, each statement once for all of them, without
changing what any item runs or in which order; on PostgreSQL, a failing item still fails alone.
"""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st
from status_tracker.storage import SaveRequest, Store
from status_tracker.storage._sql import Statement, alike_items, statements_for

from tests.storage.test_contract import movie

SQL = [
    "INSERT INTO requests (id) VALUES (?)",
    "INSERT INTO timeline (request_id) VALUES (?)",
    "UPDATE mail SET applied_at = ? WHERE id = ?",
    "UPDATE request_ids SET last_id = last_id + ? RETURNING last_id",
    "SELECT id FROM requests WHERE id = ?",
]
statement = st.tuples(st.sampled_from(SQL), st.tuples(st.integers(0, 9)))
shapes = st.lists(st.lists(st.sampled_from(SQL), max_size=4), min_size=1, max_size=3)


@st.composite
def transactions(draw: st.DrawFn) -> list[list[Statement]]:
    """Items drawn from a few shapes, so that alike neighbours are common."""
    kinds = draw(shapes)
    items = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(kinds))
        items.append([(sql, (draw(st.integers(0, 9)),)) for sql in kind])
    return items


def _shape(item: list[Statement]) -> tuple[str, ...]:
    return tuple(sql for sql, _ in item)


def _returns_rows(item: list[Statement]) -> bool:
    return any(sql.startswith("SELECT") or "RETURNING" in sql for sql in _shape(item))


@given(transactions())
def test_runs_keep_every_item_whole_and_in_order(items: list[list[Statement]]) -> None:
    runs = [list(run) for run in alike_items(items)]
    assert [item for run in runs for item in run] == items
    for run in runs:
        assert len({_shape(item) for item in run}) == 1, "a run's items run the same statements"
        if len(run) > 1:
            assert not any(_returns_rows(item) for item in run), "rows keep their item"


@given(transactions())
def test_runs_are_as_long_as_they_can_be(items: list[list[Statement]]) -> None:
    runs = [list(run) for run in alike_items(items)]
    for before, after in itertools.pairwise(runs):
        joinable = _shape(before[-1]) == _shape(after[0]) and not _returns_rows(after[0])
        assert not (joinable and not _returns_rows(before[-1])), "alike neighbours were split"


def test_an_item_that_returns_rows_stands_alone() -> None:
    counter = [(SQL[3], (1,))]
    assert [len(run) for run in alike_items([counter, counter, counter])] == [1, 1, 1]


async def test_alike_writes_sent_together_still_fail_alone(store: Store) -> None:
    """One transaction of alike saves, one of which the database refuses: that one alone is
    lost, on each backend."""
    taken = [movie(1), movie(2), movie(4)]
    refused = movie(3, tmdb_id=2**63)  # past a signed 64-bit column
    wave = [taken[0], taken[1], refused, taken[2]]
    driver = store._driver  # the driver's contract, under the store's writer
    outcomes = await driver.apply([list(statements_for(SaveRequest(row=row))) for row in wave])
    assert [isinstance(outcome, Exception) for outcome in outcomes] == [False, False, True, False]
    for row in taken:
        assert await store.load_request(row.id) == row
    assert await store.load_request(3) is None
