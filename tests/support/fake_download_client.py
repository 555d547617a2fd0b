"""A download client held in memory: a second adapter of the download-client port, for tests."""

from __future__ import annotations

import types
from collections.abc import Iterable

import attrs
import trio
from status_tracker.clients import (
    DependencyHealth,
    Download,
    DownloadFile,
    DownloadsSeen,
    FilePriority,
    ServiceUnavailable,
    TorrentNotFound,
)


@attrs.define
class InMemoryDownloadClient:
    """Torrents and files in dicts; while ``down`` names a reason, every call fails with it."""

    service_name: str = "Transmission"
    source: str = "transmission"
    health: DependencyHealth = attrs.Factory(lambda self: DependencyHealth(self.service_name), True)
    torrents: dict[str, Download] = attrs.Factory(dict)
    torrent_files: dict[str, list[DownloadFile]] = attrs.Factory(dict)
    down: str | None = None
    looks: int = 0
    download_calls: int = 0
    _seen: frozenset[str] = frozenset()

    async def _answer(self) -> None:
        await trio.lowlevel.checkpoint()
        if self.down is not None:
            raise ServiceUnavailable(f"{self.service_name} is down", reason=self.down)

    async def look(self) -> DownloadsSeen:
        await self._answer()
        self.looks += 1
        removed, self._seen = self._seen - self.torrents.keys(), frozenset(self.torrents)
        return DownloadsSeen(downloads=types.MappingProxyType(dict(self.torrents)), removed=removed)

    async def downloads(self, hashes: Iterable[str]) -> dict[str, Download]:
        await self._answer()
        self.download_calls += 1
        wanted = {h.lower() for h in hashes}
        return {h: d for h, d in self.torrents.items() if h in wanted}

    async def files(self, torrent_hash: str) -> list[DownloadFile]:
        await self._answer()
        if torrent_hash.lower() not in self.torrents:
            raise TorrentNotFound(torrent_hash.lower(), service=self.service_name)
        return list(self.torrent_files.get(torrent_hash.lower(), []))

    async def delete(self, hashes: Iterable[str], *, with_files: bool) -> None:
        await self._answer()
        for torrent_hash in hashes:
            self.torrents.pop(torrent_hash.lower(), None)
            self.torrent_files.pop(torrent_hash.lower(), None)

    async def set_file_priority(
        self, torrent_hash: str, indexes: Iterable[int], priority: FilePriority
    ) -> None:
        files = await self.files(torrent_hash)
        chosen = set(indexes)
        self.torrent_files[torrent_hash.lower()] = [
            attrs.evolve(file, priority=priority) if file.index in chosen else file
            for file in files
        ]
