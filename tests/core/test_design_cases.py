"""The real-world failures of DESIGN.md, replayed through the pure decisions.

Each test is one row of the failures table: the request, torrent and correlation decisions are
chained by hand the way the actors chain them (claims from a request decision go to the torrent
decision; its notifications go back to the requests).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import pytest
from status_tracker.actors.media_request import messages as m
from status_tracker.actors.media_request.state import RequestState

from .builders import (
    NOW,
    apply_all,
    availability_confirmed,
    claim,
    episode_hashes,
    episode_states,
    episodes_grabbed,
    episodes_imported,
    keys,
    library_episode,
    library_movie,
    links_of,
    movie_grabbed,
    movie_imported,
    movie_requested,
    notified,
    observed,
    route_in,
    series,
    series_requested,
    step,
    torrent_apply,
    torrent_hash,
)


def _claims_of(state_decisions) -> list:
    return [c for decision in state_decisions for c in decision.claims]


def _deliver(
    request: RequestState, notifications: Iterable[tuple[int, m.DownloadProgressed]]
) -> RequestState:
    """Apply the TorrentActor's notifications addressed to ``request``."""
    for request_id, message in notifications:
        if request_id == request.request.id:
            decision = step(request, message, request_id=request_id, source="qbittorrent")
            assert decision.state is not None
            request = decision.state
    return request


def _pack_files(title: str, episodes: Sequence[tuple[int, int]], progress: float):
    return [
        (f"{title}.S01.1080p/{title}.S{s:02d}E{e:02d}.1080p.mkv", 1_000_000_000, progress)
        for s, e in episodes
    ] + [(f"{title}.S01.1080p/{title}.nfo", 1_000, progress)]


# -- Chernobyl S01 and The Abandons: every episode of a grab is linked at once ---------------------


@pytest.mark.parametrize(("title", "count"), [("Chernobyl", 5), ("The Abandons", 7)])
def test_every_episode_of_a_season_pack_is_linked_to_its_download_in_one_decision(
    title: str, count: int
) -> None:
    show = series(title, tvdb_id=360893)
    pack = torrent_hash(title)
    season = keys(1, range(1, count + 1))
    decision = step(
        step(None, series_requested(title, tvdb_id=360893)).state,
        episodes_grabbed(show, season, download_hash=pack),
        source="sonarr",
    )
    assert decision.state is not None
    assert episode_hashes(decision.state) == dict.fromkeys(season, pack)
    assert len(decision.episodes_changed) == count
    [only_claim] = decision.claims
    assert (only_claim.hash, only_claim.episodes) == (pack, season)


@pytest.mark.parametrize(("title", "count"), [("Chernobyl", 5), ("The Abandons", 7)])
def test_the_torrent_links_every_episode_the_claim_names(title: str, count: int) -> None:
    pack = torrent_hash(title)
    season = keys(1, range(1, count + 1))
    row, _ = torrent_apply([claim(pack, 1, season, name=f"{title}.S01.1080p")])
    assert links_of(row) == {1: season}
    assert row is not None
    assert row.is_season_pack


def test_a_season_pack_at_100_percent_moves_every_linked_episode_to_downloaded() -> None:
    show = series("Chernobyl", tvdb_id=360893)
    pack = torrent_hash("chernobyl")
    season = keys(1, range(1, 6))
    request, decisions = apply_all(
        [
            series_requested("Chernobyl", tvdb_id=360893),
            episodes_grabbed(show, season, download_hash=pack),
        ]
    )
    row, _ = torrent_apply(_claims_of(decisions))
    row, [halfway] = torrent_apply(
        [observed(pack, 0.5, files=_pack_files("Chernobyl", season, 0.5))], row=row
    )
    request = _deliver(request, halfway.notify)
    assert set(episode_states(request).values()) == {"downloading"}

    row, [done] = torrent_apply(
        [observed(pack, 1.0, files=_pack_files("Chernobyl", season, 1.0))], row=row
    )
    request = _deliver(request, done.notify)
    assert set(episode_states(request).values()) == {"downloaded"}
    assert request.request.state == "downloaded"
    assert request.request.progress == 100


def test_a_season_pack_at_100_percent_without_file_details_still_finishes_every_episode() -> None:
    show = series("Chernobyl", tvdb_id=360893)
    pack = torrent_hash("chernobyl")
    season = keys(1, range(1, 6))
    request, decisions = apply_all([episodes_grabbed(show, season, download_hash=pack)])
    row, _ = torrent_apply(_claims_of(decisions))
    _, [done] = torrent_apply([observed(pack, 1.0)], row=row)
    request = _deliver(request, done.notify)
    assert set(episode_states(request).values()) == {"downloaded"}


