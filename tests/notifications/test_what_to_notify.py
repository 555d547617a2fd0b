"""What a committed change tells people: a table of before/after states and the notices."""

from __future__ import annotations

import attrs
import pytest
from status_tracker.actors.media_request.notifications import (
    DEFAULT_NOTIFY_EVENTS,
    NOTIFY_EVENTS,
    notices_for,
    parse_events,
)
from status_tracker.actors.media_request.state import RequestState

from status_tracker.domain import EpisodeRow, Notice, RequestRow, TimelineEntry

ALL = frozenset(NOTIFY_EVENTS)


def movie(state: str, **fields: object) -> RequestState:
    row = RequestRow(id=7, media_type="movie", title="Dune", year=2021, state=state, **fields)
    return RequestState(request=row)


def series(state: str, episodes: dict[int, str], **fields: object) -> RequestState:
    row = RequestRow(id=9, media_type="tv", title="Horimiya", state=state, **fields)
    rows = {
        (1, n): EpisodeRow(request_id=9, season=1, episode=n, state=s, last_change_at=float(n))
        for n, s in episodes.items()
    }
    return RequestState(request=row, episodes=rows)


def entry(event: str, *, source: str = "radarr", to_state: str | None = None, **kw: object):
    return TimelineEntry(
        request_id=kw.pop("request_id", 7), at=1.0, source=source, event=event,
        to_state=to_state, **kw,
    )  # fmt: skip


def kinds(notices: list[Notice]) -> list[tuple[str, int | None]]:
    return [(n.kind, n.episode) for n in notices]


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        pytest.param(movie("importing"), movie("available"), [("available", None)], id="movie"),
        pytest.param(None, movie("available"), [("available", None)], id="created-available"),
        pytest.param(movie("available"), movie("available"), [], id="no-change"),
        pytest.param(movie("approved"), movie("grabbing"), [("grabbed", None)], id="grabbed"),
        pytest.param(movie("grabbing"), movie("downloading"), [], id="no-event-for-downloading"),
        pytest.param(movie("downloading"), movie("downloaded"), [("downloaded", None)], id="dl"),
        pytest.param(movie("grabbing"), movie("deleted"), [("deleted", None)], id="deleted"),
        pytest.param(None, None, [], id="nothing"),
    ],
)
def test_a_movie_tells_each_state_it_reaches(
    before: RequestState | None, after: RequestState | None, expected: list
) -> None:
    assert kinds(notices_for(before, after, [], events=ALL)) == expected


def test_only_the_wanted_events_are_told() -> None:
    assert notices_for(movie("approved"), movie("grabbing"), [], events=DEFAULT_NOTIFY_EVENTS) == []
    assert notices_for(movie("importing"), movie("available"), [], events=()) == []


def test_a_failed_movie_carries_the_reason_from_its_timeline() -> None:
    timeline = [entry("failed", source="jellyseerr", to_state="failed", detail="no release")]
    (notice,) = notices_for(movie("grabbing"), movie("failed"), timeline, events=ALL)
    assert notice == Notice(
        request_id=7, kind="failed", media_type="movie", title="Dune", year=2021,
        detail="no release",
    )  # fmt: skip


def test_a_pack_gives_one_notice_per_episode_and_none_for_the_request() -> None:
    before = series("anime_matching", {n: "anime_matching" for n in range(1, 14)})
    after = series("available", {n: "available" for n in range(1, 14)})
    notices = notices_for(before, after, [], events=ALL)
    assert kinds(notices) == [("available", n) for n in range(1, 14)]
    assert {n.season for n in notices} == {1}


def test_only_episodes_that_changed_are_told() -> None:
    before = series("importing", {1: "available", 2: "importing", 3: "importing"})
    after = series("importing", {1: "available", 2: "available", 3: "importing"})
    assert kinds(notices_for(before, after, [], events=ALL)) == [("available", 2)]


def test_a_series_without_known_episodes_is_told_as_a_whole() -> None:
    notices = notices_for(series("importing", {}), series("available", {}), [], events=ALL)
    assert kinds(notices) == [("available", None)]


def test_a_series_failing_as_a_whole_is_one_request_notice() -> None:
    before = series("grabbing", {1: "grabbing", 2: "grabbing"})
    after = series("failed", {1: "grabbing", 2: "grabbing"})
    assert kinds(notices_for(before, after, [], events=ALL)) == [("failed", None)]


def test_stuck_comes_from_the_recovery_sweeper_with_its_reason_and_a_dedupe_key() -> None:
    state = movie("importing", last_change_at=100.0)
    timeline = [
        entry(
            "waiting_for_library", source="recovery", detail="importing for 400 s; not in Jellyfin"
        )
    ]
    (notice,) = notices_for(state, state, timeline, events=ALL)
    assert notice.kind == "stuck"
    assert notice.detail == "importing for 400 s; not in Jellyfin"
    assert notice.dedupe_key == "stuck:7:None:None:importing:100.0"
    # The same stall noted again gives the same key: the outbox keeps one.
    assert notices_for(state, state, timeline, events=ALL)[0].dedupe_key == notice.dedupe_key
    moved_on = movie("importing", last_change_at=200.0)
    assert notices_for(moved_on, moved_on, timeline, events=ALL)[0].dedupe_key != notice.dedupe_key


def test_stuck_episodes_name_their_episode() -> None:
    state = series("downloading", {1: "downloading", 2: "downloading"})
    timeline = [
        entry(
            "stuck_download", source="recovery", request_id=9, season=1, episode=n, detail="0 seeds"
        )
        for n in (1, 2)
    ]
    assert kinds(notices_for(state, state, timeline, events=ALL)) == [("stuck", 1), ("stuck", 2)]


@pytest.mark.parametrize(
    ("event", "kind"),
    [("relinked", "recovered"), ("found_in_library", "recovered"), ("download_missing", "stuck")],
)
def test_recovery_events_map_to_stuck_or_recovered(event: str, kind: str) -> None:
    state = movie("downloading")
    timeline = [entry(event, source="recovery")]
    assert kinds(notices_for(state, state, timeline, events=ALL)) == [(kind, None)]


def test_the_same_event_from_another_source_is_not_recovery() -> None:
    state = movie("downloading")
    assert notices_for(state, state, [entry("relinked", source="api")], events=ALL) == []


def test_the_requester_and_the_jellyfin_item_travel_with_the_notice() -> None:
    after = movie("available", jellyfin_id="abc")
    if "requested_by" in attrs.fields_dict(RequestRow):
        after = RequestState(request=attrs.evolve(after.request, requested_by="Ann"))
    (notice,) = notices_for(movie("importing"), after, [], events=ALL)
    assert notice.jellyfin_id == "abc"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("available,failed,stuck", ("available", "failed", "stuck")),
        ("stuck available", ("available", "stuck")),
        (" Grabbed , DOWNLOADED ", ("grabbed", "downloaded")),
        ("", ()),
    ],
)
def test_event_names_parse_in_any_case_and_separator(text: str, expected: tuple) -> None:
    assert parse_events(text) == expected


def test_unknown_event_names_are_all_named() -> None:
    with pytest.raises(ValueError, match="unknown events bogus, nope"):
        parse_events("available,bogus,nope")
