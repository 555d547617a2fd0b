"""The request list reads indexes, not the table: plans, the title indexes, migrating to them."""

from __future__ import annotations

import asyncpg
import pytest
import trio_asyncio
from status_tracker.storage import RequestQuery, SaveRequest, Store, _sql, open_store

from status_tracker.domain import RequestRow

ROLL_BACK_0017 = {
    "sqlite": ["DROP INDEX requests_kinds"],
    "postgresql": [
        "DROP INDEX requests_folded_titles",
        "ALTER TABLE requests DROP COLUMN title_folded",
    ],
}
ROLL_BACK_0016 = {
    "sqlite": [
        "DROP TRIGGER request_titles_insert",
        "DROP TRIGGER request_titles_update",
        "DROP TRIGGER request_titles_delete",
        "DROP TABLE request_titles",
        "DROP TRIGGER request_counts_insert",
        "DROP TRIGGER request_counts_update",
        "DROP TRIGGER request_counts_delete",
    ],
    "postgresql": [
        "DROP INDEX requests_title_trigrams",
        "DROP TRIGGER request_counts_follow ON requests",
        "DROP FUNCTION request_counts_follow",
    ],
}
ROLL_BACK_SHARED = [
    "DROP TABLE request_counts",
    "DROP INDEX requests_newest",
    "DROP INDEX requests_state_newest",
    "DROP INDEX requests_type_newest",
    "CREATE INDEX requests_created ON requests (created_at)",
    "CREATE INDEX requests_state ON requests (state)",
    "DELETE FROM schema_migrations WHERE version IN (16, 17)",
]


def request(request_id: int, title: str, state: str = "available") -> RequestRow:
    return RequestRow(
        id=request_id, media_type="movie", title=title, state=state, created_at=float(request_id)
    )


async def plan(store: Store, query: RequestQuery) -> list[str]:
    """What SQLite does to find ``query``'s page, one line per step: the first page is read as
    an index is walked; a later one's ids are picked (then it reads and sorts those rows alone).
    """
    matches = 5000 if _sql.indexed_title(query, "sqlite") else None
    (page, args), _ = _sql.request_list_query(query, "sqlite", title_matches=matches)
    steps = await store.fetch(f"EXPLAIN QUERY PLAN {page}", args)
    if not query.offset:
        return [step["detail"] for step in steps]
    picking = {next(s["id"] for s in steps if s["detail"].startswith("LIST SUBQUERY"))}
    for step in steps:
        if step["parent"] in picking:
            picking.add(step["id"])
    return [step["detail"] for step in steps if step["id"] in picking]


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(RequestQuery(offset=90_000), id="deep"),
        pytest.param(RequestQuery(states=("available",), offset=50_000), id="state"),
        pytest.param(
            RequestQuery(media_type="tv", states=("available",), offset=20_000),
            id="type-and-state",
        ),
        pytest.param(RequestQuery(after=(1_700_000_000.0, 99)), id="after"),
        pytest.param(RequestQuery(states=("failed", "deleted")), id="states-first-page"),
        pytest.param(RequestQuery(title_contains="wolf"), id="search"),
        pytest.param(RequestQuery(title_contains="wo"), id="short-search"),
        pytest.param(RequestQuery(states=("failed", "deleted"), offset=5000), id="states"),
        pytest.param(
            RequestQuery(title_contains="wo", states=("available",), media_type="tv"),
            id="short-search-and-filters",
        ),
    ],
)
async def test_sqlite_pages_walk_an_index_in_order_and_never_scan_the_table(
    sqlite_url: str, query: RequestQuery
) -> None:
    async with open_store(sqlite_url) as store:
        steps = await plan(store, query)
    reads = [step for step in steps if step.startswith(("SCAN requests", "SEARCH requests"))]
    assert reads, steps
    # Skipping to a later page reads index entries only; the first reads a row per item.
    index = "USING COVERING INDEX" if query.offset else "USING INDEX requests_"
    assert all(index in step for step in reads), steps
    assert not any("TEMP B-TREE" in step for step in steps), steps


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(RequestQuery(title_contains="wolf", media_type="tv"), id="type"),
        pytest.param(RequestQuery(title_contains="wolf", states=("available",)), id="state"),
        pytest.param(
            RequestQuery(title_contains="wolf", media_type="movie", states=("failed", "deleted")),
            id="type-and-states",
        ),
    ],
)
async def test_sqlite_counts_the_titles_it_found_with_filters_in_an_index(
    sqlite_url: str, query: RequestQuery
) -> None:
    _, (count, args) = _sql.request_list_query(query, "sqlite", title_matches=5000)
    async with open_store(sqlite_url) as store:
        steps = [step["detail"] for step in await store.fetch(f"EXPLAIN QUERY PLAN {count}", args)]
    reads = [step for step in steps if step.startswith(("SCAN requests", "SEARCH requests"))]
    assert reads, steps
    assert all(
        step.startswith("SEARCH requests USING COVERING INDEX requests_kinds (id=?")
        for step in reads
    ), steps


