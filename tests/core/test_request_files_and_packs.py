"""A TV request after deletions, multi-episode releases and joined downloads, through ``decide``.

Written from what the end-to-end review saw a user get, and what DESIGN.md says instead:

- an episode whose file Sonarr deleted, grabbed again while its request is active, goes back to
  grabbing (the backward move on the timeline, with its reason) and on to available; an episode
  deleted itself (through the API, or its series) keeps refusing;
- a TV request whose every episode is deleted for good is deleted; an episode that lost only its
  file counts as waiting to be grabbed again (as a pending one), so a request whose files Sonarr
  deleted goes back to an active waiting state, the reason on the timeline, and is not deleted;
  some deleted for good, it derives from the rest;
- only a season pack makes its season known whole, never a multi-episode release (two episodes
  in one file), so a request is not available while most of a season was never grabbed;
- a request joining a running season pack knows that season whole, as the one that grabbed it.

Every state is reached by applying webhook-shaped messages in order, as the RequestActor would.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from status_tracker.actors.media_request import messages as m
from status_tracker.actors.media_request.state import RequestState

from status_tracker.domain import TimelineEntry

from .builders import (
    Key,
    apply_all,
    entries,
    episode_files_deleted,
    episode_hashes,
    episode_states,
    episodes_imported,
    keys,
    library_episode,
    refusals,
    series,
    series_requested,
    torrent_hash,
)

LINK_CLICK = series("Link Click", tvdb_id=403179, sonarr_id=57)
S03_PACK = torrent_hash("link-click-s03")
S02_SINGLE = torrent_hash("link-click-s02e01")
S03E02_REPACK = torrent_hash("link-click-s03e02-repack")
PACK_TITLE = "Link.Click.S03.1080p-VARYG"
REPACK_TITLE = "Link.Click.S03E02.REPACK.1080p-VARYG"
GRABBED_AGAIN = "grabbed again after its file was deleted"
FILES_DELETED = "its files were deleted in Sonarr"


def _grab(
    episodes: Iterable[Key], download_hash: str, title: str | None, show: m.SeriesRef = LINK_CLICK
) -> m.EpisodesGrabbed:
    return m.EpisodesGrabbed(
        series=show,
        episodes=tuple(m.EpisodeRef(season=s, episode=e) for s, e in episodes),
        download_hash=download_hash,
        release_title=title,
    )


def _imported(episodes: Iterable[Key], download_hash: str) -> list[m.EpisodesImported]:
    """One per-file import per episode, as Sonarr sends them for a pack."""
    return [
        episodes_imported(LINK_CLICK, [key], download_hash=download_hash, complete=False)
        for key in episodes
    ]


def _in_library(episodes: Iterable[Key]) -> list[m.LibraryItemAdded]:
    return [library_episode(LINK_CLICK.title, key) for key in episodes]


def _episode_entries(decisions, key: Key) -> list[TimelineEntry]:
    return [e for e in entries(decisions) if (e.season, e.episode) == key]


def _counts(state: RequestState) -> dict[str, int]:
    """The request's ``episode_counts`` as the API shows them."""
    return dict(Counter(row.state for row in state.episodes.values()))


# -- 1. an episode whose file was deleted is grabbed again ----------------------------------------

S03 = keys(3, range(1, 4))


def _season_three_imported_and_season_two_grabbing() -> RequestState:
    """Link Click seasons 2 and 3 asked for: S03 as a pack (imported), S02E01 still grabbing."""
    state, _ = apply_all(
        [
            series_requested(LINK_CLICK.title, tvdb_id=LINK_CLICK.tvdb_id, seasons=(2, 3)),
            _grab(S03, S03_PACK, PACK_TITLE),
            _grab([(2, 1)], S02_SINGLE, "Link.Click.S02E01.1080p-VARYG"),
            *_imported(S03, S03_PACK),
        ]
    )
    assert episode_states(state) == {(2, 1): "grabbing", **dict.fromkeys(S03, "importing")}
    return state


