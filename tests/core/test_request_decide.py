"""What one request does with each message: ``decide`` for movies and for TV, per episode.

Every state here is reached by applying webhook-shaped messages in order, as the RequestActor
would; the assertions are what a user sees: state, progress, hashes, the timeline, the claims
handed to the TorrentActor.
"""

from __future__ import annotations

import attrs
import pytest
from status_tracker.actors.media_request import messages as m

from .builders import (
    apply_all,
    availability_confirmed,
    entries,
    episode_files_deleted,
    episode_hashes,
    episode_states,
    episodes_grabbed,
    episodes_imported,
    keys,
    library_episode,
    library_movie,
    movie_grabbed,
    movie_imported,
    movie_requested,
    progressed,
    refusals,
    series,
    series_requested,
    step,
    torrent_hash,
)

DUNE = "Dune: Part Two"
DUNE_TMDB = 693134
DUNE_HASH = torrent_hash("dune")
SHOW = series("Severance", tvdb_id=371980)
SHOW_HASH = torrent_hash("severance-s01")


def _requested_movie(*, approved: bool = True):
    state, _ = apply_all([movie_requested(DUNE, tmdb_id=DUNE_TMDB, approved=approved)])
    return state


def _grabbed_movie(**grab):
    state, _ = apply_all(
        [
            movie_requested(DUNE, tmdb_id=DUNE_TMDB),
            movie_grabbed(DUNE, tmdb_id=DUNE_TMDB, download_hash=DUNE_HASH, **grab),
        ]
    )
    return state


NINE_EPISODES = keys(1, range(1, 10))


def _grabbed_show(episodes=NINE_EPISODES, download_hash=SHOW_HASH):
    state, _ = apply_all(
        [
            series_requested(SHOW.title, tvdb_id=SHOW.tvdb_id),
            episodes_grabbed(SHOW, episodes, download_hash=download_hash),
        ]
    )
    return state


# -- creation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("approved", "expected"), [(True, "approved"), (False, "requested")])
def test_a_jellyseerr_request_creates_the_request_with_its_first_timeline_entry(
    approved: bool, expected: str
) -> None:
    decision = step(
        None, movie_requested(DUNE, tmdb_id=DUNE_TMDB, approved=approved), source="jellyseerr"
    )
    assert decision.state is not None
    request = decision.state.request
    assert (request.state, request.title, request.tmdb_id) == (expected, DUNE, DUNE_TMDB)
    assert request.source == "jellyseerr"
    assert decision.request_changed
    first = decision.timeline[0]
    assert first.to_state == expected
    assert first.source == "jellyseerr"
    assert (first.season, first.episode) == (None, None)


def test_approval_of_a_pending_request_moves_it_to_approved() -> None:
    decision = step(_requested_movie(approved=False), movie_requested(DUNE, tmdb_id=DUNE_TMDB))
    assert decision.state is not None
    assert decision.state.request.state == "approved"
    assert [(e.from_state, e.to_state) for e in decision.timeline] == [("requested", "approved")]


def test_a_grab_nobody_requested_creates_a_request_marked_with_its_source() -> None:
    decision = step(None, movie_grabbed(DUNE, tmdb_id=DUNE_TMDB, download_hash=DUNE_HASH))
    assert decision.state is not None
    assert decision.state.request.source == "radarr"
    assert decision.state.request.state == "grabbing"
    assert decision.timeline[0].to_state in ("requested", "approved")


def test_facts_about_a_request_that_does_not_exist_create_nothing() -> None:
    for fact in (
        progressed(DUNE_HASH, 50),
        library_movie(DUNE, tmdb_id=DUNE_TMDB),
        m.DeletionRequested(),
        m.AvailabilityConfirmed(by="movie by tmdb", jellyfin_id="jf"),
        m.WebhookTested(source="radarr"),
    ):
        decision = step(None, fact)
        assert decision.state is None
        assert not decision.changed


def test_a_test_notification_changes_nothing() -> None:
    decision = step(_grabbed_movie(), m.WebhookTested(source="radarr"))
    assert not decision.changed


# -- a movie's lifecycle ------------------------------------------------------------------------


def test_a_movie_grab_records_the_hash_and_claims_the_download() -> None:
    decision = step(
        _requested_movie(), movie_grabbed(DUNE, tmdb_id=DUNE_TMDB, download_hash=DUNE_HASH)
    )
    assert decision.state is not None
    assert decision.state.request.state == "grabbing"
    assert decision.state.request.download_hash == DUNE_HASH
    assert [(c.hash, c.request_id, c.episodes) for c in decision.claims] == [(DUNE_HASH, 1, ())]


