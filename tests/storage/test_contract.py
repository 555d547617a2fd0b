"""The storage contract: every backend keeps the same promises (run on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterable

import attrs
import pytest
import trio
from status_tracker.storage import (
    AppendTimeline,
    CountMailAttempt,
    DiscardDeadLetter,
    EndSession,
    MarkMailApplied,
    PostMail,
    PruneMail,
    PruneSessions,
    RecordDeadLetter,
    RequestQuery,
    RetryDeadLetter,
    SaveArrDownload,
    SaveDownload,
    SaveEpisodes,
    SaveRequest,
    SaveSession,
    SetSetting,
    StorageError,
    Store,
    StoredSession,
    open_store,
)
from status_tracker.storage._store import _migration_scripts

from status_tracker.domain import (
    DownloadLink,
    DownloadRow,
    EpisodeRow,
    RequestRow,
    TimelineEntry,
    TorrentFileRow,
)

SHIPPED_VERSIONS = [version for version, _ in _migration_scripts("sqlite")]


def movie(request_id: int, **changes: object) -> RequestRow:
    fields: dict[str, object] = {
        "id": request_id,
        "media_type": "movie",
        "title": f"Movie {request_id}",
        "year": 2021,
        "tmdb_id": 1000 + request_id,
        "state": "approved",
        "created_at": 1_700_000_000.0 + request_id,
        "updated_at": 1_700_000_000.0 + request_id,
        "last_change_at": 1_700_000_000.0 + request_id,
    }
    fields.update(changes)
    return RequestRow(**fields)  # type: ignore[arg-type]


async def test_request_round_trips_every_field(store: Store) -> None:
    row = movie(
        7,
        imdb_id="tt25041020",
        jellyseerr_request_id=71,
        radarr_id=51,
        sonarr_slug="violet-evergarden",
        is_anime=True,
        progress=42.5,
        poster_url="https://image.tmdb.org/t/p/w600/x.jpg",
        overview="An overview with 'quotes' and ünïcode",
        jellyfin_id="0f8e7d6c5b4a49382716a5b4c3d2e1f0",
        requested_seasons=(1, 2),
        download_hash="327cce10156316f79c005b0e953b9e8498e066eb",
        final_path="/data/movies/x.mkv",
        available_at=1_700_000_100.5,
    )
    await store.commit([SaveRequest(row=row)])
    assert await store.load_request(7) == row
    assert await store.load_request(8) is None


async def test_saving_again_replaces_the_row(store: Store) -> None:
    await store.commit([SaveRequest(row=movie(1))])
    await store.commit([SaveRequest(row=movie(1, state="grabbing", progress=3.0))])
    loaded = await store.load_request(1)
    assert loaded is not None
    assert (loaded.state, loaded.progress) == ("grabbing", 3.0)


async def test_episodes_download_and_timeline_round_trip(store: Store) -> None:
    episodes = tuple(
        EpisodeRow(
            request_id=3,
            season=1,
            episode=n,
            title=f"Episode {n}",
            state="downloading",
            torrent_hash="b4a1" * 10,
            updated_at=5.0,
            last_change_at=5.0,
        )
        for n in (2, 1, 3)
    )
    download = DownloadRow(
        hash="b4a1" * 10,
        name="Horimiya S01",
        progress=12.5,
        state="downloading",
        client_state="downloading",
        size=123,
        links=(DownloadLink(request_id=3, episodes=((1, 1), (1, 2), (1, 3))),),
        files=(
            TorrentFileRow(index=0, name="a/E01.mkv", size=10, progress=0.5, episodes=((1, 1),)),
        ),
        created_at=1.0,
        updated_at=2.0,
        last_change_at=2.0,
    )
    entry = TimelineEntry(
        request_id=3, at=9.0, source="sonarr", event="grabbed", season=1, episode=2
    )
    await store.commit(
        [
            SaveRequest(row=movie(3, media_type="tv", tvdb_id=384435)),
            SaveEpisodes(rows=episodes),
            SaveDownload(row=download),
            AppendTimeline(entries=(entry,)),
        ]
    )
    assert [e.episode for e in await store.load_episodes(3)] == [1, 2, 3]
    assert await store.load_download("b4a1" * 10) == download
    assert (await store.load_download("b4a1" * 10)).is_season_pack  # type: ignore[union-attr]
    assert await store.downloads_of(3) == [download]
    assert await store.timeline(3) == [entry]
    assert await store.request_ids_for_hash("b4a1" * 10) == [3]


async def test_a_failing_write_rolls_back_alone(store: Store) -> None:
    await store.commit([SaveRequest(row=movie(1))])

    async def bad_write() -> None:
        # A request with no title violates NOT NULL: this whole write must vanish.
        broken = movie(2, title=None)
        try:
            await store.commit([SaveRequest(row=movie(3)), SaveRequest(row=broken)])
        except StorageError:
            outcomes.append("refused")

    outcomes: list[str] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(bad_write)
        nursery.start_soon(store.commit, [SaveRequest(row=movie(4))])
    assert outcomes == ["refused"]
    assert await store.load_request(3) is None
    assert await store.load_request(4) is not None


async def test_concurrent_writes_share_transactions(store: Store) -> None:
    async with trio.open_nursery() as nursery:
        for n in range(1, 101):
            nursery.start_soon(store.commit, [SaveRequest(row=movie(n))])
    stats = store.writer_statistics()
    assert stats.writes >= 100
    assert stats.batches < stats.writes
    page, total = await store.list_requests(RequestQuery(limit=500))
    assert total == 100
    assert len(page) == 100


async def test_a_write_submitted_a_turn_after_its_neighbour_shares_its_transaction(
    store: Store,
) -> None:
    # As in a wave: the actors woken together submit over a few turns of the scheduler (each
    # decides first). An idle writer takes a turn before it commits, and misses none of them.
    before = store.writer_statistics()
    go = trio.Event()

    async def commit_after(turns: int, number: int) -> None:
        await go.wait()
        for _ in range(turns):
            await trio.lowlevel.checkpoint()
        await store.commit([SaveRequest(row=movie(number))])

    async with trio.open_nursery() as nursery:
        nursery.start_soon(commit_after, 0, 1)
        nursery.start_soon(commit_after, 1, 2)
        await trio.testing.wait_all_tasks_blocked()
        go.set()
    after = store.writer_statistics()
    assert after.writes - before.writes == 2
    assert after.batches - before.batches == 1
    assert {r.id for r in (await store.list_requests(RequestQuery(limit=10)))[0]} == {1, 2}


async def test_webhook_inbox_dedupes_identical_bodies_within_the_hour(store: Store) -> None:
    first = await store.accept_webhook(
        source="radarr", kind="Grab", body="{}", dedupe_key="k1", now=1000.0
    )
    again = await store.accept_webhook(
        source="radarr", kind="Grab", body="{}", dedupe_key="k1", now=1000.0 + 3599
    )
    other = await store.accept_webhook(
        source="radarr", kind="Grab", body="{ }", dedupe_key="k2", now=1001.0
    )
    assert not first.duplicate
    assert again.duplicate
    assert again.mail_id == first.mail_id
    assert not other.duplicate
    later = await store.accept_webhook(
        source="radarr", kind="Grab", body="{}", dedupe_key="k1", now=1000.0 + 3601
    )
    assert not later.duplicate
    assert later.mail_id != first.mail_id
    pending = await store.unapplied_mail()
    assert [m.id for m in pending] == [first.mail_id, other.mail_id, later.mail_id]


async def test_concurrent_identical_webhooks_store_one_row(store: Store) -> None:
    results = []

    async def deliver() -> None:
        results.append(
            await store.accept_webhook(
                source="sonarr", kind="Grab", body="{}", dedupe_key="same", now=5.0
            )
        )

    async with trio.open_nursery() as nursery:
        for _ in range(20):
            nursery.start_soon(deliver)
    assert sum(not r.duplicate for r in results) == 1
    assert len({r.mail_id for r in results}) == 1
    assert len(await store.unapplied_mail()) == 1


async def test_mail_is_applied_in_the_same_transaction_as_its_effects(store: Store) -> None:
    accepted = await store.accept_webhook(
        source="radarr", kind="Grab", body="{}", dedupe_key="k", now=1.0
    )
    await store.commit(
        [
            SaveRequest(row=movie(1)),
            PostMail(target="torrent:abc", source="request:1", kind="Link", body="{}", at=2.0),
            MarkMailApplied(mail_id=accepted.mail_id, at=2.0),
        ]
    )
    pending = await store.unapplied_mail()
    assert [(m.target, m.kind) for m in pending] == [("torrent:abc", "Link")]
    assert await store.unapplied_mail(after_id=pending[0].id) == []
    await store.commit([CountMailAttempt(mail_id=pending[0].id)])
    assert (await store.unapplied_mail())[0].attempts == 1


async def test_posting_mail_wakes_waiters(store: Store) -> None:
    woke = trio.Event()

    async def waiter() -> None:
        await store.mail_posted.wait()
        woke.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await trio.testing.wait_all_tasks_blocked()
        await store.commit([SaveRequest(row=movie(1))])
        assert not woke.is_set()
        await store.commit([PostMail(target="x", source="y", kind="z", body="{}", at=1.0)])
        with trio.fail_after(5):
            await woke.wait()


async def test_correlation_reads_find_requests_in_any_state_by_any_id(store: Store) -> None:
    await store.commit(
        [
            SaveRequest(row=movie(1, tmdb_id=55, state="available", radarr_id=9)),
            SaveRequest(row=movie(2, tmdb_id=55, state="grabbing", radarr_id=9)),
            SaveRequest(row=movie(3, tmdb_id=55, state="approved", jellyseerr_request_id=7)),
            SaveRequest(row=movie(4, tmdb_id=56, state="approved", imdb_id="tt1")),
            SaveRequest(row=movie(5, tmdb_id=57, media_type="tv", sonarr_id=9)),
        ]
    )

    async def ids(**values: list[object]) -> list[int]:
        return sorted(row.id for row in await store.requests_holding(values))

    assert await ids(tmdb_id=[55]) == [1, 2, 3]
    assert await ids(radarr_id=[9], sonarr_id=[9]) == [1, 2, 5]
    assert await ids(jellyseerr_request_id=[7], imdb_id=["tt1"], id=[5]) == [3, 4, 5]
    assert await ids(tmdb_id=[58], tvdb_id=[]) == []
    assert await store.requests_holding({"tmdb_id": list(range(1200))}) != []
    with pytest.raises(ValueError, match="state"):
        await store.requests_holding({"state": ["approved"]})
    assert await store.allocate_request_ids(2) == [6, 7]  # after the highest stored id


async def test_the_owners_of_a_download_or_shoko_file_hold_it_themselves_or_in_an_episode(
    store: Store,
) -> None:
    pack, single = "ab" * 20, "cd" * 20
    await store.commit(
        [
            SaveRequest(row=movie(1, download_hash=single, shoko_file_id=70)),
            SaveRequest(row=movie(2, media_type="tv", state="available")),
            SaveEpisodes(
                rows=(
                    EpisodeRow(request_id=2, season=1, episode=1, torrent_hash=pack),
                    EpisodeRow(request_id=2, season=1, episode=2, torrent_hash=pack),
                    EpisodeRow(request_id=3, season=1, episode=1, shoko_file_id=70),
                )
            ),
        ]
    )
    assert await store.request_owners("hash", [pack, single, "ef" * 20]) == {
        pack: {2},
        single: {1},
    }
    assert await store.request_owners("shoko_file", [70]) == {70: {1, 3}}
    assert await store.request_ids_for_hash(pack) == [2]


async def test_request_list_filters_and_pages(store: Store) -> None:
    await store.commit(
        [
            SaveRequest(row=movie(1, title="Violet Evergarden", state="available")),
            SaveRequest(row=movie(2, title="Chainsaw Man", state="downloading")),
            SaveRequest(row=movie(3, title="Horimiya", media_type="tv", state="downloading")),
        ]
    )
    rows, total = await store.list_requests(RequestQuery(states=("downloading",)))
    assert ([r.id for r in rows], total) == ([3, 2], 2)
    rows, total = await store.list_requests(
        RequestQuery(media_type="movie", title_contains="VIOLET")
    )
    assert ([r.id for r in rows], total) == ([1], 1)
    rows, total = await store.list_requests(RequestQuery(limit=1, offset=1))
    assert ([r.id for r in rows], total) == ([2], 3)


async def test_the_title_search_matches_wildcards_literally(store: Store) -> None:
    await store.commit(
        [
            SaveRequest(row=movie(1, title="100% Wolf")),
            SaveRequest(row=movie(2, title="Wolf_Children")),
            SaveRequest(row=movie(3, title="Back\\Slash")),
            SaveRequest(row=movie(4, title="Wolfwalkers")),
        ]
    )

    async def found(text: str) -> list[int]:
        rows, _ = await store.list_requests(RequestQuery(title_contains=text))
        return sorted(row.id for row in rows)

    assert await found("%") == [1]
    assert await found("_") == [2]
    assert await found("\\") == [3]
    assert await found("wol_") == []
    assert await found("wolf") == [1, 2, 4]


async def test_the_title_search_finds_any_part_of_a_title_whatever_its_case(store: Store) -> None:
    await store.commit(
        [
            SaveRequest(row=movie(1, title="Wolfwalkers", state="available")),
            SaveRequest(row=movie(2, title="The Wolf of Wall Street", media_type="tv")),
            SaveRequest(row=movie(3, title='The "Quoted" Title')),
            SaveRequest(row=movie(4, title="Chainsaw Man")),
        ]
    )

    async def found(text: str, **filters: object) -> tuple[list[int], int]:
        rows, total = await store.list_requests(RequestQuery(title_contains=text, **filters))
        return [row.id for row in rows], total

    assert await found("LFWA") == ([1], 1), "inside a word, any case"
    assert await found("f of w") == ([2], 1), "across words"
    assert await found("ol") == ([2, 1], 2), "two letters"
    assert await found("Q") == ([3], 1), "one letter"
    assert await found('"quoted"') == ([3], 1), "quotes are text"
    assert await found("wolf", states=("available",)) == ([1], 1)
    assert await found("wolf", media_type="tv") == ([2], 1)
    assert await found("wolves") == ([], 0)


async def test_a_renamed_request_is_found_by_its_new_title_only(store: Store) -> None:
    await store.commit([SaveRequest(row=movie(1, title="Working Title"))])
    await store.commit([SaveRequest(row=movie(1, title="Final Name", state="grabbing"))])
    rows, _ = await store.list_requests(RequestQuery(title_contains="final"))
    assert [row.id for row in rows] == [1]
    assert await store.list_requests(RequestQuery(title_contains="working")) == ([], 0)


async def test_a_search_with_many_matches_pages_newest_first_like_the_whole_list(
    store: Store,
) -> None:
    await store.commit(
        [
            SaveRequest(row=movie(n, title=f"Saga part {n}" if n % 3 else f"Other {n}"))
            for n in range(1, 1801)
        ]
    )
    matching = [n for n in range(1800, 0, -1) if n % 3]
    rows, total = await store.list_requests(
        RequestQuery(title_contains="SAGA", limit=100, offset=1000)
    )
    assert total == len(matching) == 1200
    assert [row.id for row in rows] == matching[1000:1100]


async def test_the_list_continues_after_a_cursor_as_it_does_after_an_offset(
    store: Store,
) -> None:
    # Three requests share one creation time: the id orders them.
    await store.commit(
        [
            SaveRequest(
                row=movie(n, created_at=100.0 + n // 3, media_type="tv" if n % 2 else "movie")
            )
            for n in range(1, 13)
        ]
    )
    for filters in ({}, {"media_type": "tv"}):
        whole, total = await store.list_requests(RequestQuery(limit=500, **filters))
        walked: list[int] = []
        after = None
        while True:
            rows, count = await store.list_requests(RequestQuery(limit=2, after=after, **filters))
            assert count == total, "the total counts every match, not what is left"
            walked += [row.id for row in rows]
            if len(rows) < 2:
                break
            after = (rows[-1].created_at, rows[-1].id)
        assert walked == [row.id for row in whole]
        rows, _ = await store.list_requests(RequestQuery(limit=2, offset=1, after=(103.0, 10)))
        assert [row.id for row in rows] == [8, 7], "an offset skips on from the cursor"


async def test_the_totals_follow_every_change_of_state_and_media_type(store: Store) -> None:
    rows = {n: movie(n, state="approved", media_type="tv" if n % 2 else "movie") for n in range(9)}
    await store.commit([SaveRequest(row=row) for row in rows.values()])
    changes = {1: {"state": "downloading"}, 2: {"state": "available"}, 3: {"media_type": "movie"}}
    changes |= {4: {"state": "downloading", "media_type": "tv"}, 5: {"title": "Renamed"}}
    for n, change in changes.items():
        rows[n] = attrs.evolve(rows[n], **change)
        await store.commit([SaveRequest(row=rows[n])])
    await store.commit([SaveRequest(row=rows[2])])  # saved again unchanged
    await assert_totals(store, rows.values())


async def assert_totals(store: Store, rows: Iterable[RequestRow]) -> None:
    """The list's totals, by state and media type, are those of ``rows``."""
    rows = list(rows)
    for states, media_type in [
        ((), None),
        (("approved",), None),
        (("downloading", "available"), None),
        (("downloading",), "tv"),
        ((), "movie"),
        (("failed",), None),
    ]:
        _, total = await store.list_requests(RequestQuery(states=states, media_type=media_type))
        expected = sum(
            (not states or row.state in states) and media_type in (None, row.media_type)
            for row in rows
        )
        assert total == expected, (states, media_type)