# -- a second request for a season that is already downloading -----------------------------------


def test_a_second_request_joins_the_running_download_and_both_follow_it() -> None:
    show = series("Chernobyl", tvdb_id=360893)
    pack = torrent_hash("chernobyl")
    season = keys(1, range(1, 6))
    first, first_decisions = apply_all(
        [
            series_requested("Chernobyl", tvdb_id=360893, jellyseerr_id=1),
            episodes_grabbed(show, season, download_hash=pack),
        ],
        request_id=1,
    )
    row, _ = torrent_apply(_claims_of(first_decisions))
    row, [seen] = torrent_apply(
        [observed(pack, 0.4, files=_pack_files("Chernobyl", season, 0.4))], row=row
    )
    first = _deliver(first, seen.notify)

    # What the dispatcher hands a new request for the same season: the request, then the join.
    joined = m.DownloadJoined(
        hash=pack, name=None, episodes=tuple(m.EpisodeRef(season=s, episode=e) for s, e in season)
    )
    second, second_decisions = apply_all(
        [series_requested("Chernobyl", tvdb_id=360893, jellyseerr_id=2), joined],
        request_id=2,
        start=NOW + 100,
    )
    assert episode_hashes(second) == dict.fromkeys(season, pack)

    row, [join_claim] = torrent_apply(_claims_of(second_decisions), row=row)
    assert links_of(row) == {1: season, 2: season}
    assert join_claim.changed
    # The newcomer hears at once how far the download is; the first request is not disturbed.
    assert set(notified(join_claim)) == {2}
    second = _deliver(second, join_claim.notify)
    assert set(episode_states(second).values()) == {"downloading"}
    assert second.request.progress == pytest.approx(40)

    row, [done] = torrent_apply(
        [observed(pack, 1.0, files=_pack_files("Chernobyl", season, 1.0))], row=row
    )
    assert set(notified(done)) == {1, 2}
    first, second = _deliver(first, done.notify), _deliver(second, done.notify)
    assert first.request.state == second.request.state == "downloaded"


# -- Horimiya S01: 13 episodes in one pack, each with its own progress -----------------------------


def test_horimiya_shows_thirteen_episodes_each_with_its_own_file_progress() -> None:
    show = series("Horimiya", tvdb_id=384435, anime=True)
    pack = torrent_hash("horimiya")
    season = keys(1, range(1, 14))
    request, decisions = apply_all(
        [
            series_requested("Horimiya", tvdb_id=384435),
            episodes_grabbed(show, season, download_hash=pack),
        ]
    )
    row, _ = torrent_apply(_claims_of(decisions))
    files = [
        (
            f"[SubsPlease] Horimiya (01-13) (1080p)/[SubsPlease] Horimiya - {e:02d} (1080p) "
            f"[A1B2C3D{e % 10}].mkv",
            700_000_000,
            min(1.0, e / 10),
        )
        for _, e in season
    ]
    _, [seen] = torrent_apply([observed(pack, 0.7, files=files)], row=row)
    request = _deliver(request, seen.notify)

    assert len(request.episodes) == 13
    progress = {key: row.progress for key, row in request.episodes.items()}
    assert progress == {(1, e): pytest.approx(min(100.0, e * 10)) for e in range(1, 14)}
    states = episode_states(request)
    assert [key for key, state in states.items() if state == "downloaded"] == list(
        keys(1, range(10, 14))
    )
    assert [key for key, state in states.items() if state == "downloading"] == list(
        keys(1, range(1, 10))
    )
    assert request.request.state == "downloading"
    assert request.request.progress == pytest.approx(sum(progress.values()) / 13, abs=0.01)


# -- Link Click S03: six single-episode torrents -----------------------------------------------


def test_link_click_tracks_six_episodes_each_on_its_own_torrent() -> None:
    show = series("Link Click", tvdb_id=399959, anime=True)
    hashes = {(3, e): torrent_hash(f"link-click-s03e{e:02d}") for e in range(1, 7)}
    request, decisions = apply_all(
        [series_requested("Link Click", tvdb_id=399959, seasons=(3,))]
        + [episodes_grabbed(show, [key], download_hash=hashes[key]) for key in hashes]
    )
    assert episode_hashes(request) == hashes
    assert sorted((c.hash, c.episodes) for c in _claims_of(decisions)) == sorted(
        (value, (key,)) for key, value in hashes.items()
    )

    row, _ = torrent_apply([claim(hashes[(3, 2)], 1, [(3, 2)])])
    _, [seen] = torrent_apply([observed(hashes[(3, 2)], 1.0)], row=row)
    request = _deliver(request, seen.notify)
    assert episode_states(request) == {
        key: "downloaded" if key == (3, 2) else "grabbing" for key in hashes
    }
    assert request.request.state == "grabbing"


