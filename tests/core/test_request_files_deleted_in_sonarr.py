"""A TV request whose episodes' files Sonarr deleted, to fetch them again, through ``decide``.

The common "delete the files and search again" workflow: Sonarr deletes the file of every
episode of a request, then grabs the season again. The episodes lost only their file, so they
are still wanted: the request goes back to an active waiting state (a backward move recorded on
the timeline with its reason) instead of becoming ``deleted``, the new grab is routed to it
(not to a new request created by Sonarr without the Jellyseerr link), and it returns to
available with its episodes. A request whose episodes were deleted for good (through the API,
or its series deleted in Sonarr) is deleted as before, and a grab creates a new request.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from status_tracker.actors.media_request import messages as m
from status_tracker.actors.media_request.notifications import NOTIFY_EVENTS, notices_for
from status_tracker.actors.media_request.state import Decision, RequestState

from status_tracker.domain import ACTIVE_STATES

from .builders import (
    Key,
    apply_all,
    episode_files_deleted,
    episode_states,
    episodes_grabbed,
    episodes_imported,
    keys,
    library_episode,
    refusals,
    route_in,
    series,
    series_requested,
    step,
    torrent_hash,
)

SHOGUN = series("Shogun", tvdb_id=10, sonarr_id=41)
FIRST, AGAIN = torrent_hash("shogun-s01"), torrent_hash("shogun-s01-again")
S01 = keys(1, (1, 2))
FILES_DELETED = "its files were deleted in Sonarr"


def _available(episodes: tuple[Key, ...] = S01) -> RequestState:
    """Shogun S01 asked for in Jellyseerr, grabbed, imported and in Jellyfin."""
    state, _ = apply_all(
        [
            series_requested(SHOGUN.title, tvdb_id=SHOGUN.tvdb_id, seasons=(1,), jellyseerr_id=7),
            episodes_grabbed(SHOGUN, episodes, download_hash=FIRST),
            episodes_imported(SHOGUN, episodes, download_hash=FIRST, complete=True),
            *[library_episode(SHOGUN.title, key) for key in episodes],
        ]
    )
    assert state.request.state == "available"
    assert set(episode_states(state).values()) == {"available"}
    return state


def _notices(before: RequestState, decision: Decision) -> list[tuple[str, int | None]]:
    assert decision.state is not None
    return [
        (notice.kind, notice.episode)
        for notice in notices_for(before, decision.state, decision.timeline, events=NOTIFY_EVENTS)
    ]


def test_every_file_deleted_in_sonarr_and_the_season_grabbed_again_brings_the_same_request_back():
    state = _available()
    deleted = step(state, episode_files_deleted(SHOGUN, S01))
    assert deleted.state is not None
    waiting = deleted.state

    # In between: the episodes lost their files; the request waits for them to be grabbed again,
    # in an active state, saying why it went back. Nothing is deleted for good.
    assert episode_states(waiting) == dict.fromkeys(S01, "deleted")
    assert waiting.request.state == "approved"
    assert waiting.request.state in ACTIVE_STATES
    assert waiting.request.jellyseerr_request_id == 7
    assert waiting.request.progress == 0
    derived = [e for e in deleted.timeline if e.event == "state_derived"]
    assert [(e.from_state, e.to_state) for e in derived] == [("available", "approved")]
    assert derived[0].detail is not None
    assert derived[0].detail.startswith(FILES_DELETED)
    assert "S01E01-S01E02" in derived[0].detail
    # Each episode's deletion is told (as before); no "failed", no "available" for the request.
    assert _notices(state, deleted) == [("deleted", 1), ("deleted", 2)]

    # Sonarr grabs the season again: the same request is the target, not a new one.
    regrab = episodes_grabbed(SHOGUN, S01, download_hash=AGAIN)
    routed = route_in(regrab, [waiting])
    assert (routed.targets, routed.create) == ((1,), False)

    grabbed = step(waiting, regrab)
    assert grabbed.state is not None
    assert episode_states(grabbed.state) == dict.fromkeys(S01, "grabbing")
    assert grabbed.state.request.state == "grabbing"
    assert [c.episodes for c in grabbed.claims] == [S01]
    assert refusals([grabbed]) == []

    state, decisions = apply_all(
        [
            episodes_imported(SHOGUN, S01, download_hash=AGAIN, complete=True),
            *[library_episode(SHOGUN.title, key) for key in S01],
        ],
        state=grabbed.state,
    )
    assert episode_states(state) == dict.fromkeys(S01, "available")
    assert state.request.state == "available"
    assert state.request.progress == 100
    assert state.request.jellyseerr_request_id == 7
    assert refusals(decisions) == []


def test_one_of_two_files_deleted_leaves_the_request_partially_available_and_grabbed_again():
    state = _available()
    deleted = step(state, episode_files_deleted(SHOGUN, [(1, 1)]))
    assert deleted.state is not None
    assert episode_states(deleted.state) == {(1, 1): "deleted", (1, 2): "available"}
    # Not available any more: one episode waits to be grabbed again (an active state).
    assert deleted.state.request.state == "partially_available"
    [derived] = [e for e in deleted.timeline if e.event == "state_derived"]
    assert (derived.from_state, derived.to_state) == ("available", "partially_available")
    assert derived.detail is not None
    assert derived.detail.startswith(FILES_DELETED)
    assert _notices(state, deleted) == [("deleted", 1)]

    regrab = episodes_grabbed(SHOGUN, [(1, 1)], download_hash=AGAIN)
    assert route_in(regrab, [deleted.state]).targets == (1,)
    state, decisions = apply_all(
        [
            regrab,
            episodes_imported(SHOGUN, [(1, 1)], download_hash=AGAIN, complete=True),
            library_episode(SHOGUN.title, (1, 1)),
        ],
        state=deleted.state,
    )
    assert [d.state.request.state for d in decisions if d.state] == [
        "grabbing",
        "importing",
        "available",
    ]
    assert episode_states(state) == dict.fromkeys(S01, "available")


@pytest.mark.parametrize(
    "for_good",
    [
        m.DeletionRequested(),
        m.DeletionRequested(episodes=S01),
        m.SeriesDeleted(series=SHOGUN, deleted_files=True),
    ],
    ids=["request-through-the-api", "every-episode-through-the-api", "series-deleted-in-sonarr"],
)
@pytest.mark.parametrize("files_first", [False, True], ids=["", "after-its-files"])
def test_a_request_whose_episodes_were_deleted_for_good_is_deleted_and_not_grabbed_again(
    for_good: m.RequestMessage, files_first: bool
):
    files = [episode_files_deleted(SHOGUN, S01)] if files_first else []
    state, _ = apply_all([*files, for_good], state=_available())
    assert state.request.state == "deleted"
    assert set(episode_states(state).values()) == {"deleted"}
    regrab = episodes_grabbed(SHOGUN, S01, download_hash=AGAIN)
    assert route_in(regrab, [state]).create is True


FOUR = keys(1, range(1, 5))


@settings(max_examples=150, deadline=None)
@given(
    deletions=st.lists(
        st.tuples(st.sets(st.sampled_from(FOUR), min_size=1), st.booleans()), min_size=1, max_size=3
    )
)
def test_the_request_stays_a_grab_target_while_any_episode_lost_only_its_file(
    deletions: list[tuple[set[Key], bool]],
):
    """Files deleted in Sonarr and episodes deleted through the API, in any order."""
    state = _available(FOUR)
    for_good: set[Key] = set()
    files_lost: set[Key] = set()
    for episodes, through_the_api in deletions:
        if through_the_api:
            message: m.RequestMessage = m.DeletionRequested(episodes=tuple(sorted(episodes)))
            for_good |= episodes
        else:
            message = episode_files_deleted(SHOGUN, sorted(episodes))
            files_lost |= episodes - for_good
        before = state
        decision = step(before, message)
        assert decision.state is not None
        state = decision.state
        if not through_the_api:
            # Files deleted give notices of the deleted episodes only, never "failed" or
            # "available". (An API deletion of the last episode waiting again moves the
            # request back to available: notifications.py then tells "available" again.)
            assert {kind for kind, _ in _notices(before, decision)} <= {"deleted"}
    waiting = files_lost - for_good
    if for_good == set(FOUR):
        expected = "deleted"
    elif not waiting:
        expected = "available"  # the rest, all available
    elif waiting | for_good == set(FOUR):
        expected = "approved"  # nothing left but episodes to grab again
    else:
        expected = "partially_available"
    assert state.request.state == expected
    # Sonarr searches again for what it misses: the episodes that lost their file, or (nothing
    # lost) those deleted for good, which a new request then follows.
    regrab = episodes_grabbed(SHOGUN, sorted(waiting or for_good), download_hash=AGAIN)
    routed = route_in(regrab, [state])
    assert routed.create == (expected in ("deleted", "available"))
    if not routed.create:
        grabbed = step(state, regrab)
        assert grabbed.state is not None
        assert refusals([grabbed]) == []
        back = {key for key, s in episode_states(grabbed.state).items() if s == "grabbing"}
        assert back == waiting
        assert grabbed.state.request.state == "grabbing"


@pytest.mark.parametrize(
    "jellyseerr",
    [
        m.RequestWithdrawn(detail="Jellyseerr request 7 was deleted"),
        m.RequestDeclined(media_type="tv", tmdb_id=None, tvdb_id=10, jellyseerr_request_id=7),
    ],
    ids=["withdrawn", "declined"],
)
def test_a_request_waiting_for_its_files_again_is_no_request_nothing_was_grabbed_for(
    jellyseerr: m.RequestMessage,
):
    """``approved`` again, but grabbed and imported once: Jellyseerr deleting or declining it
    neither deletes nor fails it (as when it was available), and the new grab still finds it."""
    waiting, _ = apply_all([episode_files_deleted(SHOGUN, S01)], state=_available())
    state, [decision] = apply_all([jellyseerr], state=waiting)
    assert state.request.state == "approved"
    assert state.episodes == waiting.episodes
    assert [e.event for e in decision.timeline] in (["request_deleted"], ["transition_refused"])
    regrab = episodes_grabbed(SHOGUN, S01, download_hash=AGAIN)
    assert route_in(regrab, [state]).targets == (1,)
