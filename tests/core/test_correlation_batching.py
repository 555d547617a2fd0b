"""Correlating mail in waves routes every row as one at a time would (the batching rule in
``correlation``'s docstring), and applying a message stores no key it does not declare.

A row is a webhook fact or a hand-off of a message to a request. One-at-a-time routes each row
against the requests as every earlier row left them; waves route each row of a wave against the
requests as they were before the wave, a wave taking rows from the first left while `Wave`
admits their footprints, or a row waits for the wave's rows of one request only and goes to
that request as they leave it (``in_waves``). Both apply what they route through ``decide``
and hand a fact for several requests on as copies at the end of the queue, as the dispatcher
does. Storage's look-ups are the reference model of ``builders.find_candidates``.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence

import attrs
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from status_tracker.actors.dispatch.correlation import (
    Footprint,
    Key,
    Wave,
    downloads_to_join,
    episode_keys,
    lookup_for,
    read_keys,
    request_keys,
    route,
    writes_of,
    written_keys,
)
from status_tracker.actors.media_request import messages as m
from status_tracker.actors.media_request.state import RequestState, decide

from status_tracker.domain import EpisodeRow, RequestRow

from .builders import (
    NOW,
    find_candidates,
    movie_grabbed,
    movie_imported,
    movie_requested,
    owners_of,
    series,
    series_requested,
    torrent_hash,
)

TITLES = ("Alien", "Shōgun", "SHOGUN")
HASHES = tuple(torrent_hash(name) for name in ("one", "two", "three"))
EPISODE_TVDB = (501, 502, 503)
REQUEST_IDS = st.integers(1, 6)


def _ids(*values: int) -> st.SearchStrategy[int | None]:
    return st.sampled_from((None, *values))


titles = st.sampled_from(TITLES)
hashes = st.sampled_from((None, *HASHES))
tmdb_ids = _ids(1, 2)
tvdb_ids = _ids(10, 11)
jellyseerr_ids = _ids(1, 2, 3)
shoko_files = _ids(90, 91)
keys = st.tuples(st.sampled_from((1, 2)), st.integers(1, 3))
episode_refs = st.lists(
    st.builds(
        lambda key, tvdb: m.EpisodeRef(season=key[0], episode=key[1], tvdb_id=tvdb),
        keys,
        st.sampled_from((None, *EPISODE_TVDB)),
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda ref: (ref.season, ref.episode),
).map(tuple)
series_refs = st.builds(
    series,
    titles,
    tvdb_id=tvdb_ids,
    anime=st.booleans(),
    sonarr_id=_ids(41, 42),
    tmdb_id=tmdb_ids,
)
media_types = st.sampled_from(("movie", "tv"))
requested_seasons = st.sampled_from(((1,), (2,), (1, 2), ()))
"""Seasons a Jellyseerr request asks for: requests for one series differ in them, and grabs
(``keys``) name seasons 1 and 2, as packs or single episodes."""


def _about_a_request(fact: type) -> st.SearchStrategy[object]:
    """A Jellyseerr fact naming its request by media ids and Jellyseerr id."""
    return st.builds(
        fact,
        media_type=media_types,
        tmdb_id=tmdb_ids,
        tvdb_id=tvdb_ids,
        jellyseerr_request_id=jellyseerr_ids,
    )


def _provider_ids(**ids: int | None) -> tuple[tuple[str, str], ...]:
    """Jellyfin's provider ids as the plugin sends them (``shoko_file`` is ``shoko file``)."""
    return tuple(
        (name.replace("_", " "), str(value)) for name, value in ids.items() if value is not None
    )


def _library_movie(tmdb: int | None, shoko_file: int | None) -> m.LibraryItemAdded:
    return m.LibraryItemAdded(
        item_id="jf-movie",
        item_type="Movie",
        name="Alien",
        year=2024,
        provider_ids=_provider_ids(tmdb=tmdb, shoko_file=shoko_file),
    )


