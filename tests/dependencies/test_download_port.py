"""A second download client fits the port: an in-memory one drives the poller (virtual time)."""

from __future__ import annotations

import attrs
import trio
import trio.testing
from status_tracker.actors.download_poller import DownloadPoller
from status_tracker.actors.envelope import Deliver
from status_tracker.actors.runtime import Wakeup
from status_tracker.actors.torrent.messages import (
    TorrentNotListed,
    TorrentObserved,
    TorrentVanished,
)
from status_tracker.clients import Download, DownloadFile
from status_tracker.storage import DownloadWatch

from tests.support.fake_download_client import InMemoryDownloadClient

PACK = "9e3d7c1b5a2f4e6d8c0b2a4f6e8d0c2b4a6f8e0d"
GIB = 1024**3
ACTIVE, IDLE = 5.0, 30.0


@attrs.define
class Downloads:
    """The stored download rows, updated from what the poller sends as its TorrentActor would."""

    rows: dict[str, DownloadWatch]
    received: list[tuple[float, str, object]] = attrs.Factory(list)

    async def unfinished_downloads(self) -> list[DownloadWatch]:
        await trio.lowlevel.checkpoint()
        return [r for r in self.rows.values() if r.state not in ("completed", "seeding", "missing")]

    async def wait_available(self) -> None:
        await trio.lowlevel.checkpoint()

    async def send(self, torrent_hash: str, deliver: Deliver) -> None:
        (message,) = deliver.messages
        self.received.append((trio.current_time(), deliver.source, message))
        row = self.rows[torrent_hash]
        if isinstance(message, TorrentObserved):
            self.rows[torrent_hash] = attrs.evolve(
                row,
                name=message.name,
                progress=round(message.progress * 100, 2),
                state=message.state,
                client_state=message.client_state,
                has_files=row.has_files or bool(message.files),
            )
        elif isinstance(message, TorrentVanished):
            self.rows[torrent_hash] = attrs.evolve(row, state="missing")


def watch(
    torrent_hash: str,
    state: str,
    client_state: str | None,
    progress: float,
    *,
    episode_count: int = 0,
) -> DownloadWatch:
    return DownloadWatch(
        hash=torrent_hash,
        name=None,
        progress=progress,
        state=state,
        client_state=client_state,
        episode_count=episode_count,
        has_files=False,
    )


def poller_for(client: InMemoryDownloadClient, store: Downloads, wakeup: Wakeup) -> DownloadPoller:
    return DownloadPoller(
        client=client,  # type: ignore[arg-type]
        store=store,  # type: ignore[arg-type]
        send=store.send,
        active_interval=ACTIVE,
        idle_interval=IDLE,
        wakeup=wakeup,
    )


def files_at(per_file: list[float]) -> list[DownloadFile]:
    return [
        DownloadFile(
            index=index,
            name=f"Show.S01.1080p/Show.S01E{index + 1:02d}.mkv",
            size=GIB,
            progress=progress,
            priority="normal",
        )
        for index, progress in enumerate(per_file)
    ]


def report(client: InMemoryDownloadClient, per_file: list[float]) -> None:
    client.torrents[PACK] = Download(
        hash=PACK,
        name="Show.S01.1080p",
        state="downloading",
        client_state="downloading",
        progress=sum(per_file) / len(per_file),
        size=3 * GIB,
    )
    client.torrent_files[PACK] = files_at(per_file)


def file_progress(message: object) -> list[float] | None:
    assert isinstance(message, TorrentObserved)
    return None if message.files is None else [f.progress for f in message.files]


async def test_an_in_memory_client_drives_the_poller_through_the_port(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client = InMemoryDownloadClient()
    report(client, [0.0, 0.0, 0.0])
    store = Downloads(rows={PACK: watch(PACK, "queued", None, 0.0, episode_count=3)})
    wakeup = Wakeup()
    poller = poller_for(client, store, wakeup)
    async with trio.open_nursery() as nursery:
        await nursery.start(poller.run)
        await trio.sleep(22)
        # The first look finds the pack and lists its files; nothing changes after, nothing is sent.
        assert [(at, source) for at, source, _ in store.received] == [(0.0, "transmission")]
        assert file_progress(store.received[0][2]) == [0.0, 0.0, 0.0]
        assert client.looks == 5, "polled every 5 s while the pack is busy"

        report(client, [1.0, 0.5, 0.0])
        await trio.sleep(5)
        at, _, message = store.received[-1]
        assert at == 25.0
        assert file_progress(message) == [1.0, 0.5, 0.0]
        assert store.rows[PACK].progress == 50.0

        client.down = "unreachable: connection refused"
        await trio.sleep(5)
        status = poller.status()
        assert (status.reachable, status.reason) == (False, "unreachable: connection refused")
        client.down = None

        await client.delete([PACK.upper()], with_files=False)
        wakeup.ring()
        await trio.testing.wait_all_tasks_blocked()
        assert isinstance(store.received[-1][2], TorrentVanished)
        assert store.rows[PACK].state == "missing"
        assert poller.status().reachable is True
        await trio.sleep(ACTIVE + 1)
        assert poller.status().interval == IDLE, "nothing left to watch: poll slowly"
        nursery.cancel_scope.cancel()


FINISHED = "1f" * 20
NEVER = "2e" * 20


@attrs.define
class StoredDownloads(Downloads):
    """Also the stored rows the poller no longer watches (finished ones)."""

    async def load_downloads(self, hashes: list[str]) -> dict[str, DownloadWatch]:
        await trio.lowlevel.checkpoint()
        return {h: self.rows[h] for h in hashes if h in self.rows}

    async def send(self, torrent_hash: str, deliver: Deliver) -> None:
        (message,) = deliver.messages
        if isinstance(message, TorrentNotListed):
            self.received.append((trio.current_time(), deliver.source, message))
            return
        await super().send(torrent_hash, deliver)


async def test_the_poller_tells_of_a_finished_torrent_removed_and_of_one_never_listed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client = InMemoryDownloadClient()
    client.torrents[FINISHED] = Download(
        hash=FINISHED,
        name="Done",
        state="seeding",
        client_state="stalledUP",
        progress=1.0,
        size=GIB,
    )
    store = StoredDownloads(
        rows={
            FINISHED: watch(FINISHED, "seeding", "stalledUP", 100.0),
            NEVER: watch(NEVER, "queued", None, 0.0),
        }
    )
    wakeup = Wakeup()
    poller = poller_for(client, store, wakeup)
    async with trio.open_nursery() as nursery:
        await nursery.start(poller.run)
        await trio.testing.wait_all_tasks_blocked()
        # A claimed torrent qBittorrent does not list is told each look (its actor waits out a
        # grace period); the finished one, not watched, is left alone while qBittorrent has it.
        assert [(type(m).__name__, m.hash) for _, _, m in store.received] == [
            ("TorrentNotListed", NEVER)
        ]
        await client.delete([FINISHED], with_files=False)
        wakeup.ring()
        await trio.testing.wait_all_tasks_blocked()
        assert [(type(m).__name__, m.hash) for _, _, m in store.received][-2:] == [
            ("TorrentVanished", FINISHED),
            ("TorrentNotListed", NEVER),
        ]
        assert store.rows[FINISHED].state == "missing"
        nursery.cancel_scope.cancel()
