"""The state order (judge, is_past) and a TV request's state derived from its episodes.

The expected outcomes are written from DESIGN.md's "States" section, not from the code: forward
jumps are allowed, a backward move needs a real reason, failed may go anywhere, deleted and
unknown states go nowhere.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from status_tracker.actors.media_request.transitions import (
    Judgement,
    Verdict,
    derive_request_state,
    episode_download_target,
    is_past,
    judge,
)

# DESIGN.md, in order; episodes start at pending before any of them.
PIPELINE = (
    "pending",
    "requested",
    "approved",
    "grabbing",
    "downloading",
    "downloaded",
    "importing",
    "anime_matching",
    "available",
)
EVERY_STATE = (*PIPELINE, "failed", "deleted")
UNKNOWN = ("", "stalled", "AVAILABLE", "seeding")


def _pairs(kind: str) -> list[tuple[str, str]]:
    """Every ordered pair of known states of one kind of move."""
    found = []
    for current, target in itertools.product(EVERY_STATE, repeat=2):
        if current == target:
            move = "same"
        elif current == "deleted":
            move = "from_deleted"
        elif current == "failed":
            move = "from_failed"
        elif target in ("failed", "deleted"):
            move = "to_terminal"
        elif PIPELINE.index(target) > PIPELINE.index(current):
            move = "forward"
        else:
            move = "backward"
        if move == kind:
            found.append((current, target))
    return found


def test_every_pair_of_known_states_is_covered_by_one_kind_of_move() -> None:
    kinds = ("same", "from_deleted", "from_failed", "to_terminal", "forward", "backward")
    assert sum(len(_pairs(kind)) for kind in kinds) == len(EVERY_STATE) ** 2


@pytest.mark.parametrize(("current", "target"), _pairs("forward"))
def test_forward_moves_and_jumps_are_allowed(current: str, target: str) -> None:
    assert judge(current, target).verdict is Verdict.APPLY


@pytest.mark.parametrize("state", EVERY_STATE)
def test_staying_in_the_same_state_is_no_move(state: str) -> None:
    assert judge(state, state).verdict is Verdict.SAME
    assert judge(state, state, backward_reason="a new release was grabbed").verdict is Verdict.SAME


@pytest.mark.parametrize(("current", "target"), _pairs("backward"))
def test_backward_moves_without_a_reason_are_refused_with_an_explanation(
    current: str, target: str
) -> None:
    judgement = judge(current, target)
    assert judgement.verdict is Verdict.REFUSE
    assert judgement.reason
    assert current in judgement.reason
    assert target in judgement.reason


@pytest.mark.parametrize(("current", "target"), _pairs("backward"))
def test_backward_moves_with_a_real_reason_are_allowed_and_keep_the_reason(
    current: str, target: str
) -> None:
    judgement = judge(current, target, backward_reason="a new release was grabbed")
    assert judgement.verdict is Verdict.APPLY
    assert judgement.reason == "a new release was grabbed"


@pytest.mark.parametrize(("current", "target"), _pairs("from_failed"))
def test_a_failed_item_may_move_to_any_state(current: str, target: str) -> None:
    assert judge(current, target).verdict is Verdict.APPLY


@pytest.mark.parametrize(("current", "target"), _pairs("to_terminal"))
def test_any_live_item_may_fail_or_be_deleted(current: str, target: str) -> None:
    assert judge(current, target).verdict is Verdict.APPLY


@pytest.mark.parametrize(("current", "target"), _pairs("from_deleted"))
def test_a_deleted_item_never_moves_again(current: str, target: str) -> None:
    for reason in (None, "a new release was grabbed"):
        judgement = judge(current, target, backward_reason=reason)
        assert judgement.verdict is Verdict.REFUSE
        assert judgement.reason
        assert "deleted" in judgement.reason


@pytest.mark.parametrize(("current", "target"), _pairs("from_deleted"))
def test_a_deleted_item_that_lost_only_its_file_may_only_be_grabbed_again(
    current: str, target: str
) -> None:
    judgement = judge(current, target, lost_only_its_file=True)
    if target == "grabbing":
        assert judgement == Judgement(Verdict.APPLY, "grabbed again after its file was deleted")
    else:
        assert judgement.verdict is Verdict.REFUSE
        assert judgement.reason == f"item was deleted; {target} ignored"


@given(
    current=st.sampled_from([s for s in (*EVERY_STATE, *UNKNOWN) if s != "deleted"]),
    target=st.sampled_from([*EVERY_STATE, *UNKNOWN]),
    reason=st.sampled_from([None, "a new release was grabbed"]),
)
def test_losing_only_a_file_changes_nothing_for_an_item_that_is_not_deleted(
    current: str, target: str, reason: str | None
) -> None:
    assert judge(current, target, backward_reason=reason, lost_only_its_file=True) == judge(
        current, target, backward_reason=reason
    )


@pytest.mark.parametrize(
    ("current", "target"),
    [(unknown, known) for unknown in UNKNOWN for known in EVERY_STATE]
    + [(known, unknown) for unknown in UNKNOWN for known in EVERY_STATE]
    + [(unknown, unknown) for unknown in UNKNOWN],
)
def test_a_move_from_or_to_an_unknown_state_is_refused_and_names_it(
    current: str, target: str
) -> None:
    judgement = judge(current, target, backward_reason="a new release was grabbed")
    assert judgement.verdict is Verdict.REFUSE
    assert judgement.reason
    assert "unknown state" in judgement.reason


@pytest.mark.parametrize(("stage_index", "seen_index"), list(itertools.product(range(9), repeat=2)))
def test_an_observation_of_an_earlier_or_equal_stage_is_already_past(
    stage_index: int, seen_index: int
) -> None:
    assert is_past(PIPELINE[stage_index], PIPELINE[seen_index]) is (stage_index >= seen_index)


@pytest.mark.parametrize("terminal", ["failed", "deleted"])
@pytest.mark.parametrize("observation", ["downloading", "downloaded"])
def test_observations_never_revive_a_failed_or_deleted_item(
    terminal: str, observation: str
) -> None:
    assert is_past(terminal, observation)


# -- a TV request's state from its episodes -------------------------------------------------


@pytest.mark.parametrize(
    ("episodes", "own", "expected"),
    [
        pytest.param(["available"] * 13, "importing", "available", id="all-available"),
        pytest.param(
            ["available", "downloading", "importing"], "available", "downloading", id="least"
        ),
        pytest.param(["available", "failed", "available"], "importing", "failed", id="failed"),
        pytest.param(["failed", "importing", "available"], "importing", "importing", id="live"),
        pytest.param(["deleted", "available"], "downloading", "available", id="deleted-ignored"),
        pytest.param(["deleted", "deleted"], "downloading", "deleted", id="all-deleted"),
        pytest.param([], "approved", "approved", id="no-episodes"),
        pytest.param(["pending", "grabbing"], "requested", "requested", id="pending-requested"),
        # Issue 9: some available, the rest not grabbed, nothing in progress.
        pytest.param(
            ["pending", "available"], "grabbing", "partially_available", id="pending-after-grab"
        ),
        pytest.param(
            ["pending", "available", "failed"], "approved", "partially_available", id="some-failed"
        ),
        pytest.param(["pending", "pending"], "grabbing", "approved", id="only-pending"),
        # Declined in Jellyseerr before anything was grabbed: listed episodes do not revive it.
        pytest.param(["pending", "pending"], "failed", "failed", id="declined-only-pending"),
        pytest.param(["pending", "failed"], "failed", "failed", id="declined-pending-failed"),
        pytest.param(["pending", "grabbing"], "failed", "approved", id="declined-then-grabbed"),
    ],
)
def test_request_state_is_derived_from_its_episodes(
    episodes: list[str], own: str, expected: str
) -> None:
    assert derive_request_state(episodes, own) == expected


@pytest.mark.parametrize(
    ("episodes", "expected"),
    [
        pytest.param(["available"], "partially_available", id="link-click-one-of-two-seasons"),
        pytest.param(["available", "pending"], "partially_available", id="some-not-grabbed"),
        pytest.param(["available", "downloading"], "downloading", id="in-progress-wins"),
        pytest.param(["available", "failed"], "failed", id="only-failed-left"),
    ],
)
def test_a_request_with_a_season_not_known_whole_is_only_partially_available(
    episodes: list[str], expected: str
) -> None:
    assert derive_request_state(episodes, "importing", seasons_unknown=True) == expected


def _reference_request_state(episodes: list[str], own: str) -> str:
    """DESIGN.md read literally: walk the pipeline and stop at the first stage anyone is at."""
    live = [state for state in episodes if state != "deleted"]
    if (
        "available" in live
        and "pending" in live
        and set(live) <= {"pending", "available", "failed"}
    ):
        return "partially_available"
    for stage in PIPELINE[:-1]:
        if stage in live:
            if stage == "pending":
                if own == "failed" and set(live) <= {"pending", "failed"}:
                    return "failed"  # declined before anything was grabbed
                return own if own in ("requested", "approved") else "approved"
            return stage
    if "failed" in live:
        return "failed"
    if "available" in live:
        return "available"
    return "deleted" if episodes else own


@given(
    episodes=st.lists(st.sampled_from(EVERY_STATE), max_size=15),
    own=st.sampled_from(EVERY_STATE),
)
def test_derived_request_state_matches_the_reference_model(episodes: list[str], own: str) -> None:
    assert derive_request_state(episodes, own) == _reference_request_state(episodes, own)


@given(
    episodes=st.lists(st.sampled_from(PIPELINE[1:]), min_size=1, max_size=15),
    own=st.sampled_from(PIPELINE[1:]),
)
def test_a_request_is_never_ahead_of_its_least_advanced_episode(
    episodes: list[str], own: str
) -> None:
    derived = derive_request_state(episodes, own)
    assert PIPELINE.index(derived) == min(PIPELINE.index(state) for state in episodes)


# -- an episode of a torrent, by what the torrent reports (issue 9) ------------------------------


@pytest.mark.parametrize(
    ("torrent_state", "torrent_progress", "own_progress", "own_complete", "expected"),
    [
        pytest.param("downloading", 46.0, 0.0, False, "downloading", id="pack-running-file-not-started"),  # noqa: E501
        pytest.param("downloading", 46.0, 40.0, False, "downloading", id="own-file-started"),
        pytest.param("downloading", 46.0, 100.0, True, "downloaded", id="own-file-complete"),
        pytest.param("stalled", 12.0, 0.0, False, "downloading", id="stalled-after-some-progress"),
        pytest.param("stalled", 0.0, 0.0, False, None, id="stalled-never-started"),
        pytest.param("queued", 0.0, None, False, None, id="queued-not-started"),
        pytest.param("downloading", 0.0, None, False, "downloading", id="metadata-fetching"),
        pytest.param("seeding", 100.0, 0.0, False, "downloaded", id="torrent-complete"),
        pytest.param("completed", 99.99, None, False, "downloaded", id="client-says-complete"),
        pytest.param("missing", 50.0, 10.0, False, None, id="gone-says-nothing"),
        pytest.param("error", 50.0, 10.0, False, None, id="error-says-nothing"),
        pytest.param("paused", 30.0, 0.0, False, "downloading", id="paused-after-some-progress"),
    ],
)  # fmt: skip
def test_an_episode_follows_the_torrent_its_file_sits_in(
    torrent_state: str,
    torrent_progress: float,
    own_progress: float | None,
    own_complete: bool,
    expected: str | None,
) -> None:
    target = episode_download_target(
        torrent_state=torrent_state,
        torrent_progress=torrent_progress,
        own_progress=own_progress,
        own_complete=own_complete,
    )
    assert target == expected
