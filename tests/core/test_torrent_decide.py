"""What one download does with claims, observations and its disappearance: the TorrentActor's
pure ``decide``, including the file → episode map and the per-episode notifications."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from status_tracker.actors.torrent.messages import DownloadClaimed

from .builders import (
    claim,
    keys,
    links_of,
    notified,
    observed,
    torrent_apply,
    torrent_hash,
    vanished,
    without_times,
)

PACK = torrent_hash("chernobyl-s01")
SEASON = keys(1, range(1, 6))


def _pack_files(progress_by_episode: dict[int, float], *, extras: bool = True):
    files = [
        (f"Chernobyl.S01.1080p/Chernobyl.S01E{e:02d}.1080p.mkv", 2_000_000_000, progress)
        for e, progress in sorted(progress_by_episode.items())
    ]
    if extras:
        files += [
            ("Chernobyl.S01.1080p/Chernobyl.S01.nfo", 2_000, 1.0),
            ("Chernobyl.S01.1080p/Sample/chernobyl.s01e01.sample.mkv", 50_000_000, 1.0),
        ]
    return files


def _claimed(*claims):
    row, _ = torrent_apply(claims)
    return row


# -- claims ---------------------------------------------------------------------------------


def test_the_first_claim_creates_the_download_with_every_episode_linked() -> None:
    row, [decision] = torrent_apply([claim(PACK, 1, SEASON, name="Chernobyl.S01.1080p")])
    assert decision.changed
    assert row is not None
    assert (row.hash, row.name, row.progress) == (PACK, "Chernobyl.S01.1080p", 0)
    assert links_of(row) == {1: SEASON}
    assert row.episode_count == 5
    assert decision.notify == ()  # nothing observed yet: nothing to tell


def test_a_movie_claim_links_the_request_without_episodes() -> None:
    row = _claimed(claim(PACK, 3))
    assert links_of(row) == {3: ()}
    assert row is not None
    assert not row.is_season_pack


def test_a_replayed_claim_changes_nothing() -> None:
    row = _claimed(claim(PACK, 1, SEASON))
    _, [replay] = torrent_apply([claim(PACK, 1, SEASON)], row=row)
    assert not replay.changed
    assert replay.row == row


def test_a_replayed_claim_of_an_observed_download_tells_the_claimant_where_it_is() -> None:
    row, _ = torrent_apply([claim(PACK, 1, SEASON), observed(PACK, 0.25)])
    _, [replay] = torrent_apply([claim(PACK, 1, SEASON)], row=row)
    assert not replay.changed
    assert set(notified(replay)) == {1}
    assert notified(replay)[1].progress == 25


def test_two_requests_on_one_hash_are_both_linked_and_both_told_of_progress() -> None:
    row = _claimed(claim(PACK, 1, SEASON), claim(PACK, 2, SEASON[:3]))
    assert links_of(row) == {1: SEASON, 2: SEASON[:3]}
    _, [seen] = torrent_apply([observed(PACK, 0.3)], row=row)
    assert set(notified(seen)) == {1, 2}
    assert notified(seen)[1] == notified(seen)[2]


def test_a_second_claim_by_the_same_request_adds_its_new_episodes() -> None:
    row = _claimed(claim(PACK, 1, SEASON[:2]), claim(PACK, 1, SEASON[1:]))
    assert links_of(row) == {1: SEASON}


def test_a_request_joining_an_observed_download_hears_its_progress_at_once() -> None:
    row, _ = torrent_apply([claim(PACK, 1, SEASON), observed(PACK, 0.6)])
    _, [joined] = torrent_apply([claim(PACK, 2, SEASON)], row=row)
    assert joined.changed
    assert set(notified(joined)) == {2}
    assert notified(joined)[2].progress == 60


# -- observations ---------------------------------------------------------------------------


def test_qbittorrent_progress_0_to_1_becomes_a_percentage() -> None:
    row, [seen] = torrent_apply([observed(PACK, 0.4567)], row=_claimed(claim(PACK, 1, SEASON)))
    assert seen.changed
    assert row is not None
    assert row.progress == pytest.approx(45.67)
    assert (row.state, row.client_state) == ("downloading", "downloading")
    assert notified(seen)[1].progress == pytest.approx(45.67)


def test_an_unchanged_observation_is_not_saved_and_tells_nobody() -> None:
    row, _ = torrent_apply(
        [observed(PACK, 0.5, files=_pack_files(dict.fromkeys(range(1, 6), 0.5)))],
        row=_claimed(claim(PACK, 1, SEASON)),
    )
    _, [again] = torrent_apply(
        [observed(PACK, 0.5, files=_pack_files(dict.fromkeys(range(1, 6), 0.5)))], row=row
    )
    assert not again.changed
    assert again.notify == ()
    assert again.row == row


def test_an_observation_without_files_keeps_the_files_already_known() -> None:
    row, _ = torrent_apply(
        [observed(PACK, 0.5, files=_pack_files(dict.fromkeys(range(1, 6), 0.5)))],
        row=_claimed(claim(PACK, 1, SEASON)),
    )
    assert row is not None
    files = row.files
    later, _ = torrent_apply([observed(PACK, 0.6)], row=row)
    assert later is not None
    assert later.files == files


def test_a_torrent_nobody_claimed_is_not_tracked() -> None:
    row, [seen] = torrent_apply([observed(PACK, 0.5)])
    assert row is None
    assert not seen.changed
    assert seen.notify == ()


def test_files_are_mapped_to_the_episodes_they_hold_and_extras_to_none() -> None:
    row, _ = torrent_apply(
        [observed(PACK, 0.5, files=_pack_files(dict.fromkeys(range(1, 6), 0.5)))],
        row=_claimed(claim(PACK, 1, SEASON)),
    )
    assert row is not None
    assert [f.episodes for f in row.files] == [*[(key,) for key in SEASON], (), ()]


def test_each_episode_is_told_the_progress_of_its_own_file() -> None:
    per_file = {1: 1.0, 2: 0.5, 3: 0.25, 4: 0.0, 5: 0.999}
    _, [seen] = torrent_apply(
        [observed(PACK, 0.55, files=_pack_files(per_file))],
        row=_claimed(claim(PACK, 1, SEASON)),
    )
    episodes = {(e.season, e.episode): (e.progress, e.complete) for e in notified(seen)[1].episodes}
    assert episodes == {
        (1, 1): (100.0, True),
        (1, 2): (50.0, False),
        (1, 3): (25.0, False),
        (1, 4): (0.0, False),
        (1, 5): (99.9, False),
    }


def test_a_file_a_hair_short_of_complete_is_not_reported_complete() -> None:
    per_file = dict.fromkeys(range(1, 6), 0.99996)
    row, [seen] = torrent_apply(
        [observed(PACK, 0.99996, files=_pack_files(per_file, extras=False))],
        row=_claimed(claim(PACK, 1, SEASON)),
    )
    assert row is not None
    assert row.progress < 100
    assert not any(e.complete for e in notified(seen)[1].episodes)
    assert all(e.progress < 100 for e in notified(seen)[1].episodes)


def test_a_later_claim_maps_the_files_of_its_episodes_too() -> None:
    row, _ = torrent_apply(
        [
            claim(PACK, 1, SEASON[:2]),
            observed(PACK, 0.5, files=_pack_files(dict.fromkeys(range(1, 6), 0.5))),
        ]
    )
    assert row is not None
    assert [f.episodes for f in row.files][:5] == [((1, 1),), ((1, 2),), (), (), ()]
    row, _ = torrent_apply([claim(PACK, 2, SEASON)], row=row)
    assert row is not None
    assert [f.episodes for f in row.files][:5] == [(key,) for key in SEASON]


# -- disappearance --------------------------------------------------------------------------


def test_a_vanished_torrent_is_missing_and_everyone_is_told_once() -> None:
    row = _claimed(claim(PACK, 1, SEASON), claim(PACK, 2, SEASON))
    row, [gone] = torrent_apply([vanished(PACK)], row=row)
    assert row is not None
    assert row.state == "missing"
    assert set(notified(gone)) == {1, 2}
    assert notified(gone)[1].state == "missing"
    _, [again] = torrent_apply([vanished(PACK)], row=row)
    assert not again.changed
    assert again.notify == ()


def test_a_torrent_nobody_knew_vanishing_changes_nothing() -> None:
    row, [gone] = torrent_apply([vanished(PACK)])
    assert row is None
    assert not gone.changed


# -- claims in any order ----------------------------------------------------------------------

claims_strategy = st.lists(
    st.tuples(
        st.integers(1, 4),
        st.lists(st.sampled_from(keys(1, range(1, 11))), max_size=10, unique=True),
    ),
    min_size=1,
    max_size=8,
)


@given(data=st.data(), claims=claims_strategy)
def test_claims_in_any_order_with_replays_produce_the_same_links_and_file_map(
    data: st.DataObject, claims: list[tuple[int, list[tuple[int, int]]]]
) -> None:
    messages = [claim(PACK, request_id, episodes) for request_id, episodes in claims]
    replays = data.draw(st.lists(st.sampled_from(messages), max_size=4), label="replays")
    shuffled = data.draw(st.permutations(messages + replays), label="order")
    files = [(f"Show.S01.1080p/Show.S01E{e:02d}.mkv", 1_000, e / 10) for e in range(1, 11)]
    at = data.draw(st.integers(1, len(shuffled)), label="observation at")
    sequence = [*shuffled[:at], observed(PACK, 0.5, files=files), *shuffled[at:]]

    row, decisions = torrent_apply(sequence)

    expected: dict[int, set[tuple[int, int]]] = {}
    for request_id, episodes in claims:
        expected.setdefault(request_id, set()).update(episodes)
    assert links_of(row) == {rid: tuple(sorted(eps)) for rid, eps in expected.items()}

    reference, _ = torrent_apply([*messages, observed(PACK, 0.5, files=files)])
    assert row is not None
    assert reference is not None
    assert without_times(row) == without_times(reference)

    # Exactly the claims that linked something new were saved.
    seen: dict[int, set[tuple[int, int]]] = {}
    for message, decision in zip(sequence, decisions, strict=True):
        if isinstance(message, DownloadClaimed):
            before = seen.get(message.request_id)
            new = before is None or not set(message.episodes) <= before
            seen.setdefault(message.request_id, set()).update(message.episodes)
            assert decision.changed is new
