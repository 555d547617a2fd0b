"""The reconciler's pure decisions: what is missing, what is a duplicate, what to do about a
stall, when to nudge the library. Tables and Hypothesis properties, no Trio."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from status_tracker.actors.media_request import messages as m
from status_tracker.actors.reconcile import catch_up, rules
from status_tracker.clients._arr import (
    ArrEpisode,
    ArrHistoryRecord,
    ArrMovie,
    ArrSeries,
    format_time,
    history_record_from_wire,
    parse_time,
    queue_item_from_wire,
)
from status_tracker.clients.jellyseerr import (
    SeerrRequest,
    media_seasons_from_wire,
    needs_media_seasons,
    request_from_wire,
)
from status_tracker.ingress.translate import event_key, translate

from status_tracker.domain import RequestRow
from tests.support.fixtures import load_fixture

SERIES = ArrSeries(id=42, title="Sherlock", tvdb_id=176941, tmdb_id=19885)
HASH = "C41D9E2F8A7B6C5D4E3F2A1B0C9D8E7F6A5B4C3D"


def record(
    record_id: int,
    event_type: str,
    episode: int,
    *,
    download_id: str | None = HASH,
    data: dict[str, Any] | None = None,
    season: int = 2,
) -> ArrHistoryRecord:
    return ArrHistoryRecord(
        id=record_id,
        event_type=event_type,
        date=1_749_600_000.0 + record_id,
        download_id=download_id,
        source_title="Sherlock.S02.1080p",
        item_id=2873 + episode,
        data=data or {},
        series=SERIES,
        episode=ArrEpisode(id=2873 + episode, season=season, episode=episode),
    )


# -- wire → records -------------------------------------------------------------------------------


def test_the_shared_fixtures_parse_on_the_real_wire() -> None:
    queue = load_fixture("sonarr/api/queue_page.json")
    items = [queue_item_from_wire(r, service="Sonarr") for r in queue["records"]]
    downloads = rules.group_queue(items)
    pack = downloads["3a9f1c2e7b4d8e6f0a1b2c3d4e5f60718293a4b5"]
    assert len(pack.queue_ids) == 3
    assert pack.tracked_state == "importBlocked"
    assert pack.reason is not None
    assert pack.reason.startswith("import blocked: One or more episodes expected")
    assert "No audio tracks detected" in pack.reason
    assert any(d.stalled for d in downloads.values())
    history = [
        history_record_from_wire(r, service="Sonarr")
        for r in load_fixture("sonarr/api/history_since.json")
    ]
    assert history[0].data["nzbInfoUrl"] is not None
    radarr = load_fixture("radarr/api/queue_page.json")
    movies = rules.group_queue(queue_item_from_wire(r, service="Radarr") for r in radarr["records"])
    assert all(len(d.queue_ids) == 1 for d in movies.values())
    seerr = [
        request_from_wire(r)
        for r in load_fixture("jellyseerr/api/request_list_page.json")["results"]
    ]
    assert seerr[0].seasons == (2, 3)
    assert seerr[0].requested_by
    # Season 2 completed on its own (Seerr 2.6+), season 3 still approved.
    assert seerr[0].season_statuses == ((2, 5), (3, 2))
    assert seerr[0].media_seasons is None  # the list has no media.seasons
    assert needs_media_seasons(seerr[0])  # approved, the show partially available
    assert not needs_media_seasons(seerr[1])  # a movie
    # GET /api/v1/request/{id} has its media with its seasons (the shape /tv/{id} shows).
    media = load_fixture("jellyseerr/api/tv_19885.json")["mediaInfo"]
    one = {**load_fixture("jellyseerr/api/request_list_page.json")["results"][0], "media": media}
    assert media_seasons_from_wire(one) == ((1, 5), (2, 5), (3, 3), (4, 5))
    assert not catch_up.seasons_done(attrs.evolve(seerr[0], media_seasons=((2, 5), (3, 3))))
    assert catch_up.seasons_done(attrs.evolve(seerr[0], media_seasons=((3, 5),)))


# -- history → facts ------------------------------------------------------------------------------


def test_a_season_pack_grab_is_one_fact_and_its_imports_one_per_file() -> None:
    rows = [record(n, "grabbed", n) for n in (1, 2, 3)]
    rows += [
        record(10 + n, "downloadFolderImported", n, data={"importedPath": f"/tv/S02E0{n}.mkv"})
        for n in (1, 2)
    ]
    caught = catch_up.sonarr_facts(rows)
    assert [c.event for c in caught] == ["caught_up_grab", "caught_up_import", "caught_up_import"]
    grab = caught[0].fact
    assert isinstance(grab, m.EpisodesGrabbed)
    assert grab.download_hash == HASH.lower()
    assert [(e.season, e.episode) for e in grab.episodes] == [(2, 1), (2, 2), (2, 3)]


def test_a_manual_import_without_a_download_id_is_still_an_import() -> None:
    (caught,) = catch_up.sonarr_facts(
        [record(5, "downloadFolderImported", 3, download_id=None, data={"importedPath": "/x.mkv"})]
    )
    assert isinstance(caught.fact, m.EpisodesImported)
    assert caught.fact.download_hash is None
    assert caught.fact.files[0].path == "/x.mkv"


def test_a_failed_download_is_a_note_for_the_requests_holding_it() -> None:
    (caught,) = catch_up.sonarr_facts(
        [record(7, "downloadFailed", 1, data={"message": "Manually marked as failed"})]
    )
    assert caught.download_hash == HASH.lower()
    assert isinstance(caught.fact, m.ActionRecorded)
    assert "Manually marked as failed" in caught.fact.detail


def test_rows_of_a_deleted_series_are_skipped() -> None:
    orphan = ArrHistoryRecord(
        id=1, event_type="grabbed", date=0.0, download_id=HASH, source_title="x", item_id=1
    )
    assert catch_up.sonarr_facts([orphan]) == []


def test_radarr_rows_become_movie_facts() -> None:
    movie = ArrMovie(id=311, title="Dune: Part Two", year=2024, tmdb_id=693134)
    rows = [
        ArrHistoryRecord(
            id=1, event_type="grabbed", date=0.0, download_id=HASH, source_title="Dune",
            item_id=311, movie=movie,
        ),
        ArrHistoryRecord(
            id=2, event_type="downloadFolderImported", date=1.0, download_id=HASH,
            source_title="Dune", item_id=311, movie=movie, data={"importedPath": "/m/Dune.mkv"},
        ),
    ]  # fmt: skip
    grab, imported = catch_up.radarr_facts(rows)
    assert isinstance(grab.fact, m.MovieGrabbed)
    assert isinstance(imported.fact, m.MovieImported)
    assert imported.fact.file.path == "/m/Dune.mkv"


# -- the dedupe rule --------------------------------------------------------------------------


def test_the_webhook_and_the_history_record_of_one_grab_share_an_event_key() -> None:
    body = load_fixture("sonarr/grab_season_pack.json")
    fact = translate("sonarr", body)
    assert isinstance(fact, m.EpisodesGrabbed)
    rows = [
        ArrHistoryRecord(
            id=100 + i,
            event_type="grabbed",
            date=0.0,
            download_id=body["downloadId"],
            source_title="x",
            item_id=e.sonarr_episode_id,
            series=ArrSeries(id=body["series"]["id"], title="Horimiya"),
            episode=ArrEpisode(id=e.sonarr_episode_id or 0, season=e.season, episode=e.episode),
        )
        for i, e in enumerate(fact.episodes)
    ]
    (caught,) = catch_up.sonarr_facts(rows)
    assert caught.key == event_key("sonarr", fact)


def test_the_webhook_and_the_history_record_of_one_import_share_an_event_key() -> None:
    body = load_fixture("sonarr/download_season_pack_file.json")
    fact = translate("sonarr", body)
    assert isinstance(fact, m.EpisodesImported)
    episode = fact.episodes[0]
    row = ArrHistoryRecord(
        id=1,
        event_type="downloadFolderImported",
        date=0.0,
        download_id=body["downloadId"],  # the same import event's download id
        source_title="x",
        item_id=1,
        data={"importedPath": body["episodeFile"]["path"]},
        series=ArrSeries(id=body["series"]["id"], title="Horimiya"),
        episode=ArrEpisode(id=1, season=episode.season, episode=episode.episode),
    )
    (caught,) = catch_up.sonarr_facts([row])
    assert caught.key == event_key("sonarr", fact)
    # The same file imported from another release is another event.
    other = attrs_evolve(fact, download_hash="0" * 40)
    assert event_key("sonarr", other) != caught.key
    # A manual import: no download id on either side.
    manual = attrs_evolve(fact, download_hash=None)
    (by_hand,) = catch_up.sonarr_facts([attrs_evolve(row, download_id=None)])
    assert by_hand.key == event_key("sonarr", manual)


episodes = st.lists(
    st.tuples(st.integers(0, 30), st.integers(0, 300)), min_size=1, max_size=8, unique=True
)
hashes = st.text("0123456789abcdefABCDEF", min_size=40, max_size=40)


@given(episodes, hashes, st.randoms())
def test_a_grab_identity_ignores_order_case_and_titles(
    pairs: list[tuple[int, int]], download: str, random: Any
) -> None:
    series = m.SeriesRef(
        sonarr_id=1, tvdb_id=2, tmdb_id=None, imdb_id=None, title="A", year=None, is_anime=False
    )
    refs = [m.EpisodeRef(season=s, episode=e, title=f"t{e}") for s, e in pairs]
    shuffled = list(refs)
    random.shuffle(shuffled)
    first = m.EpisodesGrabbed(
        series=series, episodes=tuple(refs), download_hash=download.upper(), release_title="a"
    )
    second = m.EpisodesGrabbed(
        series=attrs_evolve(series, title="B"),
        episodes=tuple(m.EpisodeRef(season=r.season, episode=r.episode) for r in shuffled),
        download_hash=download.lower(),
        release_title="b",
    )
    assert catch_up.event_key("sonarr", first) == catch_up.event_key("sonarr", second)


@given(episodes, episodes, hashes, hashes)
def test_different_grabs_never_share_an_identity(
    one: list[tuple[int, int]], two: list[tuple[int, int]], hash_one: str, hash_two: str
) -> None:
    series = m.SeriesRef(
        sonarr_id=1, tvdb_id=2, tmdb_id=None, imdb_id=None, title="A", year=None, is_anime=False
    )

    def grab(pairs: list[tuple[int, int]], download: str) -> m.EpisodesGrabbed:
        refs = tuple(m.EpisodeRef(season=s, episode=e) for s, e in pairs)
        return m.EpisodesGrabbed(
            series=series, episodes=refs, download_hash=download, release_title=None
        )

    same = set(one) == set(two) and hash_one.lower() == hash_two.lower()
    keys_equal = catch_up.event_key("sonarr", grab(one, hash_one)) == catch_up.event_key(
        "sonarr", grab(two, hash_two)
    )
    assert keys_equal == same
    assert catch_up.event_key("sonarr", grab(one, hash_one)) != catch_up.event_key(
        "radarr", grab(one, hash_one)
    )


def test_facts_without_an_identity_fall_back_to_the_body() -> None:
    assert catch_up.event_key("sonarr", m.UnhandledEvent(source="sonarr", event_type="X")) is None
    grab = m.MovieGrabbed(
        radarr_id=1, tmdb_id=2, imdb_id=None, title="x", year=None, is_anime=False,
        download_hash=None, release_title=None,
    )  # fmt: skip
    assert catch_up.event_key("radarr", grab) is None


def attrs_evolve(instance: Any, **changes: Any) -> Any:
    import attrs

    return attrs.evolve(instance, **changes)


# -- caught-up marking ----------------------------------------------------------------------


def test_caught_up_entries_are_told_apart_and_state_entries_kept() -> None:
    from status_tracker.domain import TimelineEntry

    def entry(event: str, detail: str | None = None) -> TimelineEntry:
        return TimelineEntry(request_id=1, at=0.0, source="sonarr", event=event, detail=detail)

    marked = catch_up.caught_up_timeline(
        [entry("grabbed", "Pack"), entry("state_derived"), entry("transition_refused")],
        "caught_up_grab",
        "sonarr",
    )
    assert [e.event for e in marked] == ["caught_up_grab", "state_derived", "transition_refused"]
    assert marked[0].detail == "grabbed (caught up from Sonarr's API): Pack"
    assert catch_up.split_caught_up("caught_up_grab:EpisodesGrabbed") == (
        "caught_up_grab",
        "EpisodesGrabbed",
    )
    assert catch_up.split_caught_up("EpisodesGrabbed") == (None, "EpisodesGrabbed")
    assert catch_up.split_caught_up("Grab") == (None, "Grab")


# -- Jellyseerr: what is missing ------------------------------------------------------------


def seerr(
    request_id: int,
    status: int = 2,
    media_status: int = 3,
    seasons=(1,),
    *,
    season_statuses: dict[int, int] | None = None,
    media_seasons: dict[int, int] | None = None,
) -> SeerrRequest:
    own = {n: status for n in seasons} | (season_statuses or {})
    return SeerrRequest(
        id=request_id, status=status, media_type="tv", media_status=media_status, tmdb_id=10,
        tvdb_id=20, seasons=seasons, requested_by="alice", requested_at=None, arr_id=None,
        jellyfin_id=None, season_statuses=tuple(sorted(own.items())),
        media_seasons=None if media_seasons is None else tuple(sorted(media_seasons.items())),
    )  # fmt: skip


def ours(request_id: int, jellyseerr_id: int, state: str, seasons=(1,)) -> RequestRow:
    return RequestRow(
        id=request_id, media_type="tv", title="T", state=state, source="jellyseerr",
        jellyseerr_request_id=jellyseerr_id, requested_seasons=seasons, created_at=0.0,
        updated_at=0.0, last_change_at=0.0,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("listed", "known", "create", "facts", "withdrawn"),
    [
        pytest.param([seerr(1)], {}, [1], [], [], id="approved, unknown: created"),
        pytest.param([seerr(1, status=1)], {}, [1], [], [], id="pending, unknown: created"),
        pytest.param([seerr(1, media_status=5)], {}, [], [], [], id="available: not in flight"),
        pytest.param([seerr(1, media_status=4)], {}, [1], [], [], id="partially available"),
        pytest.param(
            [seerr(1, media_status=4, media_seasons={1: 5, 2: 1})], {}, [], [], [],
            id="partially available show, the requested season available: finished",
        ),
        pytest.param(
            [seerr(1, media_status=3, seasons=(1, 2), media_seasons={1: 5, 2: 7})], {}, [], [],
            [], id="requested seasons available or deleted: finished",
        ),
        pytest.param(
            [seerr(1, media_status=4, seasons=(1, 2), media_seasons={1: 5, 2: 4})], {}, [1], [],
            [], id="a requested season partly available: in flight",
        ),
        pytest.param(
            [seerr(1, media_status=4, seasons=(1, 2), media_seasons={1: 5})], {}, [1], [], [],
            id="a requested season the show does not list yet: in flight",
        ),
        pytest.param(
            [seerr(1, media_status=4, seasons=(1, 2), season_statuses={1: 5})], {}, [1], [], [],
            id="Seerr 2.6+: one season request completed, one not: in flight",
        ),
        pytest.param(
            [seerr(1, media_status=4, seasons=(1, 2), season_statuses={1: 5},
                   media_seasons={2: 5})], {}, [], [], [],
            id="one completed by Seerr, the other available",
        ),
        pytest.param(
            [seerr(1, status=1, media_status=4, media_seasons={1: 5})], {}, [], [], [],
            id="pending for an available season: finished",
        ),
        pytest.param([seerr(1, status=3)], {}, [], [], [], id="declined, unknown: nothing"),
        pytest.param([seerr(1, status=5)], {}, [], [], [], id="completed: nothing"),
        pytest.param([seerr(1)], {1: ours(9, 1, "grabbing")}, [], [], [], id="known: nothing"),
        pytest.param(
            [seerr(1, status=3)], {1: ours(9, 1, "approved")}, [], ["RequestDeclined"], [],
            id="declined: reflected",
        ),
        pytest.param(
            [seerr(1)], {1: ours(9, 1, "requested")}, [], ["MediaRequested"], [],
            id="approval missed",
        ),
        pytest.param(
            [seerr(1, seasons=(1, 2))], {1: ours(9, 1, "grabbing")}, [], ["MediaRequested"], [],
            id="season added",
        ),
        pytest.param([], {1: ours(9, 1, "approved")}, [], [], [9], id="deleted in Jellyseerr"),
        pytest.param([], {1: ours(9, 1, "available")}, [], [], [], id="deleted, finished"),
        pytest.param(
            [seerr(1, status=3)], {1: ours(9, 1, "failed")}, [], [], [], id="declined, finished"
        ),
    ],
)  # fmt: skip
def test_what_jellyseerr_changes(
    listed: list[SeerrRequest],
    known: dict[int, RequestRow],
    create: list[int],
    facts: list[str],
    withdrawn: list[int],
) -> None:
    plan = catch_up.plan_jellyseerr(listed, known)
    assert [r.id for r in plan.create] == create
    assert [type(c.fact).__name__ for c in plan.facts] == facts
    assert [r.id for r in plan.withdrawn] == withdrawn


@given(
    st.lists(st.builds(seerr, st.integers(1, 50), st.sampled_from([1, 2, 3, 4, 5]),
                       st.sampled_from([1, 2, 3, 4, 5, 7])), unique_by=lambda r: r.id),
    st.sets(st.integers(1, 50)),
)  # fmt: skip
def test_jellyseerr_never_creates_what_it_knows_nor_withdraws_what_it_lists(
    listed: list[SeerrRequest], known_ids: set[int]
) -> None:
    known = {i: ours(100 + i, i, "approved") for i in known_ids}
    plan = catch_up.plan_jellyseerr(listed, known)
    listed_ids = {r.id for r in listed}
    assert not {r.id for r in plan.create} & known_ids
    assert not {r.jellyseerr_request_id for r in plan.withdrawn} & listed_ids
    assert {r.jellyseerr_request_id for r in plan.withdrawn} == known_ids - listed_ids


def test_a_withdrawal_deletes_only_what_was_not_grabbed() -> None:
    assert isinstance(catch_up.withdrawal(ours(9, 1, "approved")).fact, m.RequestWithdrawn)
    assert isinstance(catch_up.withdrawal(ours(9, 1, "downloading")).fact, m.ActionRecorded)


# -- stalls ---------------------------------------------------------------------------------


def download(**changes: Any) -> rules.QueuedDownload:
    fields: dict[str, Any] = {
        "download_id": HASH.lower(),
        "title": "Pack",
        "queue_ids": (7,),
        "item_ids": (1, 2, 3),
        "tracked_state": "downloading",
        "reason": "The download is stalled with no connections",
        "size_left": 100.0,
        "stalled": True,
    }
    fields.update(changes)
    return rules.QueuedDownload(**fields)


@pytest.mark.parametrize(
    ("changes", "progress_at", "acted_at", "policy", "happy", "action"),
    [
        ({}, 0.0, None, "research", None, "research"),
        ({}, 0.0, None, "notify", None, "notify"),
        ({}, 0.0, None, "none", None, "none"),
        ({}, 500.0, None, "research", None, "none"),  # progress within the period
        ({"stalled": False}, 0.0, None, "research", None, "none"),  # seeds, just slow
        ({"size_left": 0.0}, 0.0, None, "research", None, "none"),  # complete
        ({"tracked_state": "importPending"}, 0.0, None, "research", None, "none"),
        ({}, 0.0, 900.0, "research", None, "none"),  # acted within the period
        ({}, 0.0, 100.0, "research", None, "research"),  # a period after the last action
        ({}, 0.0, None, "research", "request 3 is happy", "spare"),
    ],
)
def test_what_to_do_about_a_stall(
    changes: dict[str, Any],
    progress_at: float,
    acted_at: float | None,
    policy: rules.StalledAction,
    happy: str | None,
    action: str,
) -> None:
    verdict = rules.judge_stall(
        download(**changes),
        progress_at=progress_at,
        acted_at=acted_at,
        now=1000.0,
        policy=policy,
        after_s=600.0,
        happy_elsewhere=happy,
    )
    assert verdict.action == action


@given(
    st.floats(0, 1e6),
    st.one_of(st.none(), st.floats(0, 1e6)),
    st.floats(0, 1e6),
    st.sampled_from(["none", "notify", "research"]),
    st.floats(1, 1e5),
)
def test_a_stall_is_acted_on_at_most_once_per_period(
    progress_at: float, acted_at: float | None, now: float, policy: Any, after: float
) -> None:
    verdict = rules.judge_stall(
        download(), progress_at=progress_at, acted_at=acted_at, now=now, policy=policy,
        after_s=after,
    )  # fmt: skip
    if verdict.action != "none":
        assert now - progress_at >= after
        assert acted_at is None or now - acted_at >= after
        assert verdict.action == policy


@pytest.mark.parametrize(
    ("states", "happy"),
    [
        ({1: ["downloading", "downloading"]}, False),
        ({1: ["downloading"], 2: ["downloaded"]}, True),
        ({1: ["importing", "available"]}, True),
        ({1: ["downloaded", "downloading"]}, False),
        ({1: ["deleted"]}, False),
        ({}, False),
    ],
)
def test_who_is_happy_with_a_download(states: dict[int, list[str]], happy: bool) -> None:
    assert (rules.happy_with(states) is not None) == happy


@given(st.lists(st.tuples(st.floats(0, 1e9), st.floats(0, 1e9)), min_size=1))
def test_progress_is_dated_when_fewer_bytes_are_left(steps: list[tuple[float, float]]) -> None:
    size_left, at = None, None
    for now, left in sorted(steps):
        new_at = rules.progress_since(size_left, at, left, now)
        assert new_at == now or (size_left is not None and left >= size_left and new_at == at)
        size_left, at = left, new_at


# -- the cursor and the nudges --------------------------------------------------------------


LATER = 2_000_000_000.0
"""A ``now`` after every row's date."""


