"""Season packs the tests replay: Horimiya's files as qBittorrent reports them, at chosen
progress, and Lycoris Recoil's episodes as Jellyfin reports them."""

from __future__ import annotations

from status_tracker.actors.torrent.messages import ObservedFile

from tests.support.fixtures import load_fixture
from tests.support.service import RunningService

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


async def lycoris_episodes_added_to_jellyfin(service: RunningService) -> None:
    """Jellyfin reports each of the 13 episodes of Lycoris Recoil's pack on its own.

    Episode ``n`` gets the item id ``f"{n:02d}a1b2c3d4e5f60718293a4b5c6d7e8f"``.
    """
    for episode in load_fixture("captured/sonarr-grab.json")["episodes"]:
        n = episode["episodeNumber"]
        await service.post_fixture(
            "jellyfin/item_added_episode.json",
            Name=episode["title"],
            SeriesName="Lycoris Recoil",
            SeasonNumber=1,
            SeasonNumber00="01",
            EpisodeNumber=n,
            EpisodeNumber00=f"{n:02d}",
            ItemId=f"{n:02d}" + "a1b2c3d4e5f60718293a4b5c6d7e8f",
            Provider_tvdb=str(episode["tvdbId"]),
            Provider_tmdb="",
        )