async def test_requests_stored_before_the_upgrade_are_found_by_title(
    database_url: str, asyncio_loop: None
) -> None:
    async with open_store(database_url) as store:
        await store.commit([SaveRequest(row=request(1, "Violet Evergarden"))])
        statements = [
            *ROLL_BACK_0017[store.dialect],
            *ROLL_BACK_0016[store.dialect],
            *ROLL_BACK_SHARED,
        ]
        await store._driver.apply([[(sql, ()) for sql in statements]])
        await store.commit([SaveRequest(row=request(2, "Violet Evergarden: Recollections"))])
    async with open_store(database_url) as store:
        rows, total = await store.list_requests(RequestQuery(title_contains="evergarden"))
        assert ([row.id for row in rows], total) == ([2, 1], 2)
        await store.commit([SaveRequest(row=request(3, "Evergarden Again", state="failed"))])
        rows, total = await store.list_requests(RequestQuery(title_contains="EVERGARDEN"))
        assert ([row.id for row in rows], total) == ([3, 2, 1], 3)
        _, available = await store.list_requests(RequestQuery(states=("available",)))
        assert available == 2, "counted before the upgrade, and since"


async def trigram_indexes(url: str) -> list[str]:
    connection = await trio_asyncio.aio_as_trio(asyncpg.connect)(url)
    try:
        rows = await trio_asyncio.aio_as_trio(connection.fetch)(
            "SELECT indexname FROM pg_indexes WHERE indexname = 'requests_title_trigrams'"
        )
    finally:
        await trio_asyncio.aio_as_trio(connection.close)()
    return [row["indexname"] for row in rows]


@pytest.mark.postgresql
async def test_postgresql_searches_titles_through_a_trigram_index(postgres_url: str) -> None:
    async with open_store(postgres_url) as store:
        await store.commit([SaveRequest(row=request(1, "Chainsaw Man"))])
        rows, _ = await store.list_requests(RequestQuery(title_contains="SAW M"))
        assert [row.id for row in rows] == [1]
    assert await trigram_indexes(postgres_url) == ["requests_title_trigrams"]


@pytest.mark.postgresql
async def test_without_a_usable_pg_trgm_the_search_still_works_by_scanning(
    postgres_url: str,
) -> None:
    # pg_trgm installed where the migration cannot see its operator class: the index cannot be
    # made, the migration goes on without it.
    connection = await trio_asyncio.aio_as_trio(asyncpg.connect)(postgres_url)
    try:
        await trio_asyncio.aio_as_trio(connection.execute)(
            "CREATE SCHEMA hidden; CREATE EXTENSION pg_trgm SCHEMA hidden"
        )
    finally:
        await trio_asyncio.aio_as_trio(connection.close)()
    async with open_store(postgres_url) as store:
        await store.commit([SaveRequest(row=request(1, "Chainsaw Man"))])
        rows, total = await store.list_requests(RequestQuery(title_contains="saw m"))
        assert ([row.id for row in rows], total) == ([1], 1)
    assert await trigram_indexes(postgres_url) == []


@pytest.mark.postgresql
async def test_postgresql_plans_a_title_search_for_its_text_at_every_call(
    postgres_url: str,
) -> None:
    # After five calls PostgreSQL may keep one plan for any text: for two letters that plan
    # read the whole trigram index (88 ms at 100,000 requests, against 15).
    async with open_store(postgres_url) as store:
        for _ in range(7):
            (searching,) = await store.fetch(
                "SELECT current_setting('plan_cache_mode') AS mode", custom_plan=True
            )
        (other,) = await store.fetch("SELECT current_setting('plan_cache_mode') AS mode")
    assert (searching["mode"], other["mode"]) == ("force_custom_plan", "auto")