@given(st.lists(st.integers(1, 10_000), unique=True), st.integers(0, 10_000))
def test_the_cursor_never_goes_back_and_rows_are_read_once(ids: list[int], start: int) -> None:
    cursor = rules.Cursor(id=start, date=record(start, "grabbed", 1).date)
    records = [record(i, "grabbed", 1) for i in ids]
    unread = rules.unread(records, cursor, LATER)
    assert all(r.id > start for r in unread)
    advanced = rules.advance(cursor, unread, LATER)
    assert advanced is not None
    assert advanced.id >= start
    assert rules.unread(records, advanced, LATER) == []


def _dated(record_id: int, date: float) -> ArrHistoryRecord:
    return attrs.evolve(record(record_id, "grabbed", 1), date=date)


def _read_rounds(
    history: list[ArrHistoryRecord], rounds: list[tuple[float, set[int]]]
) -> list[list[int]]:
    """The ids each round reads: each round at ``now``, the history holding the rows of the
    ids given, and ``history/since`` answering those dated at or after the date asked."""
    cursor = None
    read = []
    for now, present in rounds:
        since = rules.read_from(cursor, now)
        answered = [r for r in history if r.id in present and r.date >= since]
        unread = rules.unread(answered, cursor, now)
        read.append(sorted(r.id for r in unread))
        cursor = rules.advance(cursor, unread, now)
        assert cursor is None or cursor.date <= now
    return read