def _library_episode(
    title: str, key: tuple[int, int], tvdb: int | None, shoko_file: int | None = None
) -> m.LibraryItemAdded:
    return m.LibraryItemAdded(
        item_id=f"jf-{key}",
        item_type="Episode",
        name="Episode",
        year=2024,
        series_name=title,
        season=key[0],
        episode=key[1],
        provider_ids=_provider_ids(tvdb=tvdb, shoko_file=shoko_file),
    )


season_requests = st.builds(
    series_requested,
    titles,
    tvdb_id=tvdb_ids,
    tmdb_id=tmdb_ids,
    seasons=requested_seasons,
    jellyseerr_id=jellyseerr_ids,
)


FACTS: dict[type, st.SearchStrategy[object]] = {
    m.MediaRequested: st.builds(
        movie_requested, titles, tmdb_id=tmdb_ids, jellyseerr_id=jellyseerr_ids
    )
    | season_requests,
    m.RequestDeclined: _about_a_request(m.RequestDeclined),
    m.RequestFailed: _about_a_request(m.RequestFailed),
    m.MediaReportedAvailable: _about_a_request(m.MediaReportedAvailable),
    m.MovieGrabbed: st.builds(
        movie_grabbed, titles, tmdb_id=tmdb_ids, radarr_id=_ids(7, 8), download_hash=hashes
    ),
    m.MovieImported: st.builds(movie_imported, titles, tmdb_id=tmdb_ids, download_hash=hashes),
    m.MovieDeleted: st.builds(
        m.MovieDeleted, radarr_id=_ids(7, 8), tmdb_id=tmdb_ids, file_only=st.booleans()
    ),
    m.EpisodesGrabbed: st.builds(
        m.EpisodesGrabbed,
        series=series_refs,
        episodes=episode_refs,
        download_hash=hashes,
        release_title=st.just("Show.S01.1080p"),
    ),
    m.EpisodesImported: st.builds(
        lambda show, refs, hash_, complete: m.EpisodesImported(
            series=show,
            episodes=refs,
            files=tuple(
                m.ImportedFile(
                    path=f"/tv/{r.season}x{r.episode}.mkv", episodes=((r.season, r.episode),)
                )
                for r in refs
            ),
            download_hash=hash_,
            complete=complete,
        ),
        series_refs,
        episode_refs,
        hashes,
        st.booleans(),
    ),
    m.EpisodeFilesDeleted: st.builds(
        m.EpisodeFilesDeleted, series=series_refs, episodes=episode_refs
    ),
    m.SeriesDeleted: st.builds(m.SeriesDeleted, series=series_refs, deleted_files=st.booleans()),
    m.ImportBlocked: st.builds(
        m.ImportBlocked,
        series=st.none() | series_refs,
        episodes=st.just(()),
        radarr_id=_ids(7, 8),
        tmdb_id=tmdb_ids,
        download_hash=hashes,
        status=st.just("warning"),
    ),
    m.LibraryItemAdded: st.builds(_library_movie, tmdb_ids, shoko_files)
    | st.builds(
        _library_episode, titles, keys, st.sampled_from((None, *EPISODE_TVDB)), shoko_files
    ),
    m.WebhookTested: st.builds(m.WebhookTested, source=st.just("radarr")),
    m.UnhandledEvent: st.builds(
        m.UnhandledEvent, source=st.just("sonarr"), event_type=st.just("Health")
    ),
}
HAND_OFFS: dict[type, st.SearchStrategy[object]] = {
    m.DownloadProgressed: st.builds(
        lambda hash_, progress: m.DownloadProgressed(
            hash=hash_,
            name=None,
            state="completed" if progress >= 100 else "downloading",
            client_state=None,
            progress=progress,
        ),
        st.sampled_from(HASHES),
        st.sampled_from((10.0, 100.0)),
    ),
    m.DownloadJoined: st.builds(
        m.DownloadJoined, hash=st.sampled_from(HASHES), name=st.none(), episodes=episode_refs
    ),
    m.AvailabilityConfirmed: st.builds(
        m.AvailabilityConfirmed,
        by=st.just("tmdb"),
        jellyfin_id=st.just("jf"),
        episodes=st.lists(keys.map(lambda key: (*key, "jf-ep")), max_size=2).map(tuple),
    ),
    m.AvailabilityUnconfirmed: st.builds(m.AvailabilityUnconfirmed, reason=st.just("not yet")),
    m.DeletionRequested: st.builds(
        m.DeletionRequested, episodes=st.lists(keys, max_size=2).map(tuple)
    ),
    m.EpisodesListed: st.builds(
        m.EpisodesListed, sonarr_id=st.sampled_from((41, 42)), episodes=episode_refs
    ),
    m.ShokoFileReported: st.builds(
        m.ShokoFileReported,
        event=st.sampled_from(("matched", "deleted")),
        file_id=shoko_files,
        relative_path=st.just("Show/1.mkv"),
        has_cross_references=st.booleans(),
        episodes=st.lists(keys, max_size=2).map(tuple),
    ),
    m.ActionRecorded: st.builds(m.ActionRecorded, event=st.just("nudged"), detail=st.just("x")),
    m.CheckRequested: st.builds(m.CheckRequested),
    m.RequestWithdrawn: st.builds(m.RequestWithdrawn, detail=st.just("deleted in Jellyseerr")),
}


