"""The sweeper over hours of virtual time: when it acts, what it records, how often."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import attrs
import trio
import trio.testing
from status_tracker.actors.envelope import Deliver
from status_tracker.actors.media_request.messages import ActionRecorded
from status_tracker.actors.recovery.sweeper import RecoverySweeper
from status_tracker.actors.torrent.messages import TorrentObserved
from status_tracker.clients import Download, DownloadFile
from status_tracker.storage import PostMail, PruneMail

from status_tracker.domain import DownloadLink, DownloadRow, EpisodeRow, RequestRow
from tests.support.fake_download_client import InMemoryDownloadClient

HASH = "ab" * 20
STUCK_AFTER = 300.0
HOUR = 3600.0


@attrs.define
class World:
    """Storage, qBittorrent and Jellyfin as the sweeper sees them, all in memory."""

    requests: list[RequestRow] = attrs.field(factory=list)
    episodes: list[EpisodeRow] = attrs.field(factory=list)
    downloads: dict[str, DownloadRow] = attrs.field(factory=dict)
    qbittorrent: InMemoryDownloadClient = attrs.field(
        factory=lambda: InMemoryDownloadClient(service_name="qBittorrent", source="qbittorrent")
    )
    in_library: set[int] = attrs.field(factory=set)
    notes: list[tuple[float, int, str]] = attrs.field(factory=list)
    observations: list[tuple[float, str]] = attrs.field(factory=list)
    delivered: list[object] = attrs.field(factory=list)
    recorded: list[ActionRecorded] = attrs.field(factory=list)
    posted: list[PostMail] = attrs.field(factory=list)
    pruned_before: list[float] = attrs.field(factory=list)

    async def active_requests(self) -> list[RequestRow]:
        return list(self.requests)

    async def requests_to_check(self, since: float) -> list[RequestRow]:
        return sorted(
            (
                r
                for r in self.requests
                if r.check_requested_at is not None and r.check_requested_at > since
            ),
            key=lambda r: r.check_requested_at or 0.0,
        )

    async def episodes_of(self, request_ids: Sequence[int]) -> list[EpisodeRow]:
        return [e for e in self.episodes if e.request_id in request_ids]

    async def load_downloads(self, hashes: Collection[str]) -> dict[str, DownloadRow]:
        return {h: self.downloads[h] for h in hashes if h in self.downloads}

    async def commit(self, ops: Sequence[PostMail | PruneMail]) -> None:
        for op in ops:
            if isinstance(op, PruneMail):
                self.pruned_before.append(op.before)
            else:
                self.posted.append(op)

    async def call_request(self, request_id: int, deliver: Deliver) -> None:
        for message in deliver.messages:
            assert isinstance(message, ActionRecorded)
            assert deliver.source == "recovery"
            self.notes.append((trio.current_time(), request_id, message.event))
            self.recorded.append(message)

    async def send_torrent(self, torrent_hash: str, deliver: Deliver) -> None:
        self.observations.append((trio.current_time(), torrent_hash))
        self.delivered.extend(deliver.messages)

    async def find_in_library(self, request: RequestRow) -> bool:
        return request.id in self.in_library


def sweeper_for(world: World, *, with_clients: bool = True) -> RecoverySweeper:
    return RecoverySweeper(
        source=world,
        now=trio.current_time,
        call_request=world.call_request,
        send_torrent=world.send_torrent,
        downloads=world.qbittorrent if with_clients else None,  # type: ignore[arg-type]
        find_in_library=world.find_in_library if with_clients else None,
        stuck_after=STUCK_AFTER,
        interval=60.0,
    )


def stalled_movie(changed: float = 0.0) -> RequestRow:
    return RequestRow(
        id=1,
        media_type="movie",
        title="Movie",
        state="downloading",
        download_hash=HASH,
        last_change_at=changed,
    )


def linked_download() -> dict[str, DownloadRow]:
    return {HASH: DownloadRow(hash=HASH, links=(DownloadLink(request_id=1),))}


async def run_for(sweeper: RecoverySweeper, seconds: float) -> None:
    async with trio.open_nursery() as nursery:
        await nursery.start(sweeper.run)
        await trio.sleep(seconds)
        nursery.cancel_scope.cancel()


async def test_a_stalled_download_is_reread_once_per_stuck_period(
    autojump_clock: trio.testing.MockClock,
) -> None:
    world = World(requests=[stalled_movie()], downloads=linked_download())
    world.qbittorrent.torrents[HASH] = Download(
        hash=HASH, name="Movie", state="stalled", client_state="stalledDL", progress=0.42, size=None
    )
    await run_for(sweeper_for(world), 2 * HOUR + 1)
    times = [at for at, _ in world.observations]
    # Sweeps run every 60 s; the item is stuck from 300 s on, and is re-read every 300 s.
    assert times == [300.0 * n for n in range(1, 25)]
    assert {event for _, _, event in world.notes} == {"download_reread"}


async def test_a_torrent_gone_from_the_client_is_looked_for_in_the_library(
    autojump_clock: trio.testing.MockClock,
) -> None:
    world = World(requests=[stalled_movie()], downloads=linked_download())
    await run_for(sweeper_for(world), 301.0)
    assert [event for _, _, event in world.notes] == ["download_missing"]
    world.in_library.add(1)
    await run_for(sweeper_for(world), 301.0)
    assert [event for _, _, event in world.notes][-1] == "found_in_library"


async def test_an_item_that_moves_again_is_left_alone(
    autojump_clock: trio.testing.MockClock,
) -> None:
    world = World(requests=[stalled_movie()], downloads=linked_download())
    sweeper = sweeper_for(world, with_clients=False)
    async with trio.open_nursery() as nursery:
        await nursery.start(sweeper.run)
        await trio.sleep(250.0)
        world.requests = [stalled_movie(changed=trio.current_time())]
        await trio.sleep(300.0)
        assert world.notes == [], "changed at 250 s: not stuck before 550 s"
        await trio.sleep(60.0)
        nursery.cancel_scope.cancel()
    assert world.notes == [(600.0, 1, "stuck_download")]


async def test_pack_episodes_missing_their_link_are_relinked_through_the_torrent_actor(
    autojump_clock: trio.testing.MockClock,
) -> None:
    show = RequestRow(id=1, media_type="tv", title="Show", state="downloading")
    episodes = [
        EpisodeRow(request_id=1, season=1, episode=n, state="downloading", torrent_hash=HASH)
        for n in (1, 2, 3)
    ]
    partial = DownloadRow(hash=HASH, links=(DownloadLink(request_id=1, episodes=((1, 1),)),))
    world = World(requests=[show], episodes=episodes, downloads={HASH: partial})
    await run_for(sweeper_for(world, with_clients=False), 301.0)
    (mail,) = world.posted
    assert mail.target == f"torrent:{HASH}"
    assert mail.kind == "DownloadClaimed"
    assert '"episodes":[[1,2],[1,3]]' in mail.body
    assert "relinked" in [event for _, _, event in world.notes]
    assert world.notes[0][0] == 300.0


async def test_each_sweep_forgets_mail_older_than_twice_the_dedupe_window(
    autojump_clock: trio.testing.MockClock,
) -> None:
    world = World()
    await run_for(sweeper_for(world), 3 * 60.0 + 1)
    assert world.pruned_before == [60.0 - 7200, 120.0 - 7200, 180.0 - 7200]


def horimiya(state: str, changed: float = 0.0) -> tuple[RequestRow, list[EpisodeRow]]:
    show = RequestRow(id=1, media_type="tv", title="Horimiya", state=state)
    episodes = [
        EpisodeRow(
            request_id=1,
            season=1,
            episode=n,
            state=state,
            torrent_hash=HASH,
            last_change_at=changed,
        )
        for n in range(1, 14)
    ]
    return show, episodes


def linked_pack() -> dict[str, DownloadRow]:
    keys = tuple((1, n) for n in range(1, 14))
    return {HASH: DownloadRow(hash=HASH, links=(DownloadLink(request_id=1, episodes=keys),))}


async def test_a_pack_waiting_for_the_library_is_one_entry_not_one_per_episode_per_period(
    autojump_clock: trio.testing.MockClock,
) -> None:
    show, episodes = horimiya("importing")
    world = World(requests=[show], episodes=episodes, downloads=linked_pack())
    await run_for(sweeper_for(world, with_clients=False), 2 * HOUR)
    # Before issue 9: 13 entries every 300 s (312 in two hours).
    assert [(at, event) for at, _, event in world.notes] == [(300.0, "waiting_for_library")]
    (entry,) = world.recorded
    assert entry.episodes == tuple((1, n) for n in range(1, 14))


async def test_the_same_wait_is_written_again_only_when_its_reason_changes(
    autojump_clock: trio.testing.MockClock,
) -> None:
    world = World(requests=[stalled_movie()], downloads=linked_download())
    stalled = Download(
        hash=HASH, name="Movie", state="stalled", client_state="stalledDL", progress=0.42, size=None
    )
    world.qbittorrent.torrents[HASH] = stalled
    sweeper = sweeper_for(world)
    async with trio.open_nursery() as nursery:
        await nursery.start(sweeper.run)
        await trio.sleep(HOUR)
        world.qbittorrent.torrents[HASH] = attrs.evolve(stalled, client_state="pausedDL")
        await trio.sleep(HOUR + 1)
        nursery.cancel_scope.cancel()
    assert len(world.observations) == 24, "still re-read every stuck period"
    details = [entry.detail for entry in world.recorded]
    assert len(details) == 2
    assert "stalledDL" in details[0]
    assert "pausedDL" in details[1]


async def test_a_reread_pack_brings_its_files_so_its_episodes_are_not_stale(
    autojump_clock: trio.testing.MockClock,
) -> None:
    show, episodes = horimiya("downloading")
    world = World(requests=[show], episodes=episodes, downloads=linked_pack())
    world.qbittorrent.torrents[HASH] = Download(
        hash=HASH, name="Pack", state="stalled", client_state="stalledDL", progress=0.3, size=None
    )
    world.qbittorrent.torrent_files[HASH] = [
        DownloadFile(
            index=n - 1, name=f"Pack/Show - {n:02d}.mkv", size=10, progress=0.5, priority="normal"
        )
        for n in range(1, 14)
    ]
    await run_for(sweeper_for(world), 301.0)
    (observed,) = world.delivered
    assert isinstance(observed, TorrentObserved)
    assert observed.files is not None
    assert len(observed.files) == 13
    assert "file progress refreshed (13 files)" in world.recorded[0].detail


async def test_a_reread_answered_for_another_hash_is_not_used(
    autojump_clock: trio.testing.MockClock,
) -> None:
    world = World(requests=[stalled_movie()], downloads=linked_download())
    world.qbittorrent.torrents[HASH] = Download(
        hash="cd" * 20, name="Other", state="downloading", client_state="downloading",
        progress=0.9, size=None,
    )  # fmt: skip
    await run_for(sweeper_for(world), 301.0)
    assert world.delivered == []
    assert [event for _, _, event in world.notes] == ["recovery_deferred"]
    assert "got cdcd" in world.recorded[0].detail


async def test_a_check_asked_for_is_done_within_a_second_stuck_or_not(
    autojump_clock: trio.testing.MockClock,
) -> None:
    world = World(requests=[stalled_movie(changed=0.0)], downloads=linked_download())
    sweeper = sweeper_for(world, with_clients=False)
    async with trio.open_nursery() as nursery:
        await nursery.start(sweeper.run)
        await trio.sleep(10.0)
        world.requests = [attrs.evolve(stalled_movie(), check_requested_at=10.0)]
        await trio.sleep(1.5)
        ((at, _, event),) = world.notes
        assert (event, at <= 11.0) == ("stuck_download", True), "not the 300 s of a stuck item"
        await trio.sleep(5.0)
        nursery.cancel_scope.cancel()
    assert sweeper.status().checks == 1, "each ask is looked at once"


def downloaded_movie() -> RequestRow:
    return RequestRow(
        id=1,
        media_type="movie",
        title="Movie",
        state="downloaded",
        download_hash=HASH,
        last_change_at=0.0,
    )


def downloaded_movie_with_its_torrent_seeding() -> World:
    seeding = DownloadRow(
        hash=HASH,
        state="seeding",
        client_state="stalledUP",
        progress=100.0,
        links=(DownloadLink(request_id=1),),
    )
    return World(requests=[downloaded_movie()], downloads={HASH: seeding})


async def test_a_finished_torrent_removed_before_the_import_is_marked_gone_and_said(
    autojump_clock: trio.testing.MockClock,
) -> None:
    world = downloaded_movie_with_its_torrent_seeding()
    await run_for(sweeper_for(world), 301.0)
    assert [type(m).__name__ for m in world.delivered] == ["TorrentVanished"]
    details = {entry.event: entry.detail for entry in world.recorded}
    assert "torrent removed from qBittorrent after it finished" in details["download_missing"]
    assert "waiting_for_library" in details


async def test_a_finished_torrent_still_in_qbittorrent_is_refreshed_quietly(
    autojump_clock: trio.testing.MockClock,
) -> None:
    world = downloaded_movie_with_its_torrent_seeding()
    world.qbittorrent.torrents[HASH] = Download(
        hash=HASH, name="Movie", state="seeding", client_state="stalledUP", progress=1.0, size=None
    )
    await run_for(sweeper_for(world), 301.0)
    assert [type(m).__name__ for m in world.delivered] == ["TorrentObserved"]
    assert [event for _, _, event in world.notes] == ["waiting_for_library"]


async def test_a_torrent_qbittorrent_never_had_is_marked_gone_and_said_so(
    autojump_clock: trio.testing.MockClock,
) -> None:
    never = DownloadRow(hash=HASH, links=(DownloadLink(request_id=1),))  # claimed, never reported
    world = World(requests=[stalled_movie()], downloads={HASH: never})
    await run_for(sweeper_for(world), 301.0)
    assert [type(m).__name__ for m in world.delivered] == ["TorrentVanished"]
    (entry,) = world.recorded
    assert entry.event == "download_missing"
    assert "qBittorrent does not have the torrent (it never reported it)" in entry.detail
    assert "gone from" not in entry.detail