@pytest.mark.parametrize(
    ("download_hash", "title"),
    [(S03E02_REPACK, REPACK_TITLE), (S03_PACK, PACK_TITLE)],
    ids=["a-new-release", "the-same-release-again"],
)
def test_an_episode_whose_file_was_deleted_is_grabbed_again_and_goes_on_to_available(
    download_hash: str, title: str
) -> None:
    state, decisions = apply_all(
        [
            episode_files_deleted(LINK_CLICK, [(3, 2)], reason="manual"),
            _grab([(3, 2)], download_hash, title),
        ],
        state=_season_three_imported_and_season_two_grabbing(),
    )
    deleted, regrabbed = decisions
    # The request waits for S03E02 to be grabbed again, as for an episode not grabbed yet.
    assert [(e.event, e.from_state, e.to_state, e.detail) for e in deleted.timeline] == [
        ("file_deleted", "importing", "deleted", "manual"),
        (
            "state_derived",
            "grabbing",
            "approved",
            f"{FILES_DELETED}: S03E02 waits to be grabbed again",
        ),
    ]
    # Back to grabbing, on the download of the new grab, from 0 %, the reason on the timeline.
    assert episode_states(state)[(3, 2)] == "grabbing"
    assert episode_hashes(state)[(3, 2)] == download_hash
    assert state.episodes[(3, 2)].progress == 0
    assert state.episodes[(3, 2)].final_path is None, "the file it lost is no longer its file"
    entry, derived = regrabbed.timeline
    assert (derived.event, derived.from_state, derived.to_state) == (
        "state_derived",
        "approved",
        "grabbing",
    )
    assert (entry.season, entry.episode, entry.event) == (3, 2, "grabbed")
    assert (entry.from_state, entry.to_state) == ("deleted", "grabbing")
    assert entry.detail == f"{GRABBED_AGAIN}: {title}"
    assert [(c.hash, c.episodes) for c in regrabbed.claims] == [(download_hash, ((3, 2),))]

    state, decisions = apply_all(
        [*_imported([(3, 2)], download_hash), *_in_library([(3, 2)])], state=state
    )
    assert episode_states(state)[(3, 2)] == "available"
    assert [(e.event, e.to_state) for e in _episode_entries(decisions, (3, 2))] == [
        ("imported", "importing"),
        ("added_to_library", "available"),
    ]
    assert refusals(decisions) == []
    assert state.request.state == "grabbing"  # S02E01 is still on its way


def test_an_episode_whose_file_was_deleted_and_grabbed_again_can_lose_its_file_again() -> None:
    state, decisions = apply_all(
        [
            episode_files_deleted(LINK_CLICK, [(3, 2)]),
            _grab([(3, 2)], S03E02_REPACK, REPACK_TITLE),
            *_imported([(3, 2)], S03E02_REPACK),
            episode_files_deleted(LINK_CLICK, [(3, 2)]),
            _grab([(3, 2)], S03_PACK, PACK_TITLE),
        ],
        state=_season_three_imported_and_season_two_grabbing(),
    )
    assert episode_states(state)[(3, 2)] == "grabbing"
    assert episode_hashes(state)[(3, 2)] == S03_PACK
    assert refusals(decisions) == []


@pytest.mark.parametrize(
    "then_its_file", [False, True], ids=["deleted", "deleted-then-its-file-deleted-in-sonarr"]
)
def test_an_episode_deleted_through_the_api_refuses_a_later_grab_and_keeps_its_download(
    then_its_file: bool,
) -> None:
    # The service sync deletes its file in Sonarr, which then reports that file deleted.
    sync = [episode_files_deleted(LINK_CLICK, [(3, 2)])] if then_its_file else []
    before, _ = apply_all(
        [m.DeletionRequested(episodes=((3, 2),)), *sync],
        state=_season_three_imported_and_season_two_grabbing(),
    )
    state, decisions = apply_all(
        [
            _grab([(3, 2)], S03E02_REPACK, REPACK_TITLE),
            *_imported([(3, 2)], S03E02_REPACK),
            *_in_library([(3, 2)]),
        ],
        state=before,
    )
    row, was = state.episodes[(3, 2)], before.episodes[(3, 2)]
    assert row.state == "deleted"
    # Not linked to the new download, nor given its file.
    assert (row.torrent_hash, row.progress, row.final_path) == (
        was.torrent_hash,
        was.progress,
        was.final_path,
    )
    assert [(e.to_state, e.detail) for e in refusals(decisions)] == [
        ("grabbing", "item was deleted; grabbing ignored"),
        ("importing", "item was deleted; importing ignored"),
        ("available", "item was deleted; available ignored"),
    ]
    assert [c for d in decisions for c in d.claims] == []


@pytest.mark.parametrize(
    "deletion",
    [m.SeriesDeleted(series=LINK_CLICK, deleted_files=True), m.DeletionRequested()],
    ids=["series-deleted-in-sonarr", "request-deleted-through-the-api"],
)
def test_a_grab_for_a_deleted_request_is_refused(deletion: m.RequestMessage) -> None:
    state, decisions = apply_all(
        [deletion, _grab([(3, 2)], S03E02_REPACK, REPACK_TITLE)],
        state=_season_three_imported_and_season_two_grabbing(),
    )
    assert state.request.state == "deleted"
    assert set(episode_states(state).values()) == {"deleted"}
    [refused] = refusals(decisions)
    assert (refused.season, refused.episode, refused.to_state) == (3, 2, "grabbing")