@typing.final
@attrs.frozen
class Row:
    """A webhook fact (``to`` None) or a hand-off of ``message`` to request ``to``."""

    message: object
    to: int | None = None


rows = st.lists(
    st.one_of(
        st.one_of(*FACTS.values()).map(Row),
        st.builds(Row, st.one_of(*HAND_OFFS.values()), REQUEST_IDS),
    ),
    min_size=1,
    max_size=30,
)

tv_rows = st.lists(
    st.one_of(
        st.one_of(season_requests, FACTS[m.EpisodesGrabbed], FACTS[m.EpisodesImported]).map(Row),
        st.builds(
            Row,
            st.one_of(
                HAND_OFFS[m.EpisodesListed],
                HAND_OFFS[m.DownloadJoined],
                HAND_OFFS[m.DownloadProgressed],
            ),
            REQUEST_IDS,
        ),
    ),
    min_size=1,
    max_size=20,
)
"""Rows about seasons of a few series alone: requests for differing seasons of one series,
and the packs and episodes Sonarr grabs and imports for them, meet far more often."""

World = dict[int, RequestState]


@typing.final
@attrs.frozen
class Routed:
    """Where one row goes: existing requests, a new one (``create``), with these messages."""

    targets: tuple[int, ...]
    create: bool
    messages: tuple[object, ...]
    footprint: Footprint


def route_row(row: Row, world: World) -> Routed:
    """Route ``row`` against ``world``, with what doing so reads and applying it may write."""
    if row.to is not None:
        held = world.get(row.to)
        writes = writes_of([(row.to, held.request if held else None)], [row.message])
        return Routed((row.to,), False, (row.message,), Footprint(writes=writes))
    lookup = lookup_for(row.message)
    if lookup is None:
        return Routed((), False, (), Footprint())
    known = list(world.values())
    found = find_candidates(lookup, known)
    owners = {i for ids in owners_of(lookup, known).values() for i in ids}
    chosen = route(row.message, found)
    messages: tuple[object, ...] = (row.message,)
    if chosen.create and isinstance(row.message, m.MediaRequested):
        episodes = {k.request.id: list(k.episodes.values()) for k in known}
        messages += downloads_to_join(row.message, found.by_media, episodes)
    targets = [(t, world[t].request) for t in chosen.targets]
    footprint = Footprint(
        reads=read_keys(lookup, found, owners), writes=writes_of(targets, messages)
    )
    return Routed(chosen.targets, chosen.create, messages, footprint)


