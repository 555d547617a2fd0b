"""Alike items of a transaction run together, each statement once for all of them, without
changing what any item runs or in which order; on PostgreSQL, a failing item still fails alone,
and the rows alike items insert (or upsert) together, sent as one statement, are stored as they
would be one by one.
"""

from __future__ import annotations

import itertools

import attrs
from hypothesis import given
from hypothesis import strategies as st
from status_tracker.storage import (
    MarkMailApplied,
    PostMail,
    SaveEpisodes,
    SaveRequest,
    Store,
)
from status_tracker.storage._postgres import _writes_one_row
from status_tracker.storage._sql import Statement, alike_items, statements_for

from status_tracker.domain import EpisodeRow, RequestRow
from tests.storage.test_contract import assert_totals, movie

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


def _items(*ops: object) -> list[list[Statement]]:
    """One item (a commit's statements) per op, as a wave of actors submits them."""
    return [list(statements_for(op)) for op in ops]  # type: ignore[arg-type]


async def test_rows_saved_together_are_stored_as_each_was_given(store: Store) -> None:
    """Text JSON escapes, the extreme floats and integers a column holds, nulls: every field
    of every row reads back as it was saved, on each backend."""
    rows = [
        movie(1, title="Quotes ' \" and \\ back\\slashes", overview="line\nbreak\ttab"),
        movie(2, title="Amélie — 天気の子 🎬", imdb_id=None, year=None, tmdb_id=2**63 - 1),
        movie(3, progress=0.1, available_at=5e-324, requested_seasons=(1, 12, 2)),
        movie(4, progress=0.0, created_at=1.7976931348623157e308, radarr_id=-(2**63)),
        movie(5, state="downloading", progress=99.99999999999999, is_anime=True),
        movie(
            6,
            media_type="tv",
            tvdb_id=81189,
            imdb_id="tt0903747",
            jellyseerr_request_id=71,
            sonarr_id=51,
            sonarr_slug="breaking-bad",
            poster_url="https://image.tmdb.org/x.jpg",
            source="sonarr",
            jellyfin_id="0f8e7d6c",
            known_seasons=(1, 2, 3),
            download_hash="327cce10156316f79c005b0e953b9e8498e066eb",
            final_path="/data/tv/x",
            shoko_file_id=77,
            requested_by="Ann",
            requested_at=1_700_000_000.25,
            check_requested_at=1_700_000_050.5,
        ),
    ]
    assert all(
        any(getattr(row, field.name) != field.default for row in rows)
        for field in attrs.fields(RequestRow)
        if field.default is not attrs.NOTHING
    ), "every field is given a value of its own somewhere"
    outcomes = await store._driver.apply(_items(*(SaveRequest(row=row) for row in rows)))
    assert not any(isinstance(outcome, Exception) for outcome in outcomes)
    for row in rows:
        assert await store.load_request(row.id) == row


async def test_floats_that_are_not_finite_are_saved_with_their_neighbours(store: Store) -> None:
    rows = [movie(1), movie(2, available_at=float("inf")), movie(3, available_at=float("-inf"))]
    outcomes = await store._driver.apply(_items(*(SaveRequest(row=row) for row in rows)))
    assert not any(isinstance(outcome, Exception) for outcome in outcomes)
    for row in rows:
        assert await store.load_request(row.id) == row


async def test_a_request_saved_twice_in_one_transaction_keeps_the_later_row(
    store: Store,
) -> None:
    """By two writes, or twice in one: the later save wins, as one by one (one statement may
    not upsert a row twice)."""
    first, later = movie(1, state="approved"), movie(1, state="grabbing", progress=3.0)
    outcomes = await store._driver.apply(_items(SaveRequest(row=first), SaveRequest(row=later)))
    assert not any(isinstance(outcome, Exception) for outcome in outcomes)
    assert await store.load_request(1) == later
    last = movie(1, state="importing", progress=100.0)
    await store.commit([SaveRequest(row=later), SaveRequest(row=last)])
    assert await store.load_request(1) == last


async def test_mail_posted_together_takes_ids_in_the_order_it_was_posted(store: Store) -> None:
    """Hand-offs are applied in mail order: rows inserted by one statement keep theirs."""
    bodies = [f'{{"n": {n}}}' for n in (5, 3, 9, 1, 7, 2, 8, 0, 6, 4)]
    posts = [
        PostMail(target="torrent:ab", source="system", kind="x", body=b, at=1.0) for b in bodies
    ]
    await store._driver.apply(_items(*posts))
    assert [mail.body for mail in await store.unapplied_mail(limit=20)] == bodies