FOUR = keys(1, range(1, 5))
PICKS = st.sets(st.sampled_from(FOUR))


@settings(max_examples=150, deadline=None)
@given(files_deleted=PICKS, deleted_through_the_api=PICKS)
def test_a_new_grab_brings_back_exactly_the_episodes_that_lost_only_their_file(
    files_deleted: set[Key], deleted_through_the_api: set[Key]
) -> None:
    show = series("Severance", tvdb_id=371980)
    pack, again = torrent_hash("severance-s01"), torrent_hash("severance-s01-proper")
    state, _ = apply_all(
        [
            series_requested(show.title, tvdb_id=show.tvdb_id, seasons=(1, 2)),
            _grab(FOUR, pack, "Severance.S01.1080p", show),
            episodes_imported(show, FOUR, download_hash=pack, complete=True),
        ]
    )
    messages: list[m.RequestMessage] = []
    if files_deleted:
        messages.append(episode_files_deleted(show, sorted(files_deleted)))
    if deleted_through_the_api:
        messages.append(m.DeletionRequested(episodes=tuple(sorted(deleted_through_the_api))))
    state, _ = apply_all(messages, state=state)
    request_deleted = state.request.state == "deleted"
    assert request_deleted == (deleted_through_the_api == set(FOUR))

    state, [regrab] = apply_all(
        [_grab(FOUR, again, "Severance.S01.PROPER.1080p", show)], state=state
    )

    back = set() if request_deleted else files_deleted - deleted_through_the_api
    gone = (files_deleted | deleted_through_the_api) - back
    assert {k for k, s in episode_states(state).items() if s == "deleted"} == gone
    assert {k for k, h in episode_hashes(state).items() if h == again} == set(FOUR) - gone
    revived = [e for e in regrab.timeline if e.event == "grabbed" and e.from_state == "deleted"]
    assert {(e.season, e.episode) for e in revived} == back
    assert all(e.detail is not None and e.detail.startswith(GRABBED_AGAIN) for e in revived)
    assert {(e.season, e.episode) for e in refusals([regrab])} == gone
    claimed = {key for claim in regrab.claims for key in claim.episodes}
    assert claimed == set(FOUR) - gone


# -- 2. every episode deleted for good: the request is deleted ------------------------------------


def test_a_tv_request_whose_only_episode_lost_its_file_waits_for_it_to_be_grabbed_again() -> None:
    """Link Click S03E01 on its own: grabbed, imported, in Jellyfin, then its file deleted."""
    episode = (3, 1)
    single = torrent_hash("link-click-s03e01")
    state, _ = apply_all(
        [
            _grab([episode], single, "Link.Click.S03E01.1080p.BILI.WEB-DL.AAC2.0.H.264-VARYG"),
            *_imported([episode], single),
            *_in_library([episode]),
        ]
    )
    assert state.request.state == "available"
    state, [deleted] = apply_all([episode_files_deleted(LINK_CLICK, [episode])], state=state)
    assert _counts(state) == {"deleted": 1}
    assert state.request.state == "approved"
    assert state.request.progress == 0
    assert [(e.season, e.event, e.from_state, e.to_state, e.detail) for e in deleted.timeline] == [
        (3, "file_deleted", "available", "deleted", "manual"),
        (
            None,
            "state_derived",
            "available",
            "approved",
            f"{FILES_DELETED}: S03E01 waits to be grabbed again",
        ),
    ]
    # Deleted through the API then, the episode is deleted for good, and so is the request.
    state, [for_good] = apply_all([m.DeletionRequested(episodes=(episode,))], state=state)
    assert state.request.state == "deleted"
    assert [(e.event, e.from_state, e.to_state, e.detail) for e in for_good.timeline][-1] == (
        "state_derived",
        "approved",
        "deleted",
        "every episode was deleted",
    )


