"""The batching rule and the words of each message: pure table tests."""

from __future__ import annotations

import pytest
from attrs import evolve
from status_tracker.actors.notification_batches import (
    Queued,
    backoff,
    compose,
    episode_ranges,
    expired,
    group,
    plan,
)

from status_tracker.domain import Notice

WINDOW = 30.0
MAX_WAIT = 300.0


def queued(
    row_id: int,
    created_at: float,
    *,
    request_id: int = 1,
    kind: str = "available",
    episode: int | None = None,
    **fields: object,
) -> Queued:
    notice = Notice(
        request_id=request_id,
        kind=kind,
        media_type="tv" if episode is not None else "movie",
        title="Horimiya" if episode is not None else "Dune",
        year=None if episode is not None else 2021,
        season=1 if episode is not None else None,
        episode=episode,
    )
    return Queued(id=row_id, notice=notice, created_at=created_at, **fields)


@pytest.mark.parametrize(
    ("created", "now", "ready"),
    [
        pytest.param([0.0], 29.9, False, id="within-the-window"),
        pytest.param([0.0], 30.0, True, id="quiet-for-a-window"),
        pytest.param([0.0, 20.0], 40.0, False, id="a-newer-one-extends-the-window"),
        pytest.param([0.0, 20.0], 50.0, True, id="quiet-after-the-newest"),
        pytest.param([float(t) for t in range(0, 300, 20)], 299.0, False, id="still-trickling"),
        pytest.param([float(t) for t in range(0, 300, 20)], 300.0, True, id="max-wait-reached"),
    ],
)
def test_a_group_goes_out_when_quiet_for_a_window_or_after_max_wait(
    created: list[float], now: float, ready: bool
) -> None:
    rows = [queued(i, t, episode=i + 1) for i, t in enumerate(created)]
    result = plan(rows, now=now, window=WINDOW, max_wait=MAX_WAIT)
    assert bool(result.ready) is ready
    if ready:
        (batch,) = result.ready
        assert batch.ids == tuple(range(len(created)))
        assert result.next_due is None
    else:
        assert result.next_due is not None
        assert result.next_due > now


def test_thirteen_episodes_within_the_window_are_one_batch() -> None:
    rows = [queued(n, n * 0.5, episode=n) for n in range(1, 14)]
    (batch,) = plan(rows, now=100.0, window=WINDOW, max_wait=MAX_WAIT).ready
    assert len(batch.rows) == 13


def test_groups_split_by_request_kind_and_delivery_history() -> None:
    rows = [
        queued(1, 0.0, episode=1),
        queued(2, 0.0, episode=2, kind="failed"),
        queued(3, 0.0, request_id=2),
        queued(4, 0.0, episode=3, delivered=frozenset({"abc"}), attempts=1),
        queued(5, 0.0, episode=4),
    ]
    assert [batch.ids for batch in group(rows)] == [(1, 5), (2,), (3,), (4,)]


def test_a_failed_batch_waits_for_its_next_attempt() -> None:
    rows = [queued(1, 0.0, attempts=2, next_attempt_at=100.0)]
    assert plan(rows, now=99.0, window=WINDOW, max_wait=MAX_WAIT).next_due == 100.0
    assert plan(rows, now=100.0, window=WINDOW, max_wait=MAX_WAIT).ready


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [(1, 5.0), (2, 10.0), (3, 20.0), (10, 2560.0), (11, 3600.0), (40, 3600.0)],
)
def test_backoff_doubles_up_to_an_hour(attempts: int, seconds: float) -> None:
    assert backoff(attempts) == seconds


def test_a_batch_is_given_up_after_three_days() -> None:
    (batch,) = group([queued(1, 0.0)])
    assert not expired(batch, now=3 * 24 * 3600.0 - 1)
    assert expired(batch, now=3 * 24 * 3600.0)


@pytest.mark.parametrize(
    ("rows", "title", "body_lines"),
    [
        pytest.param([queued(1, 0.0)], "Dune (2021) is ready", [], id="movie"),
        pytest.param(
            [queued(n, 0.0, episode=n) for n in range(1, 14)],
            "Horimiya S01: 13 episodes ready",
            ["Episodes: S01E01-E13"],
            id="pack",
        ),
        pytest.param([queued(1, 0.0, episode=2)], "Horimiya S01E02 is ready", [], id="one-episode"),
        pytest.param(
            [queued(1, 0.0, episode=1, kind="stuck"), queued(2, 0.0, episode=3, kind="stuck")],
            "Horimiya S01: 2 episodes stuck",
            ["Episodes: S01E01, S01E03"],
            id="stuck-episodes",
        ),
        pytest.param([queued(1, 0.0, kind="failed")], "Dune (2021) failed", [], id="failed"),
    ],
)
def test_message_titles(rows: list[Queued], title: str, body_lines: list[str]) -> None:
    (batch,) = group(rows)
    message = compose(batch)
    assert message.title == title
    assert message.kind == rows[0].notice.kind
    for line in body_lines:
        assert line in message.body.splitlines()
    assert message.body
    assert message.link is None


def test_a_message_names_the_reason_the_requester_and_links() -> None:
    row = queued(1, 0.0, kind="failed")
    notice = row.notice
    row = evolve(
        row,
        notice=evolve(notice, detail="no release found", requested_by="Ann", jellyfin_id="j1"),
    )
    (batch,) = group([row])
    message = compose(
        batch, dashboard_url="https://tracker.example/", jellyfin_url="https://jf.example"
    )
    assert message.body.splitlines() == [
        "Reason: no release found",
        "Requested by Ann",
        "Dashboard: https://tracker.example/#open=1",
        "Jellyfin: https://jf.example/web/index.html#/details?id=j1",
    ]
    assert message.link == "https://tracker.example/#open=1"


@pytest.mark.parametrize(
    ("episodes", "text"),
    [
        ([(1, 1)], "S01E01"),
        ([(1, 1), (1, 2), (1, 3)], "S01E01-E03"),
        ([(1, 1), (1, 3), (2, 1), (2, 2)], "S01E01, S01E03, S02E01-E02"),
    ],
)
def test_episode_ranges(episodes: list[tuple[int, int]], text: str) -> None:
    assert episode_ranges(episodes) == text