def test_movie_download_progress_moves_to_downloading_then_downloaded_at_100() -> None:
    state, _ = apply_all([progressed(DUNE_HASH, 40.5)], state=_grabbed_movie())
    assert (state.request.state, state.request.progress) == ("downloading", 40.5)
    state, _ = apply_all([progressed(DUNE_HASH, 100)], state=state)
    assert (state.request.state, state.request.progress) == ("downloaded", 100)


@pytest.mark.parametrize(
    ("last_seen", "client_state", "event", "detail"),
    [
        (
            100.0,
            "uploading",
            "download_removed",
            "release was removed from qBittorrent after it finished",
        ),
        (40.0, "downloading", "download_missing", "release is gone from qBittorrent"),
        (0.0, None, "download_missing", "qBittorrent never had release"),
    ],
    ids=["removed-after-it-finished", "gone-mid-download", "never-had"],
)
def test_a_download_the_client_no_longer_has_is_noted_with_why(
    last_seen: float, client_state: str | None, event: str, detail: str
) -> None:
    """Sonarr's and Radarr's "remove completed" takes every finished torrent away: routine, not
    a download gone missing."""
    gone = attrs.evolve(
        progressed(DUNE_HASH, last_seen, state="missing"), client_state=client_state
    )
    decision = step(_grabbed_movie(), gone)
    missing = ("download_removed", "download_missing")
    noted = [(e.event, e.detail) for e in decision.timeline if e.event in missing]
    assert noted == [(event, detail)]


def test_progress_of_another_torrent_does_not_touch_the_movie() -> None:
    decision = step(_grabbed_movie(), progressed(torrent_hash("other"), 70))
    assert decision.state is not None
    assert decision.state.request.state == "grabbing"
    assert not decision.changed


def test_stale_progress_never_moves_a_movie_back_and_is_never_refused() -> None:
    state, _ = apply_all(
        [
            progressed(DUNE_HASH, 100),
            movie_imported(DUNE, tmdb_id=DUNE_TMDB, download_hash=DUNE_HASH),
        ],
        state=_grabbed_movie(),
    )
    decision = step(state, progressed(DUNE_HASH, 35))
    assert decision.state is not None
    assert decision.state.request.state == "importing"
    assert decision.state.request.progress == 100
    assert decision.timeline == ()
    assert not decision.request_changed


@pytest.mark.parametrize(("anime", "expected"), [(False, "importing"), (True, "anime_matching")])
def test_a_movie_import_goes_to_importing_or_to_anime_matching_for_anime(
    anime: bool, expected: str
) -> None:
    decision = step(
        _grabbed_movie(anime=anime),
        movie_imported(DUNE, tmdb_id=DUNE_TMDB, download_hash=DUNE_HASH, anime=anime),
    )
    assert decision.state is not None
    assert decision.state.request.state == expected
    assert decision.state.request.final_path == f"/movies/{DUNE} (2025)/{DUNE}.mkv"


def test_an_import_may_arrive_before_any_progress_was_seen() -> None:
    decision = step(
        _grabbed_movie(), movie_imported(DUNE, tmdb_id=DUNE_TMDB, download_hash=DUNE_HASH)
    )
    assert decision.state is not None
    assert decision.state.request.state == "importing"
    assert refusals([decision]) == []


def test_a_movie_in_the_library_is_available() -> None:
    state, _ = apply_all(
        [
            movie_imported(DUNE, tmdb_id=DUNE_TMDB, download_hash=DUNE_HASH),
            library_movie(DUNE, tmdb_id=DUNE_TMDB, item_id="jf-dune"),
        ],
        state=_grabbed_movie(),
    )
    request = state.request
    assert (request.state, request.progress, request.jellyfin_id) == ("available", 100, "jf-dune")
    assert request.available_at is not None


def test_a_stale_grab_after_import_is_refused_and_recorded_with_its_reason() -> None:
    state, _ = apply_all(
        [movie_imported(DUNE, tmdb_id=DUNE_TMDB, download_hash=DUNE_HASH)],
        state=_grabbed_movie(),
    )
    decision = step(state, movie_grabbed(DUNE, tmdb_id=DUNE_TMDB, download_hash=DUNE_HASH))
    assert decision.state is not None
    assert decision.state.request.state == "importing"
    [refused] = refusals([decision])
    assert (refused.from_state, refused.to_state) == ("importing", "grabbing")
    assert refused.detail
    assert "backward" in refused.detail


