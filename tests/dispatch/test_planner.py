"""The dispatcher's one read for a page of facts finds, for every fact, what storage's look-ups
are documented to find one fact at a time (the reference model in ``tests/core/builders``)."""

from __future__ import annotations

import itertools
import time

import attrs
from status_tracker.actors.clock import WallClock
from status_tracker.actors.dispatch.correlation import Lookup
from status_tracker.actors.dispatch.matches import candidates_in
from status_tracker.actors.dispatch.planner import Planner
from status_tracker.actors.media_request import messages as m
from status_tracker.actors.media_request.state import RequestState
from status_tracker.ingress.translate import translate
from status_tracker.storage import SaveEpisodes, SaveRequest, open_store

from tests.core.builders import (
    NOW,
    apply_all,
    episodes_grabbed,
    find_candidates,
    library_movie,
    movie_grabbed,
    movie_requested,
    series,
    series_requested,
    torrent_hash,
)

PACK = torrent_hash("pack")
SINGLE = torrent_hash("single")


def _world() -> list[RequestState]:
    """Movies and series sharing ids, in every kind of state, holding hashes and episode ids."""
    show = series("Shōgun", tvdb_id=10, sonarr_id=41)
    with_ids = attrs.evolve(
        episodes_grabbed(show, [(1, 1), (1, 2)], download_hash=PACK),
        episodes=(
            m.EpisodeRef(season=1, episode=1, tvdb_id=501),
            m.EpisodeRef(season=1, episode=2, tvdb_id=502),
        ),
    )
    histories = [
        [movie_requested("Alien", tmdb_id=1, jellyseerr_id=1)],
        [
            movie_requested("Alien", tmdb_id=1, jellyseerr_id=2),
            movie_grabbed("Alien", tmdb_id=1, radarr_id=7, download_hash=SINGLE),
            library_movie("Alien", tmdb_id=1),
        ],
        [movie_grabbed("Alien", tmdb_id=1, radarr_id=7, download_hash=SINGLE)],
        [series_requested("Shōgun", tvdb_id=10, tmdb_id=1, jellyseerr_id=3)],
        [with_ids],
        [
            with_ids,
            m.ShokoFileReported(
                event="matched",
                file_id=90,
                relative_path="Shogun/1.mkv",
                has_cross_references=True,
                episodes=((1, 1),),
            ),
            m.DeletionRequested(),
        ],
        [
            movie_grabbed("Arrival", tmdb_id=2, radarr_id=8, download_hash=None),
            m.ShokoFileReported(
                event="matched", file_id=91, relative_path="Arrival.mkv", has_cross_references=False
            ),
        ],
    ]
    world = []
    for request_id, history in enumerate(histories, start=1):
        state, _ = apply_all(history, request_id=request_id, start=NOW + request_id * 100)
        world.append(state)
    return world


def _lookups(world: list[RequestState]) -> list[Lookup]:
    """Every look-up of one key (each value the world holds, and one it does not), both media
    types, and a few of several keys."""
    values: dict[str, set[object]] = {
        "torrent_hash": {PACK, SINGLE, torrent_hash("none")},
        "jellyseerr_request_id": {1, 2, 3, 9},
        "arr_id": {7, 8, 41, 99},
        "tmdb_id": {1, 2, 99},
        "tvdb_id": {10, 99},
        "imdb_id": {"tt99"},
        "series_title": {"SHOGUN", "Alien", "Nothing"},
        "episode_tvdb_id": {501, 502, 599},
        "shoko_file_id": {90, 91, 99},
    }
    assert world
    single = [
        Lookup(media_type, **{field: value})
        for media_type in ("movie", "tv")
        for field, held in values.items()
        for value in held
    ]
    several = [
        Lookup("movie", SINGLE, 2, 7, 1, None, None),
        Lookup("tv", PACK, None, 41, 1, 10, None, "Shogun", 501, 90),
    ]
    return single + several


async def test_one_read_finds_for_each_fact_what_looking_it_up_alone_would(
    database_url: str,
) -> None:
    world = _world()
    async with open_store(database_url) as store:
        for state in world:
            await store.commit(
                [
                    SaveRequest(row=state.request),
                    SaveEpisodes(rows=tuple(state.episodes.values())),
                ]
            )
        planner = Planner(store=store, translate=translate, clock=WallClock(time.time()))
        lookups = _lookups(world)
        matches = await planner.matches(lookups, [])
        for lookup in lookups:
            assert candidates_in(lookup, matches) == find_candidates(lookup, world), lookup
        for first, second in itertools.pairwise(lookups):
            # Read with fewer look-ups, the answers stay the same.
            alone = await planner.matches([first, second], [])
            assert candidates_in(first, alone) == candidates_in(first, matches)