@typing.final
@attrs.define
class Run:
    """Rows being applied: the requests, the queue (hand-offs of copies join its end), the
    targets each row was applied to, and the next request id."""

    queue: list[Row]
    world: World = attrs.Factory(dict)
    applied_to: list[tuple[int, ...]] = attrs.Factory(list)
    timelines: dict[int, list[tuple[object, ...]]] = attrs.Factory(dict)
    next_id: int = 1

    def apply(self, index: int, routed: Routed, *, created_at: float) -> None:
        now = NOW + index
        if len(routed.targets) > 1:  # the dispatcher posts each request its own copy
            self.queue += [Row(message, to) for to in routed.targets for message in routed.messages]
            self.applied_to.append(routed.targets)
            return
        targets = routed.targets
        if routed.create:
            targets = (self.next_id,)
            self.next_id += 1
        self.applied_to.append(targets)
        for target in targets:
            state = self.world.get(target)
            at = created_at if state is None else now
            for message in routed.messages:
                decision = decide(state, message, request_id=target, now=at, source="test")  # type: ignore[arg-type]
                state = decision.state
                self.timelines.setdefault(target, []).extend(
                    attrs.astuple(attrs.evolve(entry, at=0.0)) for entry in decision.timeline
                )
            if state is not None:
                self.world[target] = state


def one_at_a_time(given: Sequence[Row]) -> Run:
    run = Run(queue=list(given))
    index = 0
    while index < len(run.queue):
        run.apply(index, route_row(run.queue[index], run.world), created_at=NOW + index)
        index += 1
    return run


def in_waves(given: Sequence[Row]) -> tuple[Run, list[int]]:
    """The run, and the length of each wave.

    A wave takes rows from the first left while `Wave` admits their footprints, each routed
    against the requests as the wave found them; a row reading keys only the wave's rows of one
    request write is routed again against that request as those rows leave it (worked out at
    another time than applying them will take, as the dispatcher's planner does), and taken
    when it then goes to that request alone."""
    run = Run(queue=list(given))
    index = 0
    lengths = []
    while index < len(run.queue):
        wave = Wave()
        planned: list[Routed] = []
        followed: World = {}
        next_id = run.next_id
        for position, row in enumerate(run.queue[index:], start=index):
            routed = route_row(row, run.world)  # the world as the wave found it
            waits = wave.waits_for(routed.footprint)
            if waits:
                follows = _following(row, waits, run.world, followed)
                if follows is None:
                    break
                routed = follows
            applied_to: int | None = None
            if routed.create:
                applied_to, next_id = next_id, next_id + 1
            elif len(routed.targets) == 1:
                applied_to = routed.targets[0]
            wave.take(routed.footprint, applied_to=applied_to)
            planned.append(routed)
            if applied_to is not None:
                state = followed.get(applied_to, run.world.get(applied_to))
                now = NOW + index if state is None else NOW + 10_000 + position
                for message in routed.messages:
                    state = decide(  # type: ignore[arg-type]
                        state, message, request_id=applied_to, now=now, source="test"
                    ).state
                if state is not None:
                    followed[applied_to] = state
        for offset, routed in enumerate(planned):
            run.apply(index + offset, routed, created_at=NOW + index)
        assert run.next_id == next_id, "new requests take the ids the wave foresaw"
        index += len(planned)
        lengths.append(len(planned))
    return run, lengths


def _following(
    row: Row, waits: frozenset[int | None], world: World, followed: World
) -> Routed | None:
    """``row`` routed against the one request the wave's rows it waits for are applied to, as
    they leave it, if it then goes there alone (what it then reads, no row of another request
    writes: see `correlation`)."""
    (request_id,) = waits if len(waits) == 1 else (None,)
    if request_id is None or request_id not in followed:
        return None
    routed = route_row(row, {**world, request_id: followed[request_id]})
    if routed.create or routed.targets != (request_id,):
        return None
    return routed