async def test_the_downloads_of_several_requests_are_read_at_once(store: Store) -> None:
    pack, movie_hash = "ab" * 20, "cd" * 20
    await store.commit(
        [
            SaveRequest(row=movie(1, download_hash=movie_hash)),
            SaveRequest(row=movie(2, media_type="tv")),
            SaveRequest(row=movie(3, media_type="tv")),
            SaveRequest(row=movie(4)),
            SaveEpisodes(
                rows=tuple(
                    EpisodeRow(request_id=request_id, season=1, episode=n, torrent_hash=pack)
                    for request_id in (2, 3)
                    for n in (1, 2)
                )
            ),
            SaveDownload(row=DownloadRow(hash=movie_hash, created_at=2.0)),
            SaveDownload(row=DownloadRow(hash=pack, created_at=1.0)),
        ]
    )
    found = await store.downloads_by_request([1, 2, 3, 4])
    assert {key: [d.hash for d in rows] for key, rows in found.items()} == {
        1: [movie_hash],
        2: [pack],
        3: [pack],
    }
    assert [d.hash for d in await store.downloads_of(2)] == [pack]
    assert await store.downloads_by_request([]) == {}


async def test_many_downloads_read_at_once_are_those_read_one_by_one(store: Store) -> None:
    stored = [
        DownloadRow(
            hash=f"{n:040x}",
            name=f"Download {n}",
            progress=n / 10,
            state="stalled",
            links=(DownloadLink(request_id=n, episodes=((1, n),)),),
        )
        for n in range(1, 8)
    ]
    await store.commit([SaveDownload(row=row) for row in stored])
    # More hashes than one IN list holds, most of them unknown, one asked twice.
    asked = [f"{n:040x}" for n in range(1, 600)] + [stored[0].hash]
    one_by_one = {h: row for h in asked if (row := await store.load_download(h)) is not None}
    assert await store.load_downloads(asked) == one_by_one
    assert one_by_one == {row.hash: row for row in stored}
    assert await store.load_downloads([]) == {}