def test_a_new_release_after_a_finished_download_moves_back_with_the_reason_recorded() -> None:
    new_hash = torrent_hash("dune-proper")
    state, _ = apply_all([progressed(DUNE_HASH, 100)], state=_grabbed_movie())
    decision = step(state, movie_grabbed(DUNE, tmdb_id=DUNE_TMDB, download_hash=new_hash))
    assert decision.state is not None
    request = decision.state.request
    assert (request.state, request.download_hash, request.progress) == ("grabbing", new_hash, 0)
    [moved] = [e for e in decision.timeline if e.to_state == "grabbing"]
    assert moved.from_state == "downloaded"
    assert moved.detail
    assert "new release" in moved.detail
    assert refusals([decision]) == []
    assert [c.hash for c in decision.claims] == [new_hash]


def test_a_replayed_movie_grab_adds_no_timeline_entry() -> None:
    state = _grabbed_movie()
    decision = step(state, movie_grabbed(DUNE, tmdb_id=DUNE_TMDB, download_hash=DUNE_HASH))
    assert decision.timeline == ()
    assert decision.state is not None
    assert decision.state.request == state.request


def test_an_upgrade_import_of_an_available_movie_is_noted_and_keeps_it_available() -> None:
    state, _ = apply_all(
        [
            movie_imported(DUNE, tmdb_id=DUNE_TMDB, download_hash=DUNE_HASH),
            library_movie(DUNE, tmdb_id=DUNE_TMDB),
        ],
        state=_grabbed_movie(),
    )
    decision = step(
        state, movie_imported(DUNE, tmdb_id=DUNE_TMDB, download_hash=DUNE_HASH, upgrade=True)
    )
    assert decision.state is not None
    assert decision.state.request.state == "available"
    assert [e.event for e in decision.timeline] == ["upgraded"]


def test_a_deleted_movie_refuses_every_later_move() -> None:
    state, _ = apply_all(
        [m.MovieDeleted(radarr_id=7, tmdb_id=DUNE_TMDB, file_only=False)], state=_grabbed_movie()
    )
    assert state.request.state == "deleted"
    decision = step(state, library_movie(DUNE, tmdb_id=DUNE_TMDB))
    assert decision.state is not None
    assert decision.state.request.state == "deleted"
    assert [e.event for e in decision.timeline] == ["transition_refused"]


def test_a_file_deleted_for_an_upgrade_does_not_delete_the_movie() -> None:
    decision = step(
        _grabbed_movie(),
        m.MovieDeleted(radarr_id=7, tmdb_id=DUNE_TMDB, file_only=True, reason="upgrade"),
    )
    assert decision.state is not None
    assert decision.state.request.state == "grabbing"
    assert [e.event for e in decision.timeline] == ["file_replaced"]


def test_a_declined_request_fails() -> None:
    decision = step(
        _requested_movie(approved=False),
        m.RequestDeclined(
            media_type="movie", tmdb_id=DUNE_TMDB, tvdb_id=None, jellyseerr_request_id=1
        ),
    )
    assert decision.state is not None
    assert decision.state.request.state == "failed"


def test_a_jellyseerr_request_arriving_after_the_grab_adopts_the_grabbed_request() -> None:
    created = step(None, movie_grabbed(DUNE, tmdb_id=DUNE_TMDB, download_hash=DUNE_HASH)).state
    decision = step(created, movie_requested(DUNE, tmdb_id=DUNE_TMDB, jellyseerr_id=55))
    assert decision.state is not None
    request = decision.state.request
    assert (request.jellyseerr_request_id, request.state) == (55, "grabbing")
    assert [e.event for e in decision.timeline] == ["request_adopted"]
    replay = step(decision.state, movie_requested(DUNE, tmdb_id=DUNE_TMDB, jellyseerr_id=55))
    assert replay.timeline == ()


def test_a_replayed_jellyseerr_request_without_an_id_adopts_nothing() -> None:
    state, _ = apply_all([movie_requested(DUNE, tmdb_id=DUNE_TMDB, jellyseerr_id=None)])
    decision = step(state, movie_requested(DUNE, tmdb_id=DUNE_TMDB, jellyseerr_id=None))
    assert decision.timeline == ()
    assert not decision.changed


