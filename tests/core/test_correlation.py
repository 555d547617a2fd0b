"""Which request a webhook fact belongs to: ``lookup_for`` and ``route`` over a small world of
requests (each built by applying messages), with storage's documented look-ups in between."""

from __future__ import annotations

import pytest
from status_tracker.actors.dispatch.correlation import Candidates, lookup_for, route, same_title
from status_tracker.actors.media_request import messages as m

from .builders import (
    NOW,
    apply_all,
    episode_refs,
    episodes_grabbed,
    episodes_imported,
    keys,
    library_episode,
    library_movie,
    movie_grabbed,
    movie_imported,
    movie_requested,
    route_in,
    series,
    series_requested,
    torrent_hash,
)

ALIEN = "Alien: Romulus"
ALIEN_TMDB = 945961
OLD_HASH = torrent_hash("alien-old")
NEW_HASH = torrent_hash("alien-new")


def _movie(request_id: int, *steps: str, jellyseerr_id: int | None = None, radarr_id=7):
    """An Alien request created ``request_id`` days in, taken through the named steps."""
    messages: list[m.RequestMessage] = []
    if jellyseerr_id is not None:
        messages.append(movie_requested(ALIEN, tmdb_id=ALIEN_TMDB, jellyseerr_id=jellyseerr_id))
    for name in steps:
        messages.append(
            {
                "grab": movie_grabbed(
                    ALIEN, tmdb_id=ALIEN_TMDB, radarr_id=radarr_id, download_hash=OLD_HASH
                ),
                "import": movie_imported(ALIEN, tmdb_id=ALIEN_TMDB, download_hash=OLD_HASH),
                "library": library_movie(ALIEN, tmdb_id=ALIEN_TMDB),
                "fail": m.RequestFailed(
                    media_type="movie",
                    tmdb_id=ALIEN_TMDB,
                    tvdb_id=None,
                    jellyseerr_request_id=jellyseerr_id,
                ),
                "delete": m.DeletionRequested(),
            }[name]
        )
    state, _ = apply_all(messages, request_id=request_id, start=NOW + request_id * 86_400)
    return state


def _grab(download_hash: str = NEW_HASH, radarr_id: int | None = 7) -> m.MovieGrabbed:
    return movie_grabbed(
        ALIEN, tmdb_id=ALIEN_TMDB, radarr_id=radarr_id, download_hash=download_hash
    )


# -- lookup_for -------------------------------------------------------------------------------


def test_a_radarr_grab_is_looked_up_by_hash_radarr_id_and_tmdb() -> None:
    lookup = lookup_for(_grab())
    assert lookup is not None
    assert (lookup.media_type, lookup.torrent_hash, lookup.arr_id, lookup.tmdb_id) == (
        "movie",
        NEW_HASH,
        7,
        ALIEN_TMDB,
    )


def test_a_sonarr_grab_is_looked_up_by_hash_series_id_and_tvdb() -> None:
    show = series("Shogun", tvdb_id=392573, sonarr_id=12)
    lookup = lookup_for(episodes_grabbed(show, [(1, 1)], download_hash=OLD_HASH))
    assert lookup is not None
    assert (lookup.media_type, lookup.torrent_hash, lookup.arr_id, lookup.tvdb_id) == (
        "tv",
        OLD_HASH,
        12,
        392573,
    )


def test_a_jellyfin_movie_is_looked_up_by_its_tmdb_id_and_an_episode_by_its_series_title() -> None:
    movie = lookup_for(library_movie(ALIEN, tmdb_id=ALIEN_TMDB))
    episode = lookup_for(library_episode("Shōgun", (1, 3)))
    assert movie is not None
    assert episode is not None
    assert (movie.media_type, movie.tmdb_id) == ("movie", ALIEN_TMDB)
    assert (episode.media_type, episode.series_title) == ("tv", "Shōgun")


@pytest.mark.parametrize(
    "fact",
    [
        m.WebhookTested(source="sonarr"),
        m.UnhandledEvent(source="radarr", event_type="Health"),
        m.LibraryItemAdded(item_id="x", item_type="Season", name="Season 1", year=None),
    ],
    ids=["test", "unhandled", "season-item"],
)
def test_facts_about_no_request_have_no_lookup(fact: object) -> None:
    assert lookup_for(fact) is None