async def test_sessions_are_kept_ended_and_pruned(store: Store) -> None:
    def session(letter: str, fingerprint: str, expires_at: float) -> SaveSession:
        return SaveSession(
            id_hash=letter * 64,
            token_fingerprint=fingerprint,
            created_at=1.0,
            expires_at=expires_at,
        )

    await store.commit(
        [
            session("a", "now", 100.0),
            session("b", "now", 50.0),
            session("c", "old", 100.0),
            session("d", "now", 100.0),
        ]
    )
    assert await store.session("a" * 64) == StoredSession(
        id_hash="a" * 64, token_fingerprint="now", created_at=1.0, expires_at=100.0
    )
    await store.commit([EndSession(id_hash="d" * 64)])
    assert await store.session("d" * 64) is None
    await store.commit([PruneSessions(now=60.0, token_fingerprint="now")])
    assert await store.session("b" * 64) is None, "expired"
    assert await store.session("c" * 64) is None, "granted under another API token"
    assert await store.session("a" * 64) is not None
    assert await store.session("e" * 64) is None


async def test_dead_letters_and_settings(store: Store) -> None:
    await store.commit(
        [
            RecordDeadLetter(at=1.0, actor="request:1", message="{}", error="boom"),
            SetSetting(key="api_token", value="one"),
        ]
    )
    await store.commit([SetSetting(key="api_token", value="two")])
    letters, count = await store.dead_letters()
    assert count == 1
    assert (letters[0].actor, letters[0].error) == ("request:1", "boom")
    assert await store.get_setting("api_token") == "two"
    assert await store.get_setting("missing") is None