async def test_mail_marked_applied_together_keeps_each_mark(store: Store) -> None:
    """A wave marks its rows applied in one transaction: each row gets its own time and error,
    and a row marked twice keeps the later mark, as one by one."""
    posts = [
        PostMail(target="torrent:ab", source="system", kind="x", body=str(n), at=1.0)
        for n in range(6)
    ]
    await store._driver.apply(_items(*posts))
    ids = [mail.id for mail in await store.unapplied_mail(limit=20)]
    marks = [
        MarkMailApplied(mail_id=mail_id, at=10.0 + n, error=f"error {n}" if n % 2 else None)
        for n, mail_id in enumerate(ids[:5])
    ]
    await store._driver.apply(_items(*marks))
    twice = [MarkMailApplied(mail_id=ids[5], at=20.0), MarkMailApplied(mail_id=ids[5], at=21.0)]
    await store._driver.apply(_items(*twice))
    rows = await store.fetch("SELECT id, applied_at, error FROM mail ORDER BY id")
    expected = [(mark.mail_id, mark.at, mark.error) for mark in marks] + [(ids[5], 21.0, None)]
    assert [(row["id"], row["applied_at"], row["error"]) for row in rows] == expected


def test_only_statements_writing_one_row_each_time_go_as_one_for_all() -> None:
    """One UPDATE for many rows would apply only one of two changes of one row, which one
    unforeseeable, and one upsert may not write a row twice: those run one by one (the tests
    above see the result, not the plan)."""
    mark = "UPDATE mail SET applied_at = ?, error = ? WHERE id = ?"
    assert _writes_one_row(mark, [(1.0, None, 5), (2.0, None, 6)])
    assert not _writes_one_row(mark, [(1.0, None, 5), (2.0, None, 5)])
    assert not _writes_one_row("UPDATE mail SET attempts = attempts + 1 WHERE id = ?", [(5,), (6,)])
    upsert = "INSERT INTO episodes (request_id, season, episode) VALUES (?, ?, ?) " + (
        "ON CONFLICT (request_id, season, episode) DO UPDATE SET episode = excluded.episode"
    )
    assert _writes_one_row(upsert, [(1, 1, 1), (1, 1, 2)])
    assert not _writes_one_row(upsert, [(1, 1, 1), (1, 1, 1)])
    assert _writes_one_row(SQL[0], [(1,), (1,)]), "a plain insert of one key twice fails alike"
    assert not _writes_one_row(f"{SQL[0]} RETURNING id", [(1,), (2,)])
    assert not _writes_one_row(mark, [(1.0, None, 5.0), (2.0, None, 5.5)]), "5.5 may be 5"
    assert not _writes_one_row("UPDATE t SET k = ?, a = ? WHERE k = ?", [(1, 2, 3), (1, 2, 4)])
    for conflict in [
        "ON CONFLICT ON CONSTRAINT t_key DO UPDATE SET b = excluded.b",
        "ON CONFLICT (a) DO UPDATE SET b = ?",
        "ON CONFLICT (c) DO UPDATE SET b = excluded.b",
    ]:
        sql = f"INSERT INTO t (a, b) VALUES (?, ?) {conflict}"
        assert not _writes_one_row(sql, [(1, 2), (3, 4)]), conflict
    nothing = "INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT (a) DO NOTHING"
    assert _writes_one_row(nothing, [(1, 2), (1, 4)]), "the first is kept either way"


async def test_episodes_saved_together_by_one_request_read_back_in_order(store: Store) -> None:
    await store.commit([SaveRequest(row=movie(1, media_type="tv"))])
    episodes = tuple(
        EpisodeRow(
            request_id=1, season=1, episode=n, title=f"Episode {n} «{n}»", tvdb_id=900 + n,
            updated_at=1.0 + n, last_change_at=2.0,
        )
        for n in range(1, 25)
    )  # fmt: skip
    await store.commit([SaveEpisodes(rows=episodes)])
    assert tuple(await store.load_episodes(1)) == episodes


async def test_the_totals_follow_requests_saved_and_deleted_together(store: Store) -> None:
    """The per-state counts behind the list's totals follow a wave's saves (new requests,
    changed states and kinds, unchanged rows, all in one transaction) and a deletion of many."""
    rows = {n: movie(n, media_type="tv" if n % 2 else "movie") for n in range(1, 13)}
    await store._driver.apply(_items(*(SaveRequest(row=row) for row in rows.values())))
    await assert_totals(store, rows.values())
    changes: dict[int, dict[str, object]] = {
        1: {"state": "downloading"},
        2: {"state": "available"},
        3: {"media_type": "movie"},
        4: {"state": "downloading", "media_type": "tv"},
        5: {"title": "Renamed"},
        6: {"state": "downloading"},
    }
    for n, change in changes.items():
        rows[n] = attrs.evolve(rows[n], **change)
    rows |= {n: movie(n, state="downloading", media_type="tv") for n in range(13, 16)}
    await store._driver.apply(_items(*(SaveRequest(row=row) for row in rows.values())))
    await assert_totals(store, rows.values())
    gone = (2, 4, 13)
    await store._driver.apply([[("DELETE FROM requests WHERE id IN (?, ?, ?)", gone)]])
    for n in gone:
        del rows[n]
    await assert_totals(store, rows.values())