# -- Lycoris Recoil: 13 anime episodes, one import-complete, all reach available -----------------


def test_lycoris_recoil_all_thirteen_episodes_reach_available() -> None:
    show = series("Lycoris Recoil", tvdb_id=414057, anime=True)
    pack = torrent_hash("lycoris-recoil")
    season = keys(1, range(1, 14))
    request, _ = apply_all(
        [
            series_requested("Lycoris Recoil", tvdb_id=414057),
            episodes_grabbed(show, season, download_hash=pack),
            m.DownloadProgressed(
                hash=pack, name=None, state="seeding", client_state="uploading", progress=100.0
            ),
            episodes_imported(show, season, download_hash=pack, complete=True),
        ]
    )
    assert set(episode_states(request).values()) == {"anime_matching"}
    assert request.request.state == "anime_matching"

    counts = []
    for key in season:
        request, _ = apply_all([library_episode("Lycoris Recoil", key)], state=request)
        counts.append(Counter(episode_states(request).values())["available"])
    assert counts == list(range(1, 14))
    assert set(episode_states(request).values()) == {"available"}
    assert request.request.state == "available"
    assert request.request.progress == 100


def test_anime_tv_waiting_on_matching_is_finished_by_the_verifier() -> None:
    show = series("Horimiya", tvdb_id=384435, anime=True)
    pack = torrent_hash("horimiya")
    season = keys(1, range(1, 14))
    request, _ = apply_all(
        [
            episodes_grabbed(show, season, download_hash=pack),
            episodes_imported(show, season, download_hash=pack, complete=True),
            availability_confirmed(season),
        ]
    )
    assert request.request.state == "available"
    assert {row.jellyfin_id for row in request.episodes.values()} == {
        f"jf-S01E{e:02d}" for e in range(1, 14)
    }


# -- Chainsaw Man: Reze Arc requested again --------------------------------------------------


CHAINSAW = "Chainsaw Man - The Movie: Reze Arc"
CHAINSAW_TMDB = 1218925


def _chainsaw_world() -> list[RequestState]:
    old, _ = apply_all(
        [
            movie_requested(CHAINSAW, tmdb_id=CHAINSAW_TMDB, jellyseerr_id=10),
            movie_grabbed(CHAINSAW, tmdb_id=CHAINSAW_TMDB, download_hash=torrent_hash("old")),
            movie_imported(CHAINSAW, tmdb_id=CHAINSAW_TMDB, download_hash=torrent_hash("old")),
            library_movie(CHAINSAW, tmdb_id=CHAINSAW_TMDB),
        ],
        request_id=1,
    )
    assert old.request.state == "available"
    new, _ = apply_all(
        [movie_requested(CHAINSAW, tmdb_id=CHAINSAW_TMDB, jellyseerr_id=11)],
        request_id=2,
        start=NOW + 86_400,
    )
    return [old, new]


@pytest.mark.parametrize(
    "download_hash", [torrent_hash("new"), torrent_hash("old")], ids=["new-torrent", "same-torrent"]
)
def test_chainsaw_man_a_new_grab_goes_to_the_new_request_not_the_available_one(
    download_hash: str,
) -> None:
    world = _chainsaw_world()
    grab = movie_grabbed(CHAINSAW, tmdb_id=CHAINSAW_TMDB, download_hash=download_hash)
    chosen = route_in(grab, world)
    assert chosen.targets == (2,)
    assert not chosen.create
    new = step(world[1], grab, request_id=2).state
    assert new is not None
    assert (new.request.state, new.request.download_hash) == ("grabbing", download_hash)


def test_chainsaw_man_requesting_it_again_starts_a_new_lifecycle() -> None:
    old = _chainsaw_world()[0]
    again = movie_requested(CHAINSAW, tmdb_id=CHAINSAW_TMDB, jellyseerr_id=11)
    assert route_in(again, [old]).create


# -- Solo Leveling -ReAwakening-: a library scan never creates a request --------------------------


@pytest.mark.parametrize(
    "item",
    [
        library_movie("Solo Leveling -ReAwakening-", tmdb_id=1357633),
        library_episode("Solo Leveling", (1, 1)),
    ],
    ids=["movie", "episode"],
)
def test_solo_leveling_a_library_item_nobody_requested_routes_nowhere(
    item: m.LibraryItemAdded,
) -> None:
    world, _ = apply_all([movie_requested("Dune", tmdb_id=438631)])
    chosen = route_in(item, [world])
    assert chosen.targets == ()
    assert not chosen.create
    assert chosen.reason
    assert route_in(item, []).create is False