async def test_a_retried_dead_letter_is_new_mail_and_a_discarded_one_is_gone(
    store: Store,
) -> None:
    kept = {"target": "dispatch", "source": "radarr", "kind": "Grab", "body": '{"a": 1}'}
    await store.commit(
        [
            RecordDeadLetter(at=1.0, actor="dispatch", message="m", error="e", mail_id=7, **kept),
            RecordDeadLetter(at=2.0, actor="dispatch", message="m", error="e", mail_id=8, **kept),
        ]
    )
    letters, _ = await store.dead_letters()
    newest, oldest = letters
    assert (oldest.mail_id, oldest.body) == (7, '{"a": 1}')
    await store.commit([RetryDeadLetter(dead_letter_id=oldest.id, at=5.0)])
    (mail,) = await store.unapplied_mail()
    assert (mail.target, mail.source, mail.kind, mail.body) == tuple(kept.values())
    await store.commit([DiscardDeadLetter(dead_letter_id=newest.id)])
    assert await store.dead_letters() == ([], 0)
    assert await store.dead_letter(oldest.id) is None


async def test_data_survives_reopening_and_migrations_run_once(database_url: str) -> None:
    async with open_store(database_url) as first:
        await first.commit([SaveRequest(row=movie(1))])
    async with open_store(database_url) as second:
        assert await second.migrate() == []
        assert await second.load_request(1) == movie(1)


