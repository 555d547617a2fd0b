"""Which items count as stuck, and what the sweeper does about each (pure rules)."""

from __future__ import annotations

import pytest
from status_tracker.actors.recovery.stuck import Relink, RereadDownload, VerifyInLibrary, find_stuck

from status_tracker.domain import DownloadLink, DownloadRow, EpisodeRow, RequestRow

STUCK_AFTER = 300.0
NOW = 10_000.0
HASH = "ab" * 20


def movie(state: str, *, changed: float, download_hash: str | None = HASH) -> RequestRow:
    return RequestRow(
        id=1,
        media_type="movie",
        title="Movie",
        state=state,
        download_hash=download_hash,
        last_change_at=changed,
    )


def download(*links: DownloadLink) -> dict[str, DownloadRow]:
    return {HASH: DownloadRow(hash=HASH, links=links)}


def episode(
    number: int, state: str, *, changed: float, torrent_hash: str | None = HASH
) -> EpisodeRow:
    return EpisodeRow(
        request_id=2,
        season=1,
        episode=number,
        state=state,
        torrent_hash=torrent_hash,
        last_change_at=changed,
    )


SHOW = RequestRow(id=2, media_type="tv", title="Show", state="downloading")


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("grabbing", RereadDownload),
        ("downloading", RereadDownload),
        ("downloaded", VerifyInLibrary),
        ("importing", VerifyInLibrary),
        ("anime_matching", VerifyInLibrary),
    ],
)
def test_a_movie_unchanged_for_too_long_gets_the_action_its_state_needs(
    state: str, expected: type
) -> None:
    actions = find_stuck(
        [movie(state, changed=NOW - STUCK_AFTER)],
        {},
        download(DownloadLink(request_id=1)),
        now=NOW,
        stuck_after=STUCK_AFTER,
    )
    assert [type(a) for a in actions] == [expected]


@pytest.mark.parametrize("state", ["requested", "approved", "available", "failed", "deleted"])
def test_states_that_wait_for_a_person_or_are_finished_are_never_stuck(state: str) -> None:
    actions = find_stuck(
        [movie(state, changed=0.0)],
        {},
        download(DownloadLink(request_id=1)),
        now=NOW,
        stuck_after=STUCK_AFTER,
    )
    assert all(not isinstance(a, (RereadDownload, VerifyInLibrary)) for a in actions)


def test_a_recent_change_is_not_stuck() -> None:
    actions = find_stuck(
        [movie("downloading", changed=NOW - STUCK_AFTER + 1)],
        {},
        download(DownloadLink(request_id=1)),
        now=NOW,
        stuck_after=STUCK_AFTER,
    )
    assert actions == []


def test_a_movie_whose_download_lost_its_link_is_relinked() -> None:
    actions = find_stuck(
        [movie("downloading", changed=0.0)], {}, {}, now=NOW, stuck_after=STUCK_AFTER
    )
    assert actions[0] == Relink(request_id=1, hash=HASH)


def test_only_the_pack_episodes_missing_from_the_download_are_relinked() -> None:
    episodes = [episode(n, "downloading", changed=NOW - STUCK_AFTER) for n in range(1, 6)]
    linked = download(DownloadLink(request_id=2, episodes=((1, 1), (1, 2))))
    actions = find_stuck([SHOW], {2: episodes}, linked, now=NOW, stuck_after=STUCK_AFTER)
    relinks = [a for a in actions if isinstance(a, Relink)]
    assert relinks == [Relink(request_id=2, hash=HASH, episodes=((1, 3), (1, 4), (1, 5)))]


def test_stuck_episodes_are_grouped_by_torrent_and_by_waiting_state() -> None:
    other = "cd" * 20
    episodes = [
        episode(1, "downloading", changed=0.0),
        episode(2, "downloading", changed=0.0),
        episode(3, "grabbing", changed=0.0, torrent_hash=other),
        episode(4, "importing", changed=0.0),
        episode(5, "available", changed=0.0),
        episode(6, "downloading", changed=NOW),
    ]
    links = {
        HASH: DownloadRow(
            hash=HASH,
            links=(DownloadLink(request_id=2, episodes=tuple((1, n) for n in range(1, 7))),),
        ),
        other: DownloadRow(hash=other, links=(DownloadLink(request_id=2, episodes=((1, 3),)),)),
    }
    actions = find_stuck([SHOW], {2: episodes}, links, now=NOW, stuck_after=STUCK_AFTER)
    assert actions == [
        RereadDownload(request_id=2, hash=HASH, episodes=((1, 1), (1, 2)), stuck_for=NOW),
        RereadDownload(request_id=2, hash=other, episodes=((1, 3),), stuck_for=NOW),
        VerifyInLibrary(request_id=2, state="importing", episodes=((1, 4),), stuck_for=NOW),
    ]


def test_the_same_stuck_item_gives_an_equal_action_as_time_goes_on() -> None:
    first = find_stuck(
        [movie("downloading", changed=0.0)],
        {},
        download(DownloadLink(request_id=1)),
        now=NOW,
        stuck_after=STUCK_AFTER,
    )
    later = find_stuck(
        [movie("downloading", changed=0.0)],
        {},
        download(DownloadLink(request_id=1)),
        now=NOW * 2,
        stuck_after=STUCK_AFTER,
    )
    assert first == later
    assert first[0].stuck_for != later[0].stuck_for


def test_a_movie_waiting_for_its_import_rereads_the_torrent_its_row_shows_in_qbittorrent() -> None:
    seeding = {
        HASH: DownloadRow(
            hash=HASH, state="seeding", progress=100.0, links=(DownloadLink(request_id=1),)
        )
    }
    actions = find_stuck(
        [movie("downloaded", changed=NOW - STUCK_AFTER)],
        {},
        seeding,
        now=NOW,
        stuck_after=STUCK_AFTER,
    )
    assert [type(a) for a in actions] == [RereadDownload, VerifyInLibrary]
    assert isinstance(actions[0], RereadDownload)
    assert actions[0].finished
    gone = {
        HASH: DownloadRow(
            hash=HASH, state="missing", progress=100.0, links=(DownloadLink(request_id=1),)
        )
    }
    actions = find_stuck(
        [movie("downloaded", changed=NOW - STUCK_AFTER)], {}, gone, now=NOW, stuck_after=STUCK_AFTER
    )
    assert [type(a) for a in actions] == [VerifyInLibrary], "known gone: nothing to re-read"


def test_pack_episodes_waiting_for_their_import_reread_their_torrent_once() -> None:
    keys = tuple((1, n) for n in (1, 2))
    seeding = {
        HASH: DownloadRow(
            hash=HASH,
            state="seeding",
            progress=100.0,
            links=(DownloadLink(request_id=2, episodes=keys),),
        )
    }
    episodes = {2: [episode(n, "downloaded", changed=NOW - STUCK_AFTER) for n in (1, 2)]}
    actions = find_stuck([SHOW], episodes, seeding, now=NOW, stuck_after=STUCK_AFTER)
    rereads = [a for a in actions if isinstance(a, RereadDownload)]
    assert [(a.hash, a.episodes, a.finished) for a in rereads] == [(HASH, keys, True)]