# -- grabs and imports -------------------------------------------------------------------------


def test_the_torrent_hash_wins_over_newer_requests_for_the_same_movie() -> None:
    holder = _movie(1, "grab", jellyseerr_id=1)
    newer = _movie(2, jellyseerr_id=2)
    assert route_in(_grab(OLD_HASH), [holder, newer]).targets == (1,)


def test_an_import_follows_its_hash_even_to_an_available_request() -> None:
    available = _movie(1, "grab", "import", "library", jellyseerr_id=1)
    assert available.request.state == "available"
    imported = movie_imported(ALIEN, tmdb_id=ALIEN_TMDB, download_hash=OLD_HASH, upgrade=True)
    assert route_in(imported, [available]).targets == (1,)


def test_the_radarr_id_of_an_active_request_wins_over_a_newer_tmdb_match() -> None:
    grabbed = _movie(1, "grab", jellyseerr_id=1)
    newer = _movie(2, jellyseerr_id=2)
    assert route_in(_grab(NEW_HASH), [grabbed, newer]).targets == (1,)


def test_among_active_requests_for_the_same_tmdb_the_newest_gets_the_grab() -> None:
    world = [_movie(1, jellyseerr_id=1), _movie(3, jellyseerr_id=3), _movie(2, jellyseerr_id=2)]
    assert route_in(_grab(NEW_HASH, radarr_id=99), world).targets == (3,)


@pytest.mark.parametrize(
    "steps",
    [("grab", "import", "library"), ("fail",), ("grab", "delete")],
    ids=["available", "failed", "deleted"],
)
@pytest.mark.parametrize("download_hash", [OLD_HASH, NEW_HASH], ids=["same-hash", "new-hash"])
def test_a_finished_request_is_never_the_target_of_a_new_grab(
    steps: tuple[str, ...], download_hash: str
) -> None:
    finished = _movie(1, *steps, jellyseerr_id=1)
    assert finished.request.state in ("available", "failed", "deleted")
    chosen = route_in(_grab(download_hash), [finished])
    assert chosen.targets == ()
    assert chosen.create


@pytest.mark.parametrize(
    "fact",
    [
        movie_grabbed(ALIEN, tmdb_id=ALIEN_TMDB, download_hash=NEW_HASH),
        movie_imported(ALIEN, tmdb_id=ALIEN_TMDB, download_hash=NEW_HASH),
        episodes_grabbed(series("Shogun", tvdb_id=392573), [(1, 1)], download_hash=NEW_HASH),
        episodes_imported(
            series("Shogun", tvdb_id=392573), [(1, 1)], download_hash=NEW_HASH, complete=False
        ),
    ],
    ids=["movie-grab", "movie-import", "tv-grab", "tv-import"],
)
def test_a_grab_or_import_matching_nothing_creates_a_request(fact: object) -> None:
    chosen = route_in(fact, [])
    assert chosen.create
    assert chosen.targets == ()


def test_a_tv_grab_goes_to_the_request_for_its_season() -> None:
    show = series("Shogun", tvdb_id=392573, sonarr_id=None)
    season_two, _ = apply_all(
        [series_requested("Shogun", tvdb_id=392573, seasons=(2,), jellyseerr_id=1)],
        request_id=1,
    )
    season_one, _ = apply_all(
        [series_requested("Shogun", tvdb_id=392573, seasons=(1,), jellyseerr_id=2)],
        request_id=2,
        start=NOW + 10,
    )
    grab = episodes_grabbed(show, keys(2, range(1, 4)), download_hash=NEW_HASH)
    assert route_in(grab, [season_two, season_one]).targets == (1,)


def test_a_tv_grab_for_a_season_nobody_requested_starts_a_new_request() -> None:
    show = series("Shogun", tvdb_id=392573, sonarr_id=None)
    season_one, _ = apply_all([series_requested("Shogun", tvdb_id=392573, seasons=(1,))])
    grab = episodes_grabbed(show, keys(3, range(1, 4)), download_hash=NEW_HASH)
    assert route_in(grab, [season_one]).create


REACHER = series("Reacher", tvdb_id=366524, sonarr_id=340)
S1_PACK = torrent_hash("reacher-s01")
S2_PACK = torrent_hash("reacher-s02")