NOW = 1_800_000_000.0
FAR = 10**15


def test_a_row_dated_in_the_future_hides_no_later_row() -> None:
    future = _dated(2, NOW + 86400 * 365 * 7000)  # near the year 9999, on the service's clock
    history = [_dated(1, NOW - 60), future, _dated(3, NOW + 250), _dated(4, NOW + 550)]
    rounds = [(NOW, {1, 2}), (NOW + 300, {1, 2, 3}), (NOW + 600, {1, 2, 3, 4})]
    read = _read_rounds(history, [*rounds, (NOW + 900, {1, 2, 3, 4})])
    assert read == [[1, 2], [3], [4], []]


def test_a_cursor_an_id_far_ahead_once_moved_reads_on_by_date() -> None:
    history = [_dated(1, NOW - 60), _dated(FAR, NOW - 30), _dated(2, NOW + 100)]
    history += [_dated(3, NOW + 400)]
    rounds = [(NOW, {1, FAR}), (NOW + 300, {1, FAR, 2}), (NOW + 600, {1, FAR, 2, 3})]
    assert _read_rounds(history, rounds) == [[1, FAR], [2], [3]]
    again = _read_rounds(history, [*rounds[:2], (NOW + 300, {1, FAR, 2})])
    assert again[-1] == [], "a row read by its date is not read again"


