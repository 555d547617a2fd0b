"""What a download row says when qBittorrent never had the torrent, removed it after it finished,
or reports a stall: pure rules of ``actors.torrent.state`` and the reasons read from the row."""

from __future__ import annotations

from status_tracker.actors.media_request.transitions import episode_download_target
from status_tracker.actors.recovery.reasons import Setup, download_reason, item_reason
from status_tracker.actors.torrent.messages import (
    DownloadClaimed,
    TorrentNotListed,
    TorrentObserved,
    TorrentVanished,
)
from status_tracker.actors.torrent.state import (
    NOT_REPORTED_GRACE_S,
    STALLED_AFTER_S,
    TorrentDecision,
    decide,
)

from status_tracker.domain import DownloadRow

HASH = "5e" * 20
T0 = 1_000.0


def claimed(at: float = T0) -> DownloadRow:
    decision = decide(None, DownloadClaimed(hash=HASH, request_id=7, name="Movie"), now=at)
    assert decision.row is not None
    return decision.row


def seen(state: str, client_state: str, progress: float, **fields: object) -> TorrentObserved:
    return TorrentObserved(
        hash=HASH,
        name="Movie",
        state=state,
        client_state=client_state,
        progress=progress,
        **fields,  # type: ignore[arg-type]
    )


def apply(row: DownloadRow | None, message: object, at: float) -> TorrentDecision:
    return decide(row, message, now=at)  # type: ignore[arg-type]


# -- a torrent qBittorrent never had -----------------------------------------------------------


def test_a_claimed_torrent_nobody_reported_says_so_never_queued_in_qbittorrent() -> None:
    row = claimed()
    assert (row.state, row.client_state, row.progress) == ("queued", None, 0.0)
    assert download_reason(row, now=T0) == "not reported by qBittorrent yet"
    assert (
        download_reason(row, now=T0, client=None)
        == "nothing is known of it: no download client is configured"
    )


def test_a_torrent_qbittorrent_does_not_list_is_missing_once_the_grace_is_over() -> None:
    row = claimed()
    early = apply(row, TorrentNotListed(hash=HASH), T0 + NOT_REPORTED_GRACE_S - 1)
    assert not early.changed, "an *arr adds it a moment before qBittorrent lists it"
    late = apply(row, TorrentNotListed(hash=HASH), T0 + NOT_REPORTED_GRACE_S)
    assert late.row is not None
    assert (late.row.state, late.row.progress) == ("missing", 0.0)
    assert download_reason(late.row, now=T0) == "qBittorrent does not have this torrent"
    ((request_id, told),) = late.notify
    assert (request_id, told.state) == (7, "missing")
    again = apply(late.row, TorrentNotListed(hash=HASH), T0 + 10 * NOT_REPORTED_GRACE_S)
    assert not again.changed


def test_not_being_listed_says_nothing_of_a_torrent_qbittorrent_reported() -> None:
    row = apply(claimed(), seen("downloading", "downloading", 0.4), T0 + 1).row
    late = apply(row, TorrentNotListed(hash=HASH), T0 + 10 * NOT_REPORTED_GRACE_S)
    assert not late.changed


def test_an_item_grabbing_a_torrent_nobody_reported_waits_then_says_for_how_long() -> None:
    setup = Setup(stuck_after=300.0)
    row = claimed()

    def said(waited: float, download: DownloadRow) -> str | None:
        return item_reason(
            state="grabbing",
            last_change_at=T0,
            media_type="movie",
            download=download,
            shoko_matched=False,
            setup=setup,
            now=T0 + waited,
        )

    assert said(10, row) is None
    assert said(600, row) == "qBittorrent has not reported the torrent for 10 min"
    gone = apply(row, TorrentVanished(hash=HASH), T0 + 600).row
    assert gone is not None
    assert said(600, gone) == "qBittorrent does not have this torrent"


# -- a finished torrent removed from qBittorrent ------------------------------------------------


def test_a_finished_torrent_removed_from_qbittorrent_is_missing_at_100_and_says_so() -> None:
    row = apply(claimed(), seen("seeding", "stalledUP", 1.0, seeds=0, peers=1), T0 + 5).row
    assert row is not None
    decision = apply(row, TorrentVanished(hash=HASH), T0 + 60)
    gone = decision.row
    assert gone is not None
    assert (gone.state, gone.progress, gone.seeds, gone.peers) == ("missing", 100.0, None, None)
    assert download_reason(gone, now=T0 + 60) == "removed from qBittorrent after it finished"
    ((_, told),) = decision.notify
    # It does not hold the request back: what the request reads of it is still "complete".
    target = episode_download_target(
        torrent_state=told.state,
        torrent_progress=told.progress,
        own_progress=None,
        own_complete=False,
    )
    assert target == "downloaded"


def test_an_item_waiting_for_its_import_names_the_removed_torrent_once_stuck() -> None:
    row = apply(claimed(), seen("seeding", "stalledUP", 1.0), T0 + 5).row
    gone = apply(row, TorrentVanished(hash=HASH), T0 + 60).row

    def said(waited: float) -> str | None:
        return item_reason(
            state="downloaded",
            last_change_at=T0,
            media_type="movie",
            download=gone,
            shoko_matched=False,
            setup=Setup(stuck_after=300.0),
            now=T0 + waited,
        )

    assert said(120) is None
    assert said(1200) == (
        "Radarr has not imported it for 20 min; "
        "the torrent was removed from qBittorrent after it finished"
    )


def test_a_torrent_removed_mid_download_is_still_gone() -> None:
    row = apply(claimed(), seen("downloading", "downloading", 0.4), T0 + 5).row
    gone = apply(row, TorrentVanished(hash=HASH), T0 + 60).row
    assert gone is not None
    assert (gone.state, gone.progress) == ("missing", 40.0)
    assert download_reason(gone, now=T0 + 60) == "gone from qBittorrent"


# -- stalls --------------------------------------------------------------------------------------


def test_a_fresh_torrent_qbittorrent_calls_stalled_is_downloading_until_the_stall_lasts() -> None:
    row = claimed()
    first = apply(row, seen("stalled", "stalledDL", 0.0, seeds=0), T0 + 1)
    assert first.row is not None
    assert (first.row.state, first.row.client_state) == ("downloading", "stalledDL")
    assert download_reason(first.row, now=T0 + 2) is None, "not 'no seeds for 0 s'"
    before = apply(first.row, seen("stalled", "stalledDL", 0.0, seeds=0), T0 + STALLED_AFTER_S)
    assert not before.changed
    after = apply(first.row, seen("stalled", "stalledDL", 0.0, seeds=0), T0 + 1 + STALLED_AFTER_S)
    assert after.row is not None
    assert after.row.state == "stalled"
    assert download_reason(after.row, now=T0 + 1 + STALLED_AFTER_S) == "no seeds for 1 min"


def test_progress_during_a_stall_starts_it_again() -> None:
    row = apply(claimed(), seen("stalled", "stalledDL", 0.1, seeds=1), T0).row
    moved = apply(row, seen("stalled", "stalledDL", 0.2, seeds=1), T0 + STALLED_AFTER_S).row
    assert moved is not None
    assert (moved.state, moved.stalled_since) == ("downloading", T0 + STALLED_AFTER_S)
    still = apply(moved, seen("stalled", "stalledDL", 0.2, seeds=1), T0 + 2 * STALLED_AFTER_S)
    assert still.row is not None
    assert still.row.state == "stalled"
