"""Requests whose downloads stalled long ago, as the recovery sweeper finds them in the store:
for its tests and its benchmark."""

from __future__ import annotations

from collections.abc import Iterator

import attrs
from status_tracker.storage import SaveDownload, SaveEpisodes, SaveRequest

from status_tracker.domain import DownloadLink, DownloadRow, EpisodeRow, RequestRow


@attrs.frozen(kw_only=True)
class Stalled:
    """One request (a movie, or a series waiting on a season pack) and its stalled download."""

    request: RequestRow
    episodes: tuple[EpisodeRow, ...]
    download: DownloadRow | None

    def ops(self) -> Iterator[SaveRequest | SaveEpisodes | SaveDownload]:
        yield SaveRequest(row=self.request)
        if self.episodes:
            yield SaveEpisodes(rows=self.episodes)
        if self.download is not None:
            yield SaveDownload(row=self.download)


def torrent_hash(number: int) -> str:
    return f"{number:040x}"


def stalled(number: int, *, pack_episodes: int = 0, changed_at: float = 0.0) -> Stalled:
    """Request ``number`` downloading since ``changed_at`` through torrent ``number``, a movie,
    or a season pack of ``pack_episodes`` episodes; its download stalled, with no seeds."""
    keys = tuple((1, n) for n in range(1, pack_episodes + 1))
    request = RequestRow(
        id=number,
        media_type="tv" if keys else "movie",
        title=f"Stalled {number}",
        state="downloading",
        download_hash=None if keys else torrent_hash(number),
        last_change_at=changed_at,
    )
    episodes = tuple(
        EpisodeRow(
            request_id=number,
            season=season,
            episode=episode,
            state="downloading",
            torrent_hash=torrent_hash(number),
            last_change_at=changed_at,
        )
        for season, episode in keys
    )
    download = DownloadRow(
        hash=torrent_hash(number),
        state="stalled",
        seeds=0,
        last_change_at=changed_at,
        links=(DownloadLink(request_id=number, episodes=keys),),
    )
    return Stalled(request=request, episodes=episodes, download=download)