def _season_request(request_id: int, season: int, *grabs: m.EpisodesGrabbed, listed=False):
    """A Jellyseerr request (id ``440 + request_id``) for one season of Reacher, created
    ``request_id`` days in, then ``grabs`` (and Sonarr's episode list, which names the series
    id, when ``listed``)."""
    messages: list[m.RequestMessage] = [
        series_requested(
            "Reacher", tvdb_id=366524, seasons=(season,), jellyseerr_id=440 + request_id
        )
    ]
    if listed:
        messages.append(m.EpisodesListed(sonarr_id=340, episodes=episode_refs(keys(season, (1,)))))
    messages.extend(grabs)
    state, _ = apply_all(messages, request_id=request_id, start=NOW + request_id * 86_400)
    return state


def _pack(season: int) -> m.EpisodesGrabbed:
    return episodes_grabbed(
        REACHER, keys(season, range(1, 4)), download_hash=(S1_PACK, S2_PACK)[season - 1]
    )


def test_a_second_season_grabbed_after_its_request_goes_to_that_request_not_the_first() -> None:
    # S1 requested, S1 pack grabbed (request 1 now holds the series id), S2 requested by
    # someone else: a request of its own, which the S2 pack then goes to.
    season_one = _season_request(1, 1, _pack(1))
    assert season_one.request.sonarr_id == 340
    second = series_requested("Reacher", tvdb_id=366524, seasons=(2,), jellyseerr_id=442)
    assert route_in(second, [season_one]).create
    season_two = _season_request(2, 2)
    assert route_in(_pack(2), [season_one, season_two]).targets == (2,)


@pytest.mark.parametrize("listed", [False, True], ids=["unlisted", "listed-by-sonarr"])
def test_with_both_seasons_requested_each_pack_goes_to_its_season_in_either_order(
    listed: bool,
) -> None:
    season_one = _season_request(1, 1, listed=listed)
    season_two = _season_request(2, 2, listed=listed)
    assert route_in(_pack(2), [season_one, season_two]).targets == (2,)
    season_two = _season_request(2, 2, _pack(2), listed=listed)
    assert route_in(_pack(1), [season_one, season_two]).targets == (1,)


def test_a_season_sonarr_grabs_on_its_own_stays_with_the_request_tracking_the_series() -> None:
    season_one = _season_request(1, 1, _pack(1))
    assert route_in(_pack(2), [season_one]).targets == (1,)


def test_a_season_grab_prefers_the_request_that_asked_for_it_over_one_sonarr_created() -> None:
    by_sonarr, _ = apply_all([_pack(1)], request_id=1)
    season_two = _season_request(2, 2)
    assert route_in(_pack(2), [by_sonarr, season_two]).targets == (2,)
    assert route_in(_pack(1), [by_sonarr, season_two]).targets == (1,)


# -- Jellyseerr requests -----------------------------------------------------------------------


def test_a_jellyseerr_request_adopts_the_active_request_a_grab_created() -> None:
    created_by_radarr = _movie(1, "grab")
    assert created_by_radarr.request.jellyseerr_request_id is None
    request = movie_requested(ALIEN, tmdb_id=ALIEN_TMDB, jellyseerr_id=77)
    chosen = route_in(request, [created_by_radarr])
    assert chosen.targets == (1,)
    assert not chosen.create


@pytest.mark.parametrize(
    ("seasons", "adopted"),
    [((1,), True), ((1, 2), True), ((2,), False)],
    ids=["same-season", "more-seasons", "other-season"],
)
def test_a_jellyseerr_request_adopts_a_sonarr_request_only_for_the_seasons_it_holds(
    seasons: tuple[int, ...], adopted: bool
) -> None:
    by_sonarr, _ = apply_all([_pack(1)])
    assert by_sonarr.request.known_seasons == (1,)
    request = series_requested("Reacher", tvdb_id=366524, seasons=seasons, jellyseerr_id=9)
    chosen = route_in(request, [by_sonarr])
    assert (chosen.targets, chosen.create) == (((1,), False) if adopted else ((), True))