def test_a_stored_cursor_dated_past_now_asks_since_now() -> None:
    cursor = rules.Cursor(id=7, date=253402300799.0 + 50400)  # 9999-12-31T23:59:59-14:00
    assert rules.read_from(cursor, NOW) == NOW
    advanced = rules.advance(cursor, [], NOW)
    assert advanced == rules.Cursor(id=7, date=NOW)


def test_a_time_utc_cannot_write_is_unreadable_and_any_time_can_be_asked_for() -> None:
    assert parse_time("9999-12-31T23:59:59-14:00") is None
    assert parse_time("9999-12-31T23:59:59Z") == 253402300799.0
    assert format_time(1e300) == "9999-12-31T23:59:59Z"
    assert format_time(NOW) == "2027-01-15T08:00:00Z"


def test_nudges_once_per_stay_and_the_library_scan_rate_limited() -> None:
    waiting = [
        rules.Waiting(request_id=1, since=0.0, jellyfin_id="abc"),
        rules.Waiting(request_id=2, since=0.0),
        rules.Waiting(request_id=3, since=900.0),
    ]
    due = rules.nudges_due(waiting, set(), now=1000.0, after_s=300.0, library_refreshed_at=None)
    assert [(n.request_id, n.item_id) for n in due] == [(1, "abc"), (2, None)]
    done = {(1, 0.0), (2, 0.0)}
    assert (
        rules.nudges_due(waiting, done, now=1000.0, after_s=300.0, library_refreshed_at=None) == []
    )
    recently = rules.nudges_due(
        waiting, set(), now=1000.0, after_s=300.0, library_refreshed_at=900.0
    )
    assert [n.request_id for n in recently] == [1]


def test_the_jellyseerr_fixture_gives_requester_and_seasons() -> None:
    body = load_fixture("jellyseerr/api/request_list_page.json")
    request = request_from_wire(body["results"][0])
    fact = catch_up.requested_fact(request, None)
    assert fact.requested_seasons == (2, 3)
    assert fact.requested_by == request.requested_by
    assert json.dumps(fact.requested_seasons)
