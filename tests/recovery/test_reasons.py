# ruff: noqa: E501
"""Why an item waits, in words: pure table tests of ``actors.recovery.reasons``."""

from __future__ import annotations

import pytest
from status_tracker.actors.recovery.reasons import (
    Setup,
    download_reason,
    duration_words,
    item_reason,
    problems,
    request_reason,
)

from status_tracker.domain import DownloadRow, EpisodeRow, RequestRow

NOW = 10_000.0
STUCK = 300.0
EVERYTHING = Setup(stuck_after=STUCK)
NOTHING = Setup(
    stuck_after=STUCK, download_client=None, jellyfin=False, shoko=False, sonarr_api=False
)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0, "0 s"), (59.4, "59 s"), (60, "1 min"), (720, "12 min"), (3600, "1 h"), (11100, "3 h 5 min"),
     (3 * 86400, "3 days")],
)  # fmt: skip
def test_durations_read_as_people_say_them(seconds: float, words: str) -> None:
    assert duration_words(seconds) == words


def download(state: str, **fields: object) -> DownloadRow:
    return DownloadRow(hash="ab" * 20, state=state, last_change_at=NOW - 720, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (download("stalled", seeds=0, stalled_since=NOW - 720), "no seeds for 12 min"),
        (download("stalled", seeds=None), "no seeds for 12 min"),
        (
            download("stalled", seeds=3, stalled_since=NOW - 60),
            "stalled for 1 min: 3 seeds connected, nothing arriving",
        ),
        (download("queued"), "queued in qBittorrent"),
        (download("paused"), "paused in qBittorrent"),
        (download("missing"), "gone from qBittorrent"),
        (download("error", client_state="missingFiles"), "qBittorrent reports an error (missingFiles)"),
        (download("downloading", seeds=0), None),
        (download("seeding"), None),
        (download("completed"), None),
    ],
)  # fmt: skip
def test_a_download_that_does_not_move_says_why(row: DownloadRow, reason: str | None) -> None:
    assert download_reason(row, now=NOW) == reason


STALLED = download("stalled", seeds=0, stalled_since=NOW - 720, progress=12.0)


@pytest.mark.parametrize(
    ("state", "waited", "media_type", "row", "matched", "setup", "reason"),
    [
        ("requested", 0, "movie", None, False, EVERYTHING, "waiting for approval in Jellyseerr"),
        ("approved", 10, "movie", None, False, EVERYTHING, None),
        ("approved", 600, "movie", None, False, EVERYTHING, "Radarr has not grabbed a release for 10 min"),
        ("pending", 600, "tv", None, False, EVERYTHING, "Sonarr has not grabbed a release for 10 min"),
        ("grabbing", 0, "tv", None, False, NOTHING, "waiting for qBittorrent — qBittorrent is not configured"),
        ("grabbing", 10, "tv", None, False, EVERYTHING, None),
        ("grabbing", 600, "tv", None, False, EVERYTHING, "qBittorrent has not reported the torrent for 10 min"),
        ("downloading", 10, "tv", STALLED, False, EVERYTHING, "no seeds for 12 min"),
        ("downloading", 10, "tv", download("queued"), False, EVERYTHING, "queued in qBittorrent"),
        ("downloading", 900, "tv", download("downloading", speed=0), False, EVERYTHING, "no progress for 15 min"),
        ("downloaded", 1200, "tv", None, False, EVERYTHING, "Sonarr has not imported it for 20 min"),
        ("importing", 0, "tv", None, False, NOTHING, "waiting for Jellyfin — Jellyfin is not configured"),
        ("importing", 1200, "movie", None, False, EVERYTHING, "Jellyfin has not listed it for 20 min"),
        ("importing", 10, "movie", None, False, EVERYTHING, None),
        ("anime_matching", 0, "tv", None, False, NOTHING, "waiting for Shoko — Shoko is not configured"),
        ("anime_matching", 1200, "tv", None, False, EVERYTHING, "Shoko has not matched it for 20 min"),
        ("anime_matching", 1200, "tv", None, True, EVERYTHING, "Jellyfin has not listed it for 20 min"),
        ("anime_matching", 0, "tv", None, True, NOTHING, "waiting for Jellyfin — Jellyfin is not configured"),
        ("available", 99999, "tv", None, False, NOTHING, None),
        ("failed", 99999, "movie", None, False, NOTHING, None),
    ],
)  # fmt: skip
def test_an_item_says_what_it_waits_for(
    state: str,
    waited: float,
    media_type: str,
    row: DownloadRow | None,
    matched: bool,
    setup: Setup,
    reason: str | None,
) -> None:
    said = item_reason(
        state=state,
        last_change_at=NOW - waited,
        media_type=media_type,
        download=row,
        shoko_matched=matched,
        setup=setup,
        now=NOW,
    )
    assert said == reason


def pack(states: dict[int, str], changed: float = NOW) -> list[EpisodeRow]:
    return [
        EpisodeRow(
            request_id=1,
            season=1,
            episode=n,
            state=state,
            torrent_hash=STALLED.hash,
            last_change_at=changed,
        )
        for n, state in states.items()
    ]


def test_a_tv_request_says_what_holds_back_its_least_advanced_episodes() -> None:
    request = RequestRow(id=1, media_type="tv", title="Horimiya", state="downloading")
    episodes = pack({n: "downloaded" if n <= 6 else "downloading" for n in range(1, 14)})
    said = request_reason(request, episodes, {STALLED.hash: STALLED}, EVERYTHING, now=NOW)
    assert said == "no seeds for 12 min (7 of 13 episodes)"


def test_a_partially_available_request_names_the_seasons_not_known() -> None:
    request = RequestRow(
        id=1,
        media_type="tv",
        title="Link Click",
        state="partially_available",
        requested_seasons=(2, 3),
        known_seasons=(3,),
    )
    episodes = pack({1: "available"})
    assert request_reason(request, episodes, {}, EVERYTHING, now=NOW) == (
        "1 of 1 episodes available; the episodes of season 2 are not known yet"
    )
    known = RequestRow(
        id=1, media_type="tv", title="X", state="partially_available", requested_seasons=(1,),
        known_seasons=(1,),
    )  # fmt: skip
    assert request_reason(known, pack({1: "available", 2: "pending"}), {}, EVERYTHING, now=NOW) == (
        "1 of 2 episodes available; 1 not grabbed yet"
    )


def test_health_problems_count_stuck_items_and_unconfigured_waits_without_titles() -> None:
    stuck_pack = RequestRow(id=1, media_type="tv", title="Horimiya", state="downloading")
    anime = RequestRow(id=2, media_type="movie", title="Violet", state="anime_matching")
    fresh = RequestRow(id=3, media_type="movie", title="Reze", state="downloading", last_change_at=NOW)
    episodes = {1: pack({n: "downloading" for n in range(1, 11)}, changed=NOW - 600)}
    said = problems([stuck_pack, anime, fresh], episodes, Setup(stuck_after=STUCK, shoko=False), now=NOW)
    assert said == [
        "10 items are stuck: no change for 5 min or more",
        "1 item waits for Shoko, which is not configured",
    ]
    assert problems([fresh], {}, EVERYTHING, now=NOW) == []