async def test_request_ids_grow_and_are_never_handed_out_again_after_reopening(
    database_url: str,
) -> None:
    async with open_store(database_url) as first:
        await first.commit([SaveRequest(row=movie(3))])
        taken = await first.allocate_request_ids(1) + await first.allocate_request_ids(2)
    async with open_store(database_url) as second:
        taken += await second.allocate_request_ids(2)
    assert taken == [4, 5, 6, 7, 8]


async def test_two_stores_on_one_database_never_share_a_request_id(database_url: str) -> None:
    taken: list[int] = []

    async def take(store: Store) -> None:
        for count in (1, 2, 2):
            taken.extend(await store.allocate_request_ids(count))

    async with (
        open_store(database_url) as one,
        open_store(database_url) as other,
        trio.open_nursery() as nursery,
    ):
        nursery.start_soon(take, one)
        nursery.start_soon(take, other)
    assert sorted(taken) == list(range(1, 11))


async def test_an_upgraded_database_continues_after_its_highest_request_id(
    database_url: str,
) -> None:
    async with open_store(database_url) as store:
        await store.commit([SaveRequest(row=movie(41))])
        await store._driver.apply(  # back to version 7, before ids came from the database
            [
                [
                    ("DROP TABLE request_ids", ()),
                    ("DELETE FROM schema_migrations WHERE version = 8", ()),
                ]
            ]
        )
    async with open_store(database_url) as store:
        assert await store.allocate_request_ids(1) == [42]
        assert await store.load_request(41) == movie(41)


