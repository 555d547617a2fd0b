"""After recovery blocklisted a stalled download: a replacement grab settles it, or one search
follows, at most once per item per period. Tables and Hypothesis properties, no Trio; and the
waits' round trip through both backends."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from status_tracker.actors.reconcile import replacement
from status_tracker.clients._arr import ArrHistoryRecord
from status_tracker.storage import PruneReplacementWaits, SaveReplacementWait, Store

from status_tracker.domain import ReplacementWait

WAIT_S = 300.0
PERIOD_S = 1800.0
GONE = "aaaa" * 10
OTHER = "bbbb" * 10
PACK = ReplacementWait(
    service="sonarr", download_id=GONE, title="Sherlock.S02", item_ids=(1, 2, 3), removed_at=0.0
)


def follow(
    waits: Sequence[ReplacementWait],
    now: float,
    *,
    queued: Mapping[str, tuple[int, ...]] | None = None,
    grabbed: Sequence[tuple[str, int]] = (),
) -> list[ReplacementWait]:
    return replacement.follow(
        waits, queued=queued or {}, grabbed=grabbed, now=now, wait_s=WAIT_S, period_s=PERIOD_S
    )


def settled(outcome: str, at: float, **fields: object) -> ReplacementWait:
    return attrs.evolve(PACK, outcome=outcome, settled_at=at, **fields)


@pytest.mark.parametrize(
    ("queued", "grabbed", "now", "after"),
    [
        # Nothing yet, and the wait is not over: nothing changes.
        ({}, [], 100.0, None),
        # The replacement is in the queue (or was read from history): settled, no search.
        ({OTHER: (1, 2, 3)}, [], 100.0, settled("replaced", 100.0, grabbed_ids=(1, 2, 3))),
        ({}, [(OTHER, 1), (OTHER, 2), (OTHER, 3)], 100.0,
         settled("replaced", 100.0, grabbed_ids=(1, 2, 3))),
        # Part of it grabbed: remembered, still waiting.
        ({}, [(OTHER, 1), (OTHER, 9)], 100.0, attrs.evolve(PACK, grabbed_ids=(1,))),
        # The wait is over and nothing came: one search for every item.
        ({}, [], WAIT_S, settled("searched", WAIT_S, searched_ids=(1, 2, 3))),
        # The wait is over and part came: a search for the rest.
        ({OTHER: (2,)}, [], WAIT_S,
         settled("searched", WAIT_S, grabbed_ids=(2,), searched_ids=(1, 3))),
        # The blocklisted download itself is no replacement.
        ({GONE: (1, 2, 3)}, [(GONE, 1)], WAIT_S,
         settled("searched", WAIT_S, searched_ids=(1, 2, 3))),
    ],
)  # fmt: skip
def test_a_wait_settles_by_a_grab_or_one_search(
    queued: dict[str, tuple[int, ...]],
    grabbed: list[tuple[str, int]],
    now: float,
    after: ReplacementWait | None,
) -> None:
    assert follow([PACK], now, queued=queued, grabbed=grabbed) == ([after] if after else [])


def test_a_grab_seen_in_an_earlier_round_counts_at_the_end_of_the_wait() -> None:
    (partly,) = follow([PACK], 100.0, grabbed=[(OTHER, 1), (OTHER, 2)])
    (after,) = follow([partly], WAIT_S)
    assert after.outcome == "searched"
    assert after.searched_ids == (3,)


def test_settled_waits_never_change() -> None:
    done = [settled("replaced", 10.0, grabbed_ids=(1, 2, 3)), settled("searched", 10.0)]
    assert follow(done, 5 * PERIOD_S) == []


def test_an_item_searched_within_the_period_is_not_searched_again() -> None:
    earlier = settled("searched", WAIT_S, searched_ids=(3,))
    again = attrs.evolve(PACK, download_id=OTHER, removed_at=600.0)
    (after,) = follow([earlier, again], 600.0 + WAIT_S)
    assert after.searched_ids == (1, 2)
    everything = settled("searched", WAIT_S, searched_ids=(1, 2, 3))
    (after,) = follow([everything, again], 600.0 + WAIT_S)
    assert after.outcome == "searched_recently"
    assert after.searched_ids == ()
    # Once the period is over, it may be searched again.
    late = attrs.evolve(again, removed_at=WAIT_S + PERIOD_S)
    (after,) = follow([everything, late], WAIT_S + PERIOD_S + WAIT_S)
    assert after.searched_ids == (1, 2, 3)


def test_two_waits_due_in_one_round_search_an_item_once() -> None:
    other = attrs.evolve(PACK, download_id=OTHER, item_ids=(3, 4))
    first, second = follow([PACK, other], WAIT_S)
    assert first.searched_ids == (1, 2, 3)
    assert second.searched_ids == (4,)


def test_grabs_are_read_from_history_rows() -> None:
    rows = [
        ArrHistoryRecord(id=1, event_type="grabbed", date=0.0, download_id=OTHER.upper(),
                         source_title="x", item_id=7),
        ArrHistoryRecord(id=2, event_type="downloadFailed", date=0.0, download_id=OTHER,
                         source_title="x", item_id=8),
        ArrHistoryRecord(id=3, event_type="grabbed", date=0.0, download_id=None,
                         source_title="x", item_id=9),
        ArrHistoryRecord(id=4, event_type="grabbed", date=0.0, download_id=OTHER,
                         source_title="x", item_id=None),
    ]  # fmt: skip
    assert replacement.grabs(rows) == [(OTHER, 7)]


def test_the_timeline_says_what_was_searched() -> None:
    pack = settled("searched", 420.0, searched_ids=(1, 2, 3))
    assert replacement.search_detail(pack, now=420.0) == (
        "Sherlock.S02: no replacement grabbed 7 min after it was blocklisted; "
        "asked Sonarr to search again for 3 episodes"
    )
    movie = attrs.evolve(pack, service="radarr", title=None, searched_ids=(311,))
    assert replacement.search_detail(movie, now=60.0).endswith(
        "asked Radarr to search again for 1 movie"
    )


# -- properties over many rounds ------------------------------------------------------------------

items = st.frozensets(st.integers(1, 6), min_size=1, max_size=4)
downloads = st.sampled_from(["d1", "d2", "d3", "d4"])


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[ReplacementWait], list[tuple[float, list]]]:
    names = draw(st.lists(downloads, min_size=1, max_size=4, unique=True))
    waits = [
        ReplacementWait(
            service="sonarr",
            download_id=name,
            title=None,
            item_ids=tuple(sorted(draw(items))),
            removed_at=draw(st.floats(0, 2 * PERIOD_S)),
        )
        for name in names
    ]
    rounds = draw(
        st.lists(
            st.tuples(
                st.floats(1, PERIOD_S),
                st.lists(st.tuples(downloads, st.integers(1, 6)), max_size=4),
            ),
            min_size=1,
            max_size=12,
        )
    )
    return waits, rounds


@settings(deadline=None)
@given(histories())
def test_every_item_is_searched_at_most_once_per_period_and_never_after_its_grab(
    history: tuple[list[ReplacementWait], list[tuple[float, list[tuple[str, int]]]]],
) -> None:
    waits, rounds = history
    stored = {wait.download_id: wait for wait in waits}
    searches: dict[int, list[float]] = {}
    now = 0.0
    for step, grabbed in rounds:
        now += step
        for after in follow(list(stored.values()), now, grabbed=grabbed):
            before = stored[after.download_id]
            assert before.outcome is None
            assert set(after.grabbed_ids) <= set(after.item_ids)
            assert not set(after.searched_ids) & set(after.grabbed_ids)
            assert (after.outcome == "replaced") == (set(after.grabbed_ids) == set(after.item_ids))
            if after.outcome in ("searched", "searched_recently"):
                assert now - after.removed_at >= WAIT_S
            for item in after.searched_ids:
                searches.setdefault(item, []).append(now)
            stored[after.download_id] = after
        for wait in stored.values():
            if now - wait.removed_at >= WAIT_S:
                assert wait.outcome is not None  # no wait outlives its time
    for times in searches.values():
        assert all(later - earlier >= PERIOD_S for earlier, later in itertools.pairwise(times))


# -- storage ------------------------------------------------------------------------------------


async def test_waits_are_stored_and_settled_ones_pruned_after_the_period(store: Store) -> None:
    searched = settled("searched", 100.0, grabbed_ids=(2,), searched_ids=(1, 3))
    other = attrs.evolve(PACK, service="radarr", item_ids=(311,))
    await store.commit([SaveReplacementWait(wait=PACK), SaveReplacementWait(wait=other)])
    assert await store.replacement_waits("sonarr") == [PACK]
    await store.commit([SaveReplacementWait(wait=searched)])
    assert await store.replacement_waits("sonarr") == [searched]
    await store.commit([PruneReplacementWaits(service="sonarr", settled_before=100.0)])
    assert await store.replacement_waits("sonarr") == [searched]
    await store.commit([PruneReplacementWaits(service="sonarr", settled_before=100.5)])
    assert await store.replacement_waits("sonarr") == []
    assert await store.replacement_waits("radarr") == [other]  # open: never pruned
