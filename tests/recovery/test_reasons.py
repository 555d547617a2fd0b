# ruff: noqa: E501
"""Why an item waits, in words: pure table tests of ``actors.recovery.reasons``."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from status_tracker.actors.recovery.reasons import (
    Setup,
    arr_reasons,
    download_reason,
    duration_words,
    episode_reason,
    item_reason,
    problems,
    request_reason,
)

from status_tracker.domain import (
    KNOWN_STATES,
    STATE_RANK,
    DownloadRow,
    EpisodeRow,
    RequestRow,
    WaitingItems,
)
from tests.support.waiting_items import waiting_items

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
        (download("queued", client_state="queuedDL"), "queued in qBittorrent"),
        (download("paused"), "paused in qBittorrent"),
        (download("missing", client_state="downloading", progress=40.0), "gone from qBittorrent"),
        # Claimed, never reported: qBittorrent said nothing of it, so the row says nothing of it.
        (download("queued"), "not reported by qBittorrent yet"),
        (download("missing"), "qBittorrent does not have this torrent"),
        (download("missing", client_state="stalledUP", progress=100.0), "removed from qBittorrent after it finished"),
        (download("error", client_state="missingFiles"), "qBittorrent reports an error (missingFiles)"),
        (download("downloading", seeds=0), None),
        (download("seeding"), None),
        (download("completed"), None),
    ],
)  # fmt: skip
def test_a_download_that_does_not_move_says_why(row: DownloadRow, reason: str | None) -> None:
    assert download_reason(row, now=NOW) == reason


def test_with_no_download_client_a_download_claims_nothing_of_qbittorrent() -> None:
    said = download_reason(download("queued"), now=NOW, client=None)
    assert said == "nothing is known of it: no download client is configured"


STALLED = download("stalled", seeds=0, stalled_since=NOW - 720, progress=12.0)
REMOVED = download("missing", client_state="stalledUP", progress=100.0)


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
        ("downloading", 10, "tv", download("queued", client_state="queuedDL"), False, EVERYTHING, "queued in qBittorrent"),
        ("grabbing", 10, "tv", download("queued"), False, EVERYTHING, None),
        ("grabbing", 600, "tv", download("queued"), False, EVERYTHING, "qBittorrent has not reported the torrent for 10 min"),
        ("grabbing", 10, "tv", download("missing"), False, EVERYTHING, "qBittorrent does not have this torrent"),
        ("downloaded", 120, "movie", REMOVED, False, EVERYTHING, None),
        ("downloaded", 1200, "movie", REMOVED, False, EVERYTHING, "Radarr has not imported it for 20 min; the torrent was removed from qBittorrent after it finished"),
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
    fresh = RequestRow(
        id=3, media_type="movie", title="Reze", state="downloading", last_change_at=NOW
    )
    episodes = {1: pack({n: "downloading" for n in range(1, 11)}, changed=NOW - 600)}
    setup = Setup(stuck_after=STUCK, shoko=False)
    items = waiting_items([stuck_pack, anime, fresh], episodes, stale_before=NOW - STUCK)
    assert problems(items, setup, now=NOW) == [
        "10 items are stuck: no change for 5 min or more",
        "1 item waits for Shoko, which is not configured",
    ]
    fresh_items = waiting_items([fresh], {}, stale_before=NOW - STUCK)
    assert problems(fresh_items, EVERYTHING, now=NOW) == []


def test_health_counts_a_series_by_its_live_episodes_and_a_movie_by_itself() -> None:
    series = RequestRow(id=1, media_type="tv", title="X", state="downloading", last_change_at=NOW)
    movie = RequestRow(id=2, media_type="movie", title="Y", state="importing", shoko_file_id=4)
    episodes = {1: [*pack({1: "downloading", 2: "deleted"}), *pack({3: "importing"}, changed=NOW)]}
    assert waiting_items([series, movie], episodes, stale_before=NOW - STUCK) == [
        WaitingItems(
            media_type="movie", state="importing", shoko_matched=True, stale=True, count=1
        ),
        WaitingItems(
            media_type="tv", state="downloading", shoko_matched=False, stale=False, count=1
        ),
        WaitingItems(media_type="tv", state="importing", shoko_matched=False, stale=False, count=1),
    ]


# -- what Sonarr and Radarr say while they hold an import back -------------------------------------

BLOCKED = "import blocked: One or more episodes expected in this release were not imported"


@attrs.frozen
class Queued:
    service: str
    download_id: str
    tracked_state: str | None
    reason: str | None


@pytest.mark.parametrize(
    ("record", "said"),
    [
        (Queued("sonarr", "AB" * 20, "importBlocked", BLOCKED), f"Sonarr: {BLOCKED}"),
        (Queued("radarr", "ab" * 20, "importPending", "import pending: Not enough free space"),
         "Radarr: import pending: Not enough free space"),
        (Queued("sonarr", "ab" * 20, "failedPending", "failed pending: Aborted"), "Sonarr: failed pending: Aborted"),
        (Queued("sonarr", "ab" * 20, "downloading", "The download is stalled with no connections"), None),
        (Queued("sonarr", "ab" * 20, "importing", "importing"), None),
        (Queued("sonarr", "ab" * 20, "importBlocked", None), None),
    ],
)  # fmt: skip
def test_the_arrs_words_count_while_they_hold_an_import_back(
    record: Queued, said: str | None
) -> None:
    assert arr_reasons([record]).get("ab" * 20) == said


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        ("grabbing", f"Sonarr: {BLOCKED}"),
        ("downloading", f"Sonarr: {BLOCKED}"),
        ("downloaded", f"Sonarr: {BLOCKED}"),
        ("importing", "Jellyfin has not listed it for 20 min"),
        ("available", None),
        ("deleted", None),
    ],
)  # fmt: skip
def test_an_item_not_imported_yet_says_what_the_arr_says(state: str, reason: str | None) -> None:
    said = item_reason(
        state=state,
        last_change_at=NOW - 1200,
        media_type="tv",
        download=STALLED,
        shoko_matched=False,
        setup=EVERYTHING,
        now=NOW,
        arr=f"Sonarr: {BLOCKED}",
    )
    assert said == reason


def test_the_arrs_words_reach_the_episodes_the_download_and_the_request() -> None:
    held = arr_reasons([Queued("sonarr", STALLED.hash, "importBlocked", BLOCKED)])
    request = RequestRow(id=1, media_type="tv", title="Sherlock", state="downloaded")
    episodes = pack({1: "importing", 2: "importing", 3: "downloaded"})
    downloads = {STALLED.hash: STALLED}
    said = [
        episode_reason(e, request, downloads, EVERYTHING, now=NOW, arr_reasons=held)
        for e in episodes
    ]
    assert said == [None, None, f"Sonarr: {BLOCKED}"]
    assert request_reason(request, episodes, downloads, EVERYTHING, now=NOW, arr_reasons=held) == (
        f"Sonarr: {BLOCKED} (1 of 3 episodes)"
    )
    assert download_reason(STALLED, now=NOW, arr=held[STALLED.hash]) == f"Sonarr: {BLOCKED}"
    # Without the *arr's words, the tracker's own reasons stand.
    assert request_reason(request, episodes, downloads, EVERYTHING, now=NOW) is None
    assert download_reason(STALLED, now=NOW) == "no seeds for 12 min"


def test_a_movie_radarr_holds_back_says_so() -> None:
    held = arr_reasons([Queued("radarr", STALLED.hash, "importPending", "import pending: x")])
    movie = RequestRow(
        id=2, media_type="movie", title="Dune", state="downloaded", download_hash=STALLED.hash
    )
    assert request_reason(movie, [], {}, EVERYTHING, now=NOW, arr_reasons=held) == (
        "Radarr: import pending: x"
    )


@given(
    state=st.sampled_from(KNOWN_STATES),
    waited=st.floats(0, 10 * 86400),
    media_type=st.sampled_from(["movie", "tv"]),
    words=st.text(min_size=1, max_size=40),
)
def test_the_arrs_words_are_only_ever_the_reason_of_an_item_waiting_for_its_import(
    state: str, waited: float, media_type: str, words: str
) -> None:
    kwargs = {
        "state": state,
        "last_change_at": NOW - waited,
        "media_type": media_type,
        "download": STALLED,
        "shoko_matched": False,
        "setup": EVERYTHING,
        "now": NOW,
    }
    with_words = item_reason(**kwargs, arr=f"Sonarr: {words}")  # type: ignore[arg-type]
    waiting_for_import = (
        STATE_RANK["grabbing"] <= STATE_RANK.get(state, 99) < STATE_RANK["importing"]
    )
    if waiting_for_import:
        assert with_words == f"Sonarr: {words}"
    else:
        assert with_words == item_reason(**kwargs)  # type: ignore[arg-type]
