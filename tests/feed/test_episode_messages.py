"""Episodes that change together (a pack's, in one commit) go out on the live feed with the
same bytes as when each was described alone, read from the store once for all of them."""

from __future__ import annotations

import json
from typing import Any

import pytest
import trio
from status_tracker.actors.clock import WallClock
from status_tracker.actors.recovery.reasons import Setup
from status_tracker.ingress.http import views
from status_tracker.ingress.http.items import RequestItems
from status_tracker.ingress.http.live_feed import LiveFeed
from status_tracker.storage import (
    SaveArrDownload,
    SaveDownload,
    SaveEpisodes,
    SaveRequest,
    Store,
)

from status_tracker.domain import (
    DownloadLink,
    DownloadRow,
    EpisodeRow,
    RequestRow,
    TorrentFileRow,
)
from status_tracker.domain.links import ServiceAddresses

NOW = 1_700_003_000.0
CHANGED_AT = NOW - 750.0  # 12 min 30 s: reasons in minutes read the same all test long
PACK, OTHER = "ab" * 20, "cd" * 20
SETUP = Setup(stuck_after=300.0)


def show(request_id: int, torrent_hash: str, numbers: range, state: str) -> list[Any]:
    keys = [(1, n) for n in numbers]
    return [
        SaveRequest(
            row=RequestRow(
                id=request_id,
                media_type="tv",
                title=f"Show {request_id}",
                state=state,
                last_change_at=CHANGED_AT,
            )
        ),
        SaveEpisodes(
            rows=tuple(
                EpisodeRow(
                    request_id=request_id,
                    season=season,
                    episode=number,
                    state=state,
                    progress=40.0 + number,
                    torrent_hash=torrent_hash,
                    last_change_at=CHANGED_AT,
                )
                for season, number in keys
            )
        ),
        SaveDownload(
            row=DownloadRow(
                hash=torrent_hash,
                state="stalled",
                seeds=0,
                last_change_at=CHANGED_AT,
                links=(DownloadLink(request_id=request_id, episodes=tuple(keys)),),
                files=tuple(
                    TorrentFileRow(
                        index=n, name=f"E{n:02d}.mkv", size=100 + n, progress=0.4, episodes=(key,)
                    )
                    for n, key in enumerate(keys)
                ),
            )
        ),
    ]


def sonarr_holds(download_id: str) -> SaveArrDownload:
    return SaveArrDownload(
        service="sonarr",
        download_id=download_id.upper(),
        title=None,
        queue_ids=(1,),
        item_ids=(1,),
        tracked_state="importBlocked",
        reason="import blocked: no files found are eligible for import",
        size_left=0.0,
        stalled=False,
        progress_at=CHANGED_AT,
        seen_at=CHANGED_AT,
    )


def encoded(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


async def described_alone(store: Store, items: RequestItems, row: EpisodeRow) -> str:
    """The message as an episode was described on its own: its request, that request's
    downloads and the *arrs' held imports read for it alone."""
    request = await store.load_request(row.request_id)
    assert request is not None
    downloads = await store.downloads_of(request.id)
    episode = views.episode_detail(
        row,
        request,
        {d.hash: d for d in downloads},
        views.episode_sizes(downloads),
        setup=SETUP,
        now=NOW,
        arr_reasons=await items.arr_reasons(),
    )
    return encoded({"type": "episode", "request_id": row.request_id, "episode": episode})


async def test_episodes_changed_together_are_the_same_messages_read_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.commit(
        [
            *show(1, PACK, range(1, 9), "downloading"),
            *show(2, OTHER, range(1, 4), "downloaded"),
            sonarr_holds(OTHER),
        ]
    )
    items = RequestItems(
        store=store, clock=WallClock(NOW), setup=SETUP, addresses=ServiceAddresses()
    )
    changed = [*await store.load_episodes(1), *await store.load_episodes(2)]
    reads = 0
    fetch = store.fetch

    async def counted_fetch(*args: Any, **kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        return await fetch(*args, **kwargs)

    monkeypatch.setattr(store, "fetch", counted_fetch)
    alone = [await described_alone(store, items, row) for row in changed]
    reads_alone, reads = reads, 0

    feed = LiveFeed(describe=items.item, describe_episodes=items.episodes)
    received: list[str] = []
    subscribed, all_sent = trio.Event(), trio.Event()

    async def snapshot() -> dict[str, object]:
        subscribed.set()
        return {"type": "snapshot", "requests": []}

    async def send(text: str) -> None:
        received.append(text)
        if len(received) == 1 + len(changed):
            all_sent.set()

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(feed.serve, snapshot, send)
            await subscribed.wait()
            for row in changed:
                feed.episode_changed(row)
            await all_sent.wait()
            nursery.cancel_scope.cancel()

    assert received[1:] == alone
    assert (reads_alone, reads) == (3 * len(changed), 3), "request, downloads, the *arr queues"
    held = json.loads(received[-1])["episode"]
    assert held["reason"] == "Sonarr: import blocked: no files found are eligible for import"
    first = json.loads(received[1])["episode"]
    assert (first["reason"], first["size"]) == ("no seeds for 12 min", 100)