@settings(max_examples=150, deadline=None)
@given(
    deletions=st.lists(
        st.tuples(st.sets(st.sampled_from(FOUR), min_size=1), st.booleans()), max_size=3
    )
)
def test_a_tv_request_is_deleted_once_every_episode_is_for_good_and_else_derives_from_the_others(
    deletions: list[tuple[set[Key], bool]],
) -> None:
    show = series("Severance", tvdb_id=371980)
    pack = torrent_hash("severance-s01")
    state, _ = apply_all(
        [
            series_requested(show.title, tvdb_id=show.tvdb_id, seasons=(1,)),
            _grab(FOUR, pack, "Severance.S01.1080p", show),
            episodes_imported(show, FOUR, download_hash=pack, complete=True),
            *[library_episode(show.title, key) for key in FOUR],
        ]
    )
    assert state.request.state == "available"
    deleted: set[Key] = set()
    for_good: set[Key] = set()
    waiting: set[Key] = set()  # lost only their file
    for episodes, through_the_api in deletions:
        message = (
            m.DeletionRequested(episodes=tuple(sorted(episodes)))
            if through_the_api
            else episode_files_deleted(show, sorted(episodes))
        )
        state, _ = apply_all([message], state=state)
        deleted |= episodes
        if through_the_api:
            for_good |= episodes
            waiting -= episodes
        else:
            waiting |= episodes - for_good
        expected = {"available": 4 - len(deleted), "deleted": len(deleted)}
        assert _counts(state) == {name: n for name, n in expected.items() if n}
        available = 4 - len(deleted)
        if for_good == set(FOUR):
            assert state.request.state == "deleted"
        elif not waiting:
            # Some deleted for good, the rest available: available (derived from the others).
            assert state.request.state == "available"
            assert state.request.progress == 100
        else:
            # Episodes wait to be grabbed again, as pending ones: with available ones beside
            # them the request is partially available, else approved; both active.
            assert state.request.state == ("partially_available" if available else "approved")
            assert state.request.progress == round(100 * available / (available + len(waiting)), 2)


# -- 3. a multi-episode release is no season pack --------------------------------------------------

S02_PREMIERE = keys(2, (1, 2))
S03_SIX = keys(3, range(1, 7))


@pytest.mark.parametrize(
    "title",
    [
        "Link.Click.S02E01E02.1080p-VARYG",
        "Link.Click.S02E01-E02.1080p.WEB-DL",
        "Link Click - S02E01-02 [1080p]",
        "Link.Click.2x01-02.720p",
    ],
)
def test_a_multi_episode_release_does_not_make_its_season_known_whole(title: str) -> None:
    """Link Click seasons 2 and 3: S03 as a pack, season 2's two-part premiere as one file."""
    multi = torrent_hash("link-click-s02e01e02")
    state, decisions = apply_all(
        [
            series_requested(LINK_CLICK.title, tvdb_id=LINK_CLICK.tvdb_id, seasons=(2, 3)),
            _grab(S03_SIX, S03_PACK, PACK_TITLE),
            _grab(S02_PREMIERE, multi, title),
            *_imported(S03_SIX, S03_PACK),
            episodes_imported(LINK_CLICK, S02_PREMIERE, download_hash=multi, complete=False),
            *_in_library([*S03_SIX, *S02_PREMIERE]),
        ]
    )
    assert state.request.known_seasons == (3,)
    assert _counts(state) == {"available": 8}
    # The rest of season 2 was never grabbed: some of what was asked for is there, not all.
    assert state.request.state == "partially_available"
    assert state.request.available_at is None
    assert "available" not in [e.to_state for e in entries(decisions) if e.season is None]


@pytest.mark.parametrize(
    ("title", "known"),
    [
        ("Link.Click.S02.1080p-VARYG", (2,)),
        ("Link Click (Season 2) [1080p] (Batch)", (2,)),
        ("[SubsPlease] Link Click - 01-02 (1080p)", (2,)),
        ("Link.Click.S01-S02.1080p", (2,)),
        # Names no season and no episode: nothing better is known, read as a pack.
        ("Link Click 1080p WEB-DL", (2,)),
        (None, (2,)),
        # Names one episode, or an absolute one: not a pack, whatever Sonarr maps it to.
        ("Link.Click.S02E01.1080p", ()),
        ("[SubsPlease] Link Click - 13 (1080p)", ()),
    ],
)
def test_a_season_is_known_whole_by_a_grab_only_when_its_title_reads_as_a_pack(
    title: str | None, known: tuple[int, ...]
) -> None:
    state, _ = apply_all(
        [
            series_requested(LINK_CLICK.title, tvdb_id=LINK_CLICK.tvdb_id, seasons=(2,)),
            _grab(S02_PREMIERE, torrent_hash("s02"), title),
        ]
    )
    assert state.request.known_seasons == known


MULTI_EPISODE_FORMS = (
    "{show}.S{s:02d}E{a:02d}E{b:02d}.1080p",
    "{show}.S{s:02d}E{a:02d}-E{b:02d}.720p.WEB-DL",
    "{show} - S{s:02d}E{a:02d}-{b:02d} [1080p]",
    "{show}.{s}x{a:02d}-{b:02d}.HDTV",
)