async def test_an_older_database_is_migrated_forward(database_url: str) -> None:
    async with open_store(database_url) as store:
        await store.commit([SaveRequest(row=movie(1))])
        # Roll the schema back to version 1, as an older release left it.
        await store._driver.apply(
            [
                [
                    ("DROP INDEX episodes_tvdb", ()),
                    ("DELETE FROM schema_migrations WHERE version = 2", ()),
                ]
            ]
        )
    async with open_store(database_url) as store:
        assert await store.load_request(1) == movie(1)
        rows = await store.fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [row["version"] for row in rows] == SHIPPED_VERSIONS


async def test_episodes_are_found_by_their_own_tvdb_id(store: Store) -> None:
    await store.commit(
        [
            SaveEpisodes(
                rows=(
                    EpisodeRow(request_id=4, season=1, episode=1, tvdb_id=8916235),
                    EpisodeRow(request_id=9, season=1, episode=1, tvdb_id=8916235),
                    EpisodeRow(request_id=9, season=1, episode=2, tvdb_id=9234918),
                )
            )
        ]
    )
    assert await store.request_owners("episode", [8916235, 1]) == {8916235: {4, 9}}


async def test_pruning_forgets_only_old_applied_mail(store: Store) -> None:
    old = await store.accept_webhook(
        source="radarr", kind="Grab", body="{}", dedupe_key="a", now=1.0
    )
    waiting = await store.accept_webhook(
        source="radarr", kind="Grab", body="{ }", dedupe_key="b", now=2.0
    )
    recent = await store.accept_webhook(
        source="radarr", kind="Grab", body="{  }", dedupe_key="c", now=500.0
    )
    await store.commit(
        [
            MarkMailApplied(mail_id=old.mail_id, at=3.0),
            MarkMailApplied(mail_id=recent.mail_id, at=501.0),
        ]
    )
    await store.commit([PruneMail(before=100.0)])
    assert await store.mail_counts() == {"webhooks": 2, "handoffs": 0, "pending": 1}
    assert [m.id for m in await store.unapplied_mail()] == [waiting.mail_id]
    again = await store.accept_webhook(
        source="radarr", kind="Grab", body="{  }", dedupe_key="c", now=600.0
    )
    assert again.duplicate, "mail inside the dedupe window is kept"