def test_a_second_movie_request_joins_the_running_download() -> None:
    decision = step(_requested_movie(), m.DownloadJoined(hash=DUNE_HASH, name="Dune.2024"))
    assert decision.state is not None
    assert decision.state.request.state == "grabbing"
    assert decision.state.request.download_hash == DUNE_HASH
    assert [(c.hash, c.request_id) for c in decision.claims] == [(DUNE_HASH, 1)]


# -- TV: per episode ------------------------------------------------------------------------------


def test_a_tv_grab_creates_every_episode_with_the_hash_in_one_decision() -> None:
    season = keys(1, range(1, 10))
    decision = step(None, episodes_grabbed(SHOW, season, download_hash=SHOW_HASH), source="sonarr")
    assert decision.state is not None
    assert episode_hashes(decision.state) == dict.fromkeys(season, SHOW_HASH)
    assert set(episode_states(decision.state).values()) == {"grabbing"}
    assert sorted(row.key for row in decision.episodes_changed) == list(season)
    assert [(c.hash, c.episodes) for c in decision.claims] == [(SHOW_HASH, season)]
    assert decision.state.request.state == "grabbing"
    assert decision.state.request.source == "sonarr"


def test_an_episode_whose_own_file_is_complete_is_downloaded_while_the_rest_downloads() -> None:
    season = keys(1, range(1, 4))
    decision = step(
        _grabbed_show(season),
        progressed(SHOW_HASH, 50, per_episode={(1, 1): 100, (1, 2): 40, (1, 3): 10}),
    )
    assert decision.state is not None
    assert episode_states(decision.state) == {
        (1, 1): "downloaded",
        (1, 2): "downloading",
        (1, 3): "downloading",
    }
    assert [decision.state.episodes[key].progress for key in season] == [100, 40, 10]
    assert decision.state.request.state == "downloading"
    assert decision.state.request.progress == 50


def test_completion_of_the_torrent_moves_every_linked_episode_on() -> None:
    season = keys(1, range(1, 10))
    decision = step(_grabbed_show(season), progressed(SHOW_HASH, 100))
    assert decision.state is not None
    assert set(episode_states(decision.state).values()) == {"downloaded"}
    assert decision.state.request.state == "downloaded"
    assert decision.state.request.progress == 100


def test_a_per_file_and_an_import_complete_for_the_same_release_apply_once() -> None:
    season = keys(1, range(1, 4))
    state, _ = apply_all(
        [episodes_imported(SHOW, [key], download_hash=SHOW_HASH, complete=False) for key in season],
        state=_grabbed_show(season),
    )
    assert set(episode_states(state).values()) == {"importing"}
    decision = step(state, episodes_imported(SHOW, season, download_hash=SHOW_HASH, complete=True))
    assert decision.timeline == ()
    assert decision.episodes_changed == ()
    assert decision.state is not None
    assert decision.state.episodes == state.episodes


def test_an_import_complete_after_the_episodes_became_available_changes_nothing() -> None:
    season = keys(1, range(1, 4))
    state, _ = apply_all(
        [episodes_imported(SHOW, [key], download_hash=SHOW_HASH, complete=False) for key in season]
        + [library_episode(SHOW.title, key) for key in season],
        state=_grabbed_show(season),
    )
    assert state.request.state == "available"
    decision = step(state, episodes_imported(SHOW, season, download_hash=SHOW_HASH, complete=True))
    assert decision.timeline == ()
    assert decision.state is not None
    assert decision.state.request.state == "available"


def test_each_imported_episode_keeps_the_path_of_its_own_file() -> None:
    season = keys(1, range(1, 4))
    decision = step(
        _grabbed_show(season),
        episodes_imported(SHOW, season, download_hash=SHOW_HASH, complete=True),
    )
    assert decision.state is not None
    assert {key: row.final_path for key, row in decision.state.episodes.items()} == {
        key: f"/tv/Severance/Season 1/Severance - S01E0{key[1]}.mkv" for key in season
    }