def test_a_jellyseerr_request_adopts_a_sonarr_request_that_knows_no_season_whole() -> None:
    single = episodes_grabbed(REACHER, [(1, 1)], download_hash=S1_PACK)
    by_sonarr, _ = apply_all([single])
    assert by_sonarr.request.known_seasons == ()
    request = series_requested("Reacher", tvdb_id=366524, seasons=(2,), jellyseerr_id=9)
    assert route_in(request, [by_sonarr]).targets == (1,)


def test_a_jellyseerr_request_does_not_adopt_another_jellyseerr_request() -> None:
    other = _movie(1, jellyseerr_id=5)
    assert route_in(movie_requested(ALIEN, tmdb_id=ALIEN_TMDB, jellyseerr_id=6), [other]).create


def test_a_jellyseerr_request_does_not_adopt_a_finished_grabbed_request() -> None:
    finished = _movie(1, "grab", "import", "library")
    assert route_in(movie_requested(ALIEN, tmdb_id=ALIEN_TMDB, jellyseerr_id=6), [finished]).create


def test_the_approval_of_a_pending_request_goes_to_that_request() -> None:
    pending, _ = apply_all(
        [movie_requested(ALIEN, tmdb_id=ALIEN_TMDB, jellyseerr_id=5, approved=False)]
    )
    approval = movie_requested(ALIEN, tmdb_id=ALIEN_TMDB, jellyseerr_id=5)
    assert route_in(approval, [pending]).targets == (1,)


# -- library items and deletions ---------------------------------------------------------------


def test_a_library_movie_goes_to_the_active_request_for_its_tmdb_id() -> None:
    importing = _movie(1, "grab", "import", jellyseerr_id=1)
    assert route_in(library_movie(ALIEN, tmdb_id=ALIEN_TMDB), [importing]).targets == (1,)


def test_a_library_episode_finds_its_series_by_title_ignoring_case_and_punctuation() -> None:
    shogun, _ = apply_all([series_requested("Shōgun", tvdb_id=392573)], request_id=4)
    other, _ = apply_all([series_requested("The Bear", tvdb_id=403245)], request_id=5)
    assert route_in(library_episode("SHOGUN", (1, 3)), [shogun, other]).targets == (4,)


def test_a_library_episode_of_a_japanese_title_goes_only_to_that_series() -> None:
    chainsaw, _ = apply_all([series_requested("チェンソーマン", tvdb_id=1)], request_id=1)
    titan, _ = apply_all([series_requested("進撃の巨人", tvdb_id=2)], request_id=2)
    assert route_in(library_episode("チェンソーマン", (1, 1)), [chainsaw, titan]).targets == (1,)


def test_a_radarr_deletion_reaches_every_live_request_of_that_movie_but_not_deleted_ones() -> None:
    available = _movie(1, "grab", "import", "library", jellyseerr_id=1)
    deleted = _movie(2, "grab", "delete", jellyseerr_id=2)
    chosen = route_in(
        m.MovieDeleted(radarr_id=7, tmdb_id=ALIEN_TMDB, file_only=False),
        [
            available,
            deleted,
        ],
    )
    assert chosen.targets == (1,)


def test_a_deletion_of_something_never_tracked_goes_nowhere() -> None:
    chosen = route_in(m.MovieDeleted(radarr_id=7, tmdb_id=ALIEN_TMDB, file_only=False), [])
    assert chosen.targets == ()
    assert not chosen.create


def test_route_gives_a_reason_for_facts_that_concern_no_request() -> None:
    chosen = route(m.WebhookTested(source="radarr"), Candidates())
    assert chosen.targets == ()
    assert not chosen.create
    assert chosen.reason


# -- titles ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Solo Leveling -ReAwakening-", "Solo Leveling: ReAwakening"),
        ("Pokémon Horizons", "pokemon horizons"),
        ("Re:ZERO", "Re Zero"),
        ("Shōgun", "SHOGUN"),
        ("チェンソーマン", "チェンソーマン"),
    ],
)
def test_titles_that_differ_only_in_case_accents_or_punctuation_are_the_same(
    a: str, b: str
) -> None:
    assert same_title(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Horimiya", "Horimiya: The Missing Pieces"),
        ("Link Click", "Link Click 2"),
        ("チェンソーマン", "進撃の巨人"),
        ("Привет", "Пока"),
    ],
)
def test_different_titles_are_not_the_same(a: str, b: str) -> None:
    assert not same_title(a, b)
