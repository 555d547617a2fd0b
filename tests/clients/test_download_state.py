"""Table test of download_state over every qBittorrent 4.x/5.x state word."""

from __future__ import annotations

import pytest
from status_tracker.clients import download_state

STATE_TABLE = [
    # 4.x and 5.x words
    ("error", 0.3, "error"),
    ("missingFiles", 1.0, "missing"),
    ("uploading", 1.0, "seeding"),
    ("queuedUP", 1.0, "seeding"),
    ("stalledUP", 1.0, "seeding"),
    ("checkingUP", 1.0, "seeding"),
    ("forcedUP", 1.0, "seeding"),
    ("downloading", 0.4, "downloading"),
    ("metaDL", 0.0, "downloading"),
    ("forcedMetaDL", 0.0, "downloading"),
    ("queuedDL", 0.0, "queued"),
    ("stalledDL", 0.2, "stalled"),
    ("checkingDL", 0.5, "downloading"),
    ("forcedDL", 0.5, "downloading"),
    ("unknown", 0.5, "error"),
    # 4.x only
    ("pausedUP", 1.0, "completed"),
    ("pausedDL", 0.5, "paused"),
    # 5.x only
    ("stoppedUP", 1.0, "completed"),
    ("stoppedDL", 0.5, "paused"),
    # states a finished torrent passes through too: progress decides
    ("checkingResumeData", 0.0, "downloading"),
    ("checkingResumeData", 1.0, "completed"),
    ("moving", 0.7, "downloading"),
    ("moving", 1.0, "completed"),
    ("allocating", 0.0, "downloading"),
    # a word no version sends
    ("somethingNew", 0.5, "error"),
    ("", 0.0, "error"),
]


@pytest.mark.parametrize(("client_state", "progress", "expected"), STATE_TABLE)
def test_download_state_maps_client_state(
    client_state: str, progress: float, expected: str
) -> None:
    assert download_state(client_state, progress) == expected


def test_table_covers_every_documented_state() -> None:
    documented = {
        "error", "missingFiles", "uploading", "pausedUP", "queuedUP", "stalledUP", "checkingUP",
        "forcedUP", "downloading", "metaDL", "forcedMetaDL", "pausedDL", "queuedDL", "stalledDL",
        "checkingDL", "forcedDL", "checkingResumeData", "moving", "unknown", "allocating",
        "stoppedUP", "stoppedDL",
    }  # fmt: skip
    assert documented <= {client_state for client_state, _, _ in STATE_TABLE}
