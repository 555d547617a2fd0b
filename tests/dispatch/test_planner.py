"""The dispatcher's one read for a page of facts finds, for every fact, what storage's look-ups
are documented to find one fact at a time (the reference model in ``tests/core/builders``)."""

from __future__ import annotations

import itertools
import json
import time

import attrs
from status_tracker.actors.clock import WallClock
from status_tracker.actors.dispatch.correlation import Lookup
from status_tracker.actors.dispatch.matches import candidates_in
from status_tracker.actors.dispatch.planner import NEW_REQUESTS, Planner
from status_tracker.actors.media_request import messages as m
from status_tracker.actors.media_request.state import RequestState
from status_tracker.ingress.translate import event_type_of, translate
from status_tracker.storage import IncomingMail, SaveDownload, SaveEpisodes, SaveRequest, open_store

from status_tracker.domain import DownloadRow
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
from tests.support.fixtures import load_fixture, movie_flow

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


def _changes() -> list[tuple[int, m.RequestMessage]]:
    """For a request of `_world`, a message changing what it holds or whether it is active."""
    show = series("Shōgun", tvdb_id=10, sonarr_id=41)
    return [
        (1, movie_grabbed("Alien", tmdb_id=1, radarr_id=7, download_hash=torrent_hash("new"))),
        (
            1,
            m.RequestDeclined(media_type="movie", tmdb_id=1, tvdb_id=None, jellyseerr_request_id=1),
        ),
        (3, m.DeletionRequested()),
        (4, episodes_grabbed(show, [(1, 3)], download_hash=PACK)),
        (
            5,
            attrs.evolve(
                episodes_grabbed(show, [(1, 3)], download_hash=torrent_hash("new")),
                episodes=(m.EpisodeRef(season=1, episode=3, tvdb_id=503),),
            ),
        ),
        (
            7,
            m.ShokoFileReported(
                event="matched", file_id=92, relative_path="Arrival.mkv", has_cross_references=True
            ),
        ),
    ]


async def test_matches_around_a_changed_request_find_what_storage_would_find_after_it(
    database_url: str,
) -> None:
    """A row following the wave's rows of one request is routed against that request as they
    leave it, everything else as read (the planner's ``around``): it finds what looking it up
    after them would."""
    world = _world()
    async with open_store(database_url) as store:
        for state in world:
            await store.commit(
                [SaveRequest(row=state.request), SaveEpisodes(rows=tuple(state.episodes.values()))]
            )
        planner = Planner(store=store, translate=translate, clock=WallClock(time.time()))
        lookups = [
            *_lookups(world),
            Lookup("movie", torrent_hash("new")),
            Lookup("tv", torrent_hash("new")),
            Lookup("tv", episode_tvdb_id=503),
            Lookup("movie", shoko_file_id=92),
            Lookup("tv", PACK, None, 41, 1, 10, None, "Shogun", 503, 92),
        ]
        matches = await planner.matches(lookups, [])
    for request_id, message in _changes():
        before = world[request_id - 1]
        after, _ = apply_all([message], state=before, request_id=request_id, start=NOW + 5_000)
        changed = [after if state is before else state for state in world]
        for lookup in lookups:
            around = matches.around(lookup, after.request, after.episodes.values())
            assert candidates_in(lookup, around) == find_candidates(lookup, changed), (
                request_id,
                message,
                lookup,
            )


async def test_a_page_of_movie_flows_is_planned_as_one_wave(database_url: str) -> None:
    """Twenty movies' webhooks as a burst leaves them (each movie's approval, then the grabs,
    imports and library additions): every later webhook of a movie follows the request its
    approval creates in the same wave, and the new requests take their ids in mail order."""
    flows = [movie_flow(n, title="Wave", first_tmdb_id=7_000) for n in range(20)]
    incoming = [
        IncomingMail(
            target="dispatch",
            source=source,
            kind=event_type_of(source, body) or "unknown",  # type: ignore[arg-type]
            body=json.dumps(body),
            dedupe_key=f"flow-{step}-{n}",
        )
        for step in range(4)
        for n, flow in enumerate(flows)
        for source, body in [flow[step]]
    ]
    async with open_store(database_url) as store:
        await store.accept_mail(incoming, now=NOW)
        planner = Planner(store=store, translate=translate, clock=WallClock(time.time()))
        page = await store.unapplied_mail(after_id=0, limit=500)
        steps = await planner.plan([planner.read(mail) for mail in page])
    assert len(steps) == len(incoming)
    targets = [step.actor for step in steps]
    created = targets[:20]
    assert [step.creates for step in steps] == [True] * 20 + [False] * 60
    assert [target[0] for target in created if target] == ["request"] * 20
    ids = [target[1] for target in created if target]
    assert ids == sorted(set(ids))
    assert max(ids) < NEW_REQUESTS, "each has its own id, no stand-in"
    for step in range(1, 4):
        assert targets[step * 20 : step * 20 + 20] == created, f"step {step} follows"


async def test_a_new_request_joins_a_running_download_under_its_release_title(
    database_url: str,
) -> None:
    """The state tells a season pack from a multi-episode release by the download's title: a
    request joining one is handed the title the download goes by."""
    show = series("Horimiya", tvdb_id=384435, sonarr_id=41)
    running, _ = apply_all(
        [
            series_requested("Horimiya", tvdb_id=384435, tmdb_id=110316, jellyseerr_id=72),
            episodes_grabbed(show, [(1, 1), (1, 2)], download_hash=SINGLE),
        ]
    )
    title = "Horimiya.S01E01E02.1080p.WEB-DL"
    body = load_fixture("jellyseerr/media_approved_tv.json")
    body["request"]["request_id"] = "95"
    async with open_store(database_url) as store:
        await store.commit(
            [
                SaveRequest(row=running.request),
                SaveEpisodes(rows=tuple(running.episodes.values())),
                SaveDownload(row=DownloadRow(hash=SINGLE, name=title)),
            ]
        )
        await store.accept_webhook(
            source="jellyseerr",
            kind="MEDIA_APPROVED",
            body=json.dumps(body),
            dedupe_key="second-request",
            now=NOW,
        )
        planner = Planner(store=store, translate=translate, clock=WallClock(time.time()))
        page = await store.unapplied_mail(after_id=0, limit=10)
        (step,) = await planner.plan([planner.read(mail) for mail in page])
    assert step.creates
    assert step.deliver is not None
    joined = [fact for fact in step.deliver.messages if isinstance(fact, m.DownloadJoined)]
    assert [(fact.hash, fact.name) for fact in joined] == [(SINGLE, title)]