def test_availability_is_confirmed_per_episode_and_the_request_follows_the_slowest() -> None:
    season = keys(1, range(1, 4))
    state, _ = apply_all(
        [episodes_imported(SHOW, season, download_hash=SHOW_HASH, complete=True)],
        state=_grabbed_show(season),
    )
    decision = step(state, availability_confirmed(season[:2]))
    assert decision.state is not None
    assert episode_states(decision.state) == {
        (1, 1): "available",
        (1, 2): "available",
        (1, 3): "importing",
    }
    assert decision.state.episodes[(1, 1)].jellyfin_id == "jf-S01E01"
    assert decision.state.request.state == "importing"
    final = step(decision.state, availability_confirmed(season[2:])).state
    assert final is not None
    assert final.request.state == "available"
    assert final.request.available_at is not None


def test_a_new_release_for_one_episode_relinks_it_with_the_reason_recorded() -> None:
    season = keys(1, range(1, 4))
    repack = torrent_hash("severance-s01e02-repack")
    state, _ = apply_all([progressed(SHOW_HASH, 100)], state=_grabbed_show(season))
    decision = step(state, episodes_grabbed(SHOW, [(1, 2)], download_hash=repack))
    assert decision.state is not None
    assert episode_hashes(decision.state) == {(1, 1): SHOW_HASH, (1, 2): repack, (1, 3): SHOW_HASH}
    assert decision.state.episodes[(1, 2)].progress == 0
    assert episode_states(decision.state)[(1, 2)] == "grabbing"
    [moved] = [e for e in decision.timeline if e.episode == 2 and e.to_state == "grabbing"]
    assert moved.from_state == "downloaded"
    assert moved.detail
    assert "new release" in moved.detail
    [derived] = [e for e in decision.timeline if e.event == "state_derived"]
    assert (derived.from_state, derived.to_state) == ("downloaded", "grabbing")
    assert derived.detail
    assert "S01E02" in derived.detail


def test_a_replayed_tv_grab_after_progress_is_refused_per_episode_not_applied() -> None:
    season = keys(1, range(1, 3))
    state, _ = apply_all([progressed(SHOW_HASH, 30)], state=_grabbed_show(season))
    decision = step(state, episodes_grabbed(SHOW, season, download_hash=SHOW_HASH))
    assert decision.state is not None
    assert set(episode_states(decision.state).values()) == {"downloading"}
    assert [(e.season, e.episode) for e in refusals([decision])] == list(season)


def test_deleting_selected_episodes_leaves_the_others_and_derives_from_them() -> None:
    season = keys(1, range(1, 4))
    state, _ = apply_all(
        [
            progressed(SHOW_HASH, 60, per_episode={(1, 1): 10, (1, 2): 100, (1, 3): 100}),
            m.DeletionRequested(episodes=((1, 1),)),
        ],
        state=_grabbed_show(season),
    )
    assert episode_states(state) == {
        (1, 1): "deleted",
        (1, 2): "downloaded",
        (1, 3): "downloaded",
    }
    assert state.request.state == "downloaded"


def test_deleting_the_whole_request_deletes_every_episode() -> None:
    state, decisions = apply_all([m.DeletionRequested()], state=_grabbed_show())
    assert state.request.state == "deleted"
    assert set(episode_states(state).values()) == {"deleted"}
    assert entries(decisions)[-1].to_state == "deleted"


def test_a_series_deleted_in_sonarr_deletes_the_request_and_its_episodes() -> None:
    state, _ = apply_all([m.SeriesDeleted(series=SHOW, deleted_files=True)], state=_grabbed_show())
    assert state.request.state == "deleted"
    assert set(episode_states(state).values()) == {"deleted"}


def test_an_episode_file_replaced_by_an_upgrade_is_not_deleted() -> None:
    season = keys(1, range(1, 3))
    decision = step(_grabbed_show(season), episode_files_deleted(SHOW, [(1, 1)], reason="upgrade"))
    assert decision.state is not None
    assert set(episode_states(decision.state).values()) == {"grabbing"}
    assert [e.event for e in decision.timeline] == ["file_replaced"]


def test_a_second_request_joining_a_download_links_its_episodes_to_that_hash() -> None:
    season = keys(1, range(1, 6))
    state, _ = apply_all([series_requested(SHOW.title, tvdb_id=SHOW.tvdb_id, jellyseerr_id=2)])
    decision = step(
        state, m.DownloadJoined(hash=SHOW_HASH, name="pack", episodes=tuple(_refs(season)))
    )
    assert decision.state is not None
    assert episode_hashes(decision.state) == dict.fromkeys(season, SHOW_HASH)
    assert decision.state.request.state == "grabbing"
    assert [(c.hash, c.episodes) for c in decision.claims] == [(SHOW_HASH, season)]