@settings(max_examples=200, deadline=None)
@given(
    show=st.sampled_from(["Link Click", "Severance", "The Bear", "Shogun 2024", "Frieren"]),
    season=st.integers(1, 12),
    first=st.integers(1, 30),
    count=st.integers(2, 3),
    form=st.sampled_from(MULTI_EPISODE_FORMS),
)
def test_no_multi_episode_release_makes_a_season_known_whole_and_the_request_available(
    show: str, season: int, first: int, count: int, form: str
) -> None:
    episodes = keys(season, range(first, first + count))
    title = form.format(show=show.replace(" ", "."), s=season, a=first, b=first + count - 1)
    ref = series(show, tvdb_id=1000 + season)
    multi = torrent_hash(title)
    state, _ = apply_all(
        [
            series_requested(show, tvdb_id=ref.tvdb_id, seasons=(season,)),
            _grab(episodes, multi, title, ref),
            episodes_imported(ref, episodes, download_hash=multi, complete=False),
            *[library_episode(show, key) for key in episodes],
        ]
    )
    assert state.request.known_seasons == (), title
    assert set(episode_states(state).values()) == {"available"}
    assert state.request.state == "partially_available"
    assert state.request.available_at is None


# -- 4. a second request joining a running season pack ---------------------------------------------

HORIMIYA = series("Horimiya", tvdb_id=384435, anime=True, sonarr_id=12)
HORIMIYA_PACK = torrent_hash("horimiya-s01")
HORIMIYA_S01 = keys(1, range(1, 14))


def _joined(episodes: Iterable[Key], name: str | None = None) -> m.DownloadJoined:
    """What the dispatcher hands a new request for a season another request is downloading."""
    return m.DownloadJoined(
        hash=HORIMIYA_PACK,
        name=name,
        episodes=tuple(m.EpisodeRef(season=s, episode=e) for s, e in episodes),
    )


def _second_request(*joins: m.DownloadJoined):
    return apply_all(
        [series_requested(HORIMIYA.title, tvdb_id=HORIMIYA.tvdb_id, jellyseerr_id=80), *joins],
        request_id=2,
    )


def test_a_request_joining_a_running_season_pack_becomes_available_with_it() -> None:
    """Horimiya S01, 13 episodes in one pack; a second user's request joins it mid-download."""
    first, _ = apply_all(
        [
            series_requested(HORIMIYA.title, tvdb_id=HORIMIYA.tvdb_id, jellyseerr_id=79),
            _grab(
                HORIMIYA_S01,
                HORIMIYA_PACK,
                "[Judas] Horimiya (Season 1) [1080p][HEVC x265 10bit][Dual-Audio] (Batch)",
                HORIMIYA,
            ),
        ]
    )
    second, _ = _second_request(_joined(HORIMIYA_S01))
    assert first.request.known_seasons == second.request.known_seasons == (1,)
    assert episode_hashes(second) == dict.fromkeys(HORIMIYA_S01, HORIMIYA_PACK)

    files = [
        episodes_imported(HORIMIYA, [key], download_hash=HORIMIYA_PACK, complete=False)
        for key in HORIMIYA_S01
    ]
    added = [library_episode(HORIMIYA.title, key) for key in HORIMIYA_S01]
    first, _ = apply_all([*files, *added], state=first)
    second, decisions = apply_all([*files, *added], state=second, request_id=2)
    assert first.request.state == "available"
    assert _counts(second) == {"available": 13}
    assert second.request.state == "available"
    assert second.request.available_at is not None
    assert [e.to_state for e in entries(decisions) if e.event == "state_derived"][-1] == "available"


@pytest.mark.parametrize(
    ("joins", "known"),
    [
        ([_joined(HORIMIYA_S01)], (1,)),
        ([_joined([key]) for key in HORIMIYA_S01[:3]], ()),  # single-episode torrents
        ([_joined(HORIMIYA_S01[:2], name="Horimiya.S01E01E02.1080p")], ()),
        ([_joined(HORIMIYA_S01, name="Horimiya.S01.1080p")], (1,)),
    ],
    ids=["a-pack", "one-episode-each", "a-multi-episode-release", "a-pack-by-its-name"],
)
def test_a_joined_download_makes_its_season_known_whole_only_when_it_is_a_pack(
    joins: list[m.DownloadJoined], known: tuple[int, ...]
) -> None:
    second, _ = _second_request(*joins)
    assert second.request.known_seasons == known
    assert set(episode_states(second).values()) == {"grabbing"}
