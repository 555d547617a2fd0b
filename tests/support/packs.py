"""The Horimiya season pack's files as qBittorrent reports them, at chosen progress."""

from __future__ import annotations

from status_tracker.actors.torrent.messages import ObservedFile

from tests.support.fixtures import load_fixture

HORIMIYA_FOLDER = "[Judas] Horimiya (Season 1) [1080p][HEVC x265 10bit][Dual-Audio][Multi-Subs]"


def horimiya_files(progress: dict[int, float]) -> tuple[ObservedFile, ...]:
    """The files of the Horimiya season pack, episode ``n`` at ``progress[n]`` (0-1)."""
    sizes = {
        f["index"]: f["size"] for f in load_fixture("qbittorrent/torrents_files_season_pack.json")
    }
    return tuple(
        ObservedFile(
            index=n - 1,
            name=f"{HORIMIYA_FOLDER}/[Judas] Horimiya - S01E{n:02d}.mkv",
            size=sizes[n - 1],
            progress=value,
        )
        for n, value in sorted(progress.items())
    )