def test_a_library_episode_of_an_episode_this_request_does_not_hold_creates_nothing() -> None:
    state = _grabbed_show(keys(1, range(1, 3)))
    decision = step(state, library_episode(SHOW.title, (2, 1)))
    assert decision.state is not None
    assert set(decision.state.episodes) == set(state.episodes)
    assert decision.timeline == ()


def _refs(episodes):
    return [m.EpisodeRef(season=season, episode=number) for season, number in episodes]


# -- an imported file is a whole file: progress 100 from the import on ---------------------------


@pytest.mark.parametrize(("anime", "expected"), [(False, "importing"), (True, "anime_matching")])
@pytest.mark.parametrize("seen", [None, 40.0], ids=["no-poll-seen", "poll-at-40"])
def test_an_imported_movie_reads_100_percent_and_a_later_poll_cannot_lower_it(
    anime: bool, expected: str, seen: float | None
) -> None:
    polls = [progressed(DUNE_HASH, seen)] if seen is not None else []
    state, _ = apply_all(
        [*polls, movie_imported(DUNE, tmdb_id=DUNE_TMDB, download_hash=DUNE_HASH, anime=anime)],
        state=_grabbed_movie(anime=anime),
    )
    assert (state.request.state, state.request.progress) == (expected, 100)
    later, _ = apply_all([progressed(DUNE_HASH, 35, state="downloading")], state=state)
    assert (later.request.state, later.request.progress) == (expected, 100)


# -- Jellyseerr's "available" for TV: evidence like a library add ---------------------------------


def _show_at_every_stage():
    """Season 1 of nine: E1-E5 imported, E6 downloaded, E7 downloading, E8 grabbing, E9 deleted."""
    state, _ = apply_all(
        [
            progressed(SHOW_HASH, 60, per_episode={(1, 6): 100, (1, 7): 30}),
            episodes_grabbed(SHOW, [(1, 8)], download_hash=torrent_hash("severance-e08")),
            episodes_imported(SHOW, keys(1, range(1, 6)), download_hash=SHOW_HASH, complete=True),
            episode_files_deleted(SHOW, [(1, 9)]),
        ],
        state=_grabbed_show(),
    )
    return state


def _reported_available(media_type: str = "tv") -> m.MediaReportedAvailable:
    return m.MediaReportedAvailable(
        media_type=media_type,  # type: ignore[arg-type]
        tmdb_id=None,
        tvdb_id=SHOW.tvdb_id,
        jellyseerr_request_id=1,
    )


def test_jellyseerr_available_makes_the_imported_episodes_available_and_no_others() -> None:
    state = _show_at_every_stage()
    decision = step(state, _reported_available(), source="jellyseerr")
    assert decision.state is not None
    assert episode_states(decision.state) == {
        **{key: "available" for key in keys(1, range(1, 6))},
        (1, 6): "downloaded",
        (1, 7): "downloading",
        (1, 8): "grabbing",
        (1, 9): "deleted",
    }
    assert decision.state.request.state == "grabbing"  # the least advanced, E08
    moved = [e for e in decision.timeline if e.to_state == "available" and e.season is not None]
    assert [(e.season, e.episode, e.event) for e in moved] == [
        (1, n, "reported_available") for n in range(1, 6)
    ]
    (note,) = [e for e in decision.timeline if e.season is None and e.event != "state_derived"]
    assert note.detail == (
        "Jellyseerr reports season 1 available; 3 episode(s) not imported yet wait for their"
        " own import"
    )
    assert step(decision.state, _reported_available()).timeline == ()


def test_jellyseerr_available_with_every_episode_imported_makes_the_tv_request_available() -> None:
    season = keys(1, range(1, 4))
    state, _ = apply_all(
        [
            episodes_imported(SHOW, season, download_hash=SHOW_HASH, complete=True),
            _reported_available(),
        ],
        state=_grabbed_show(season),
    )
    assert episode_states(state) == dict.fromkeys(season, "available")
    request = state.request
    assert (request.state, request.progress) == ("available", 100)
    assert request.available_at is not None


def test_jellyseerr_available_for_a_tv_request_with_no_episodes_makes_it_available() -> None:
    state, _ = apply_all(
        [series_requested(SHOW.title, tvdb_id=SHOW.tvdb_id, seasons=(2,)), _reported_available()]
    )
    assert (state.request.state, state.request.progress) == ("available", 100)
    assert state.episodes == {}