def timeless(world: World) -> dict[int, tuple[RequestRow, list[EpisodeRow]]]:
    """The requests and episodes with their times zeroed: waves create with the wave's time."""
    times = ("created_at", "updated_at", "last_change_at", "requested_at", "available_at")
    shown = {}
    for request_id, state in world.items():
        request = attrs.evolve(state.request, **{name: 0.0 for name in times})
        episodes = [
            attrs.evolve(row, updated_at=0.0, last_change_at=0.0)
            for _, row in sorted(state.episodes.items())
        ]
        shown[request_id] = (request, episodes)
    return shown


def _season_pack(season: int, download_hash: str) -> m.EpisodesGrabbed:
    return m.EpisodesGrabbed(
        series=series("Shōgun", tvdb_id=10, sonarr_id=41),
        episodes=tuple(m.EpisodeRef(season=season, episode=n) for n in (1, 2, 3)),
        download_hash=download_hash,
        release_title=f"Show.S0{season}.1080p",
    )


def _season_requested(season: int, jellyseerr_id: int) -> m.MediaRequested:
    return series_requested("Shōgun", tvdb_id=10, seasons=(season,), jellyseerr_id=jellyseerr_id)


SEASON_ORDERS: dict[str, tuple[list[Row], list[tuple[int, ...]]]] = {
    # Rows, and the request each goes to: each pack goes to the request for its season.
    "request-grab-request-grab": (
        [
            Row(_season_requested(1, 1)),
            Row(_season_pack(1, HASHES[0])),
            Row(_season_requested(2, 2)),
            Row(_season_pack(2, HASHES[1])),
        ],
        [(1,), (1,), (2,), (2,)],
    ),
    "both-requests-then-season-two-first": (
        [
            Row(_season_requested(1, 1)),
            Row(_season_requested(2, 2)),
            Row(_season_pack(2, HASHES[1])),
            Row(_season_pack(1, HASHES[0])),
        ],
        [(1,), (2,), (2,), (1,)],
    ),
}


@pytest.mark.parametrize(
    ("given_rows", "applied_to"), SEASON_ORDERS.values(), ids=SEASON_ORDERS.keys()
)
def test_season_packs_go_to_their_season_s_request_in_waves_as_one_at_a_time(
    given_rows: list[Row], applied_to: list[tuple[int, ...]]
) -> None:
    alone = one_at_a_time(given_rows)
    batched, _ = in_waves(given_rows)
    assert alone.applied_to == batched.applied_to == applied_to
    assert timeless(batched.world) == timeless(alone.world)


@settings(max_examples=400, deadline=None)
@given(rows)
@example([row for rows, _ in SEASON_ORDERS.values() for row in rows])
def test_rows_routed_in_waves_go_where_one_at_a_time_sends_them(given_rows: list[Row]) -> None:
    _routed_alike(given_rows)


@settings(max_examples=300, deadline=None)
@given(tv_rows)
def test_rows_about_seasons_routed_in_waves_go_where_one_at_a_time_sends_them(
    given_rows: list[Row],
) -> None:
    _routed_alike(given_rows)


def _routed_alike(given_rows: list[Row]) -> None:
    alone = one_at_a_time(given_rows)
    batched, lengths = in_waves(given_rows)
    assert batched.applied_to == alone.applied_to
    assert batched.queue == alone.queue
    assert timeless(batched.world) == timeless(alone.world)
    assert batched.timelines == alone.timelines
    assert sum(lengths) == len(batched.queue)


def test_rows_about_different_media_share_one_wave() -> None:
    approvals = [
        Row(movie_requested(f"Movie {n}", tmdb_id=n, jellyseerr_id=n)) for n in range(1, 6)
    ]
    grab = movie_grabbed("Movie 1", tmdb_id=1, radarr_id=7, download_hash=HASHES[0])
    run, lengths = in_waves([*approvals, Row(grab)])
    assert lengths == [6], "the grab follows the request the first approval makes"
    assert run.applied_to == [(1,), (2,), (3,), (4,), (5,), (1,)]