async def test_unfinished_downloads_are_listed_without_their_links(store: Store) -> None:
    pack = DownloadRow(
        hash="aa" * 20,
        state="downloading",
        progress=10.0,
        links=(DownloadLink(request_id=1, episodes=((1, 1), (1, 2))),),
        files=(TorrentFileRow(index=0, name="a.mkv", size=1, progress=0.1),),
    )
    done = DownloadRow(hash="bb" * 20, state="seeding", progress=100.0)
    await store.commit([SaveDownload(row=pack), SaveDownload(row=done)])
    (watch,) = await store.unfinished_downloads()
    assert (watch.hash, watch.episode_count, watch.has_files, watch.progress) == (
        "aa" * 20,
        2,
        True,
        10.0,
    )


async def test_the_arr_queues_are_read_service_by_service_in_the_order_asked(store: Store) -> None:
    def queued(service: str, download_id: str) -> SaveArrDownload:
        return SaveArrDownload(
            service=service,
            download_id=download_id,
            title=None,
            queue_ids=(1,),
            item_ids=(2, 3),
            tracked_state="importBlocked",
            reason="no files",
            size_left=0.0,
            stalled=False,
            progress_at=1.0,
            seen_at=2.0,
        )

    await store.commit(
        [queued("radarr", "AA"), queued("sonarr", "CC"), queued("sonarr", "BB"), queued("x", "A")]
    )
    both = await store.arr_downloads("sonarr", "radarr")
    assert [(row.service, row.download_id) for row in both] == [
        ("sonarr", "BB"),
        ("sonarr", "CC"),
        ("radarr", "AA"),
    ]
    assert both[0].item_ids == (2, 3)
    assert [row.download_id for row in await store.arr_downloads("radarr")] == ["AA"]
