"""/health's count of waiting items, read in one query, equals what the pure count gives for
the same requests and episodes (series by their live episodes, the rest by themselves)."""

from __future__ import annotations

import random

from status_tracker.storage import SaveEpisodes, SaveRequest, Store

from status_tracker.domain import ACTIVE_STATES, KNOWN_STATES, EpisodeRow, RequestRow
from tests.support.waiting_items import waiting_items

NOW = 1_700_000_000.0
STUCK = 300.0


def library(seed: int) -> tuple[list[RequestRow], dict[int, list[EpisodeRow]]]:
    """Requests in every state, series with and without episodes, some deleted episodes,
    changes on both sides of the stale line (and on it)."""
    pick = random.Random(seed)
    times = [NOW, NOW - STUCK, NOW - STUCK - 0.5, NOW - 10 * STUCK, NOW - STUCK + 0.5]
    requests, episodes = [], {}
    for request_id in range(100 * seed + 1, 100 * seed + 61):
        media_type = pick.choice(["movie", "tv", "tv"])
        requests.append(
            RequestRow(
                id=request_id,
                media_type=media_type,
                title=f"T{request_id}",
                state=pick.choice(sorted(KNOWN_STATES)),
                last_change_at=pick.choice(times),
                shoko_file_id=pick.choice([None, 7]),
            )
        )
        if media_type == "tv":
            episodes[request_id] = [
                EpisodeRow(
                    request_id=request_id,
                    season=1,
                    episode=number,
                    state=pick.choice([*sorted(KNOWN_STATES), "deleted", "deleted"]),
                    last_change_at=pick.choice(times),
                    shoko_file_id=pick.choice([None, 9]),
                )
                for number in range(1, pick.randint(0, 5) + 1)
            ]
    return requests, episodes


async def test_the_query_counts_what_the_pure_count_counts(store: Store) -> None:
    active: list[RequestRow] = []
    episodes: dict[int, list[EpisodeRow]] = {}
    for seed in range(3):
        requests, more_episodes = library(seed)
        await store.commit(
            [SaveRequest(row=row) for row in requests]
            + [SaveEpisodes(rows=tuple(rows)) for rows in more_episodes.values() if rows]
        )
        active += [row for row in requests if row.state in ACTIVE_STATES]
        episodes |= more_episodes
        expected = waiting_items(active, episodes, stale_before=NOW - STUCK)
        assert await store.waiting_items(stale_before=NOW - STUCK) == expected
    assert sum(group.count for group in expected) > 50, "the library has waiting items"