SHOGUN = series("Shōgun", tvdb_id=10, sonarr_id=41)
REVIVALS: dict[str, list[Row]] = {
    # A failed movie (declined again, so that a wave starts with it failed) joins a download
    # (a hand-off); the library then names it by TMDB id only, which only the request's own
    # columns hold.
    "failed-movie-by-its-own-tmdb-id": [
        Row(movie_requested("Alien", tmdb_id=1, jellyseerr_id=1)),
        Row(movie_grabbed("Alien", tmdb_id=1, radarr_id=7, download_hash=HASHES[0])),
        Row(m.RequestFailed(media_type="movie", tmdb_id=1, tvdb_id=None, jellyseerr_request_id=1)),
        Row(
            m.RequestDeclined(media_type="movie", tmdb_id=1, tvdb_id=None, jellyseerr_request_id=1)
        ),
        Row(m.DownloadJoined(hash=HASHES[1], name=None), to=1),
        Row(_library_movie(1, None)),
    ],
    # An available series gets a new episode by its hash; the library then names an episode
    # by its own TVDB id, under a series name of its own: only an episode holds that key.
    "available-series-by-an-episode-id": [
        Row(
            m.EpisodesGrabbed(
                series=SHOGUN,
                episodes=(m.EpisodeRef(season=1, episode=1, tvdb_id=501),),
                download_hash=HASHES[0],
                release_title=None,
            )
        ),
        Row(_library_episode("Shōgun", (1, 1), 501)),
        Row(
            m.EpisodesImported(
                series=SHOGUN,
                episodes=(m.EpisodeRef(season=1, episode=2, tvdb_id=502),),
                files=(m.ImportedFile(path="/tv/1x2.mkv", episodes=((1, 2),)),),
                download_hash=HASHES[0],
                complete=False,
            )
        ),
        Row(_library_episode("Shogun (2024)", (1, 1), 501)),
    ],
}


@pytest.mark.parametrize("given_rows", REVIVALS.values(), ids=REVIVALS.keys())
def test_a_row_finding_a_request_revived_in_its_wave_follows_the_revival(
    given_rows: list[Row],
) -> None:
    batched, lengths = in_waves(given_rows)
    assert batched.applied_to == one_at_a_time(given_rows).applied_to
    assert batched.applied_to[-1] == (1,)
    assert lengths == [len(given_rows)], "the last row is routed as the revival leaves it"


def keys_of(state: RequestState | None) -> frozenset[Key]:
    if state is None:
        return frozenset()
    held = set(request_keys(state.request))
    for row in state.episodes.values():
        held |= episode_keys(row)
    return frozenset(held)


def test_every_request_message_kind_is_drawn() -> None:
    assert set(FACTS) | set(HAND_OFFS) == set(typing.get_args(m.RequestMessage))


@settings(max_examples=600, deadline=None)
@given(
    st.lists(st.one_of(*FACTS.values(), *HAND_OFFS.values()), max_size=6),
    st.one_of(*FACTS.values(), *HAND_OFFS.values()),
)
def test_a_message_stores_no_key_but_those_it_may_write(
    before: list[object], message: object
) -> None:
    state: RequestState | None = None
    for earlier in before:
        state = decide(state, earlier, request_id=1, now=NOW, source="test").state  # type: ignore[arg-type]
    after = decide(state, message, request_id=1, now=NOW + 1, source="test").state  # type: ignore[arg-type]
    declared = written_keys(message)
    assert declared is not None, f"{type(message).__name__} has no declared keys"
    assert keys_of(after) <= keys_of(state) | declared


def test_a_message_of_a_kind_it_does_not_know_may_write_anything() -> None:
    assert written_keys(object()) is None
    assert Wave().add(Footprint(writes=None))
    wave = Wave()
    wave.add(Footprint(writes=None))
    assert not wave.add(Footprint(reads=frozenset({("tmdb", 1)})))
    assert wave.add(Footprint(writes=frozenset({("torrent", "x")})))
