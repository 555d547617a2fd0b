"""A page of the request list (and the live feed's snapshot) shows each request as
``views.request_item`` shows it from all its episodes, though the store only counts a finished
request's episodes instead of reading them."""

from __future__ import annotations

import typing

import pytest
import trio_asyncio
from hypothesis import given, settings
from hypothesis import strategies as st
from status_tracker.actors.recovery.reasons import Setup
from status_tracker.ingress.http import views
from status_tracker.ingress.http.items import RequestItems
from status_tracker.storage import SaveDownload, SaveEpisodes, SaveRequest, Store, open_store

from status_tracker.domain import (
    ACTIVE_STATES,
    FINISHED_STATES,
    KNOWN_STATES,
    DownloadRow,
    EpisodeRow,
    RequestRow,
    summarize,
)
from tests.conftest import require_postgres
from tests.core.test_links import EVERYWHERE
from tests.support.databases import throwaway_database

NOW = 1_700_000_000.0
HASH = "c0ffee0000000000000000000000000000000001"
SETUP = Setup(
    stuck_after=300.0, download_client="qBittorrent", jellyfin=True, shoko=True, sonarr_api=True
)


@typing.final
class StoppedClock:
    """Always ``NOW``: the items and what they are compared with see the same time."""

    def now(self) -> float:
        return NOW


jellyfin_ids = st.sampled_from([None, "", "j1", "j2", "j3"])
hashes = st.sampled_from([None, "", HASH])
times = st.sampled_from([NOW - 10, NOW - 400, NOW - 90_000])


@st.composite
def episodes(draw: st.DrawFn, request_id: int) -> list[EpisodeRow]:
    keys = draw(st.lists(st.tuples(st.integers(0, 2), st.integers(-1, 4)), unique=True, max_size=8))
    return [
        EpisodeRow(
            request_id=request_id,
            season=season,
            episode=episode,
            state=draw(st.sampled_from(sorted(KNOWN_STATES))),
            jellyfin_id=draw(jellyfin_ids),
            torrent_hash=draw(hashes),
            shoko_file_id=draw(st.sampled_from([None, 7])),
            last_change_at=draw(times),
        )
        for season, episode in keys
    ]


@st.composite
def libraries(draw: st.DrawFn) -> list[tuple[RequestRow, list[EpisodeRow]]]:
    """Requests finished and active, movies and series, with and without episodes (a movie
    with some too), their own Jellyfin item and torrent or not."""
    library = []
    for request_id in range(1, draw(st.integers(1, 8)) + 1):
        row = RequestRow(
            id=request_id,
            media_type=draw(st.sampled_from(["movie", "tv"])),
            title=f"Request {request_id}",
            tmdb_id=500 + request_id,
            tvdb_id=700 + request_id,
            state=draw(st.sampled_from([*ACTIVE_STATES, *FINISHED_STATES])),
            jellyfin_id=draw(jellyfin_ids),
            download_hash=draw(hashes),
            created_at=float(request_id),
            last_change_at=draw(times),
        )
        library.append((row, draw(episodes(request_id))))
    return library


@pytest.mark.parametrize(
    "dialect", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
@settings(max_examples=25)
@given(library=libraries())
async def test_each_item_is_what_its_episodes_make_of_it(
    dialect: str, library: list[tuple[RequestRow, list[EpisodeRow]]]
) -> None:
    # A database of its own per example: Hypothesis runs each one in a Trio run of its own.
    async with trio_asyncio.open_loop():
        if dialect == "postgresql":
            await require_postgres()
        async with throwaway_database(dialect) as url, open_store(url) as store:
            await check_items(store, library)


async def check_items(store: Store, library: list[tuple[RequestRow, list[EpisodeRow]]]) -> None:
    await store.commit(
        [
            SaveDownload(row=DownloadRow(hash=HASH, state="downloading", last_change_at=NOW - 400)),
            *(SaveRequest(row=row) for row, _ in library),
            *(SaveEpisodes(rows=tuple(rows)) for _, rows in library if rows),
        ]
    )
    items = RequestItems(store=store, clock=StoppedClock(), setup=SETUP, addresses=EVERYWHERE)
    rows = [row for row, _ in library]
    held = await items.arr_reasons()
    expected = [
        views.request_item(
            row,
            await store.load_episodes(row.id),
            downloads=await store.downloads_of(row.id),
            setup=SETUP,
            now=NOW,
            arr_reasons=held,
            addresses=EVERYWHERE,
        )
        for row in rows
    ]
    assert await items.items(rows) == expected
    summaries = await store.episode_summaries([row.id for row in rows])
    assert summaries == {row.id: summarize(kept) for row, kept in library if kept}