def test_a_library_episode_of_an_asked_season_with_no_episodes_known_is_added_available() -> None:
    state, _ = apply_all([series_requested(SHOW.title, tvdb_id=SHOW.tvdb_id, seasons=(2,))])
    decision = step(state, library_episode(SHOW.title, (2, 1)), source="jellyfin")
    assert decision.state is not None
    assert episode_states(decision.state) == {(2, 1): "available"}
    assert decision.state.episodes[(2, 1)].jellyfin_id == "jf-S02E01"
    # The rest of season 2 is not known: some of what was asked for is there.
    assert decision.state.request.state == "partially_available"
    assert [(e.episode, e.event, e.to_state) for e in decision.timeline] == [
        (1, "added_to_library", "available"),
        (None, "state_derived", "partially_available"),
    ]


# -- declined or failed in Jellyseerr: the facts of the files win --------------------------------


def _declined(media_type: str = "movie", tvdb_id: int | None = None) -> m.RequestDeclined:
    return m.RequestDeclined(
        media_type=media_type,  # type: ignore[arg-type]
        tmdb_id=DUNE_TMDB if media_type == "movie" else None,
        tvdb_id=tvdb_id,
        jellyseerr_request_id=1,
    )


@pytest.mark.parametrize(
    ("refusal", "expected_detail"),
    [
        (_declined(), "declined in Jellyseerr, but Radarr already has it (grabbing)"),
        (
            m.RequestFailed(
                media_type="movie", tmdb_id=DUNE_TMDB, tvdb_id=None, jellyseerr_request_id=1
            ),
            "failed in Jellyseerr, but Radarr already has it (grabbing)",
        ),
    ],
    ids=["declined", "failed"],
)
def test_a_movie_declined_after_its_grab_still_follows_its_files_and_says_so(
    refusal: m.RequestMessage, expected_detail: str
) -> None:
    state, decisions = apply_all(
        [
            refusal,
            movie_imported(DUNE, tmdb_id=DUNE_TMDB, download_hash=DUNE_HASH),
            library_movie(DUNE, tmdb_id=DUNE_TMDB, item_id="jf-dune"),
        ],
        state=_grabbed_movie(),
    )
    assert (state.request.state, state.request.progress) == ("available", 100)
    assert [(e.event, e.from_state, e.to_state) for e in entries(decisions)] == [
        ("transition_refused", "grabbing", "failed"),
        ("imported", "grabbing", "importing"),
        ("added_to_library", "importing", "available"),
    ]
    (refused,) = refusals(decisions)
    assert refused.detail == f"{expected_detail}: its files are still followed"


def test_a_movie_that_failed_before_its_import_was_known_is_moved_on_by_the_import() -> None:
    state, _ = apply_all([_declined()], state=_requested_movie())
    assert state.request.state == "failed"
    state, decisions = apply_all(
        [
            movie_imported(DUNE, tmdb_id=DUNE_TMDB, download_hash=DUNE_HASH),
            library_movie(DUNE, tmdb_id=DUNE_TMDB),
        ],
        state=state,
    )
    assert (state.request.state, state.request.progress) == ("available", 100)
    assert [(e.event, e.from_state, e.to_state) for e in entries(decisions)] == [
        ("imported", "failed", "importing"),
        ("added_to_library", "importing", "available"),
    ]


def test_a_tv_request_declined_with_only_listed_episodes_stays_failed() -> None:
    state, _ = apply_all(
        [
            series_requested(SHOW.title, tvdb_id=SHOW.tvdb_id),
            m.EpisodesListed(sonarr_id=41, episodes=_refs(keys(1, range(1, 4)))),
            _declined("tv", SHOW.tvdb_id),
        ]
    )
    assert state.request.state == "failed"
    assert set(episode_states(state).values()) == {"pending"}


def test_a_tv_request_declined_after_its_grab_stays_on_its_way_and_says_so() -> None:
    decision = step(_grabbed_show(), _declined("tv", SHOW.tvdb_id), source="jellyseerr")
    assert decision.state is not None
    assert decision.state.request.state == "grabbing"
    assert [(e.event, e.from_state, e.to_state, e.detail) for e in decision.timeline] == [
        (
            "transition_refused",
            "grabbing",
            "failed",
            "declined in Jellyseerr, but Sonarr already has it (grabbing): its files are still"
            " followed",
        )
    ]
